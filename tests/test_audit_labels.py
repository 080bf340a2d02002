"""The audit log speaks Chinese for every verb, object and change the product records.

Cross-app: the verbs are read from every app's source, and refund's workflow verbs from its ``ACTION_LABELS``.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.audit import record_event
from accounts.audit_labels import VERBS, change_rows, verb_label
from accounts.services import SECOND_PERSON_VERBS
from refund.applications.workflow import ACTION_LABELS

VERB_LITERAL = re.compile(r"""verb=["']([a-z_]+)["']""")


def _product_sources():
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        parts = path.relative_to(settings.BASE_DIR).parts
        if parts[0] in (".venv", "node_modules", "var", "bench") or "tests" in parts or "migrations" in parts:
            continue
        yield path


def test_every_verb_the_code_records_has_a_chinese_label():
    written = {verb for path in _product_sources() for verb in VERB_LITERAL.findall(path.read_text())}
    written |= {f"refund_application_{action}" for action in ACTION_LABELS}  # the workflow's f-string verb
    written |= set(SECOND_PERSON_VERBS)  # the two-person rule's, written from a prefix
    assert len(written) > 25  # the scan finds the services' verbs
    missing = sorted(verb for verb in written if verb not in VERBS)
    assert not missing, f"verbs without a label in the audit log: {missing}"
    assert verb_label("refund_application_approve") == "审批通过"


def test_change_rows_name_fields_keys_and_choices():
    rows = change_rows(
        "refund.refundapplication",
        {"state": ["received", "investigating"], "reason": "补充资料"},
    )
    assert rows == [("状态", "已受理", "调查核实"), ("原因", None, "补充资料")]
    # A key that is a reverse relation of the model (the crash of the audit page) and a list of ids.
    rows = change_rows("refund.candidatelist", {"items": list(range(1, 13)), "users": [6, 7], "count": 12})
    assert rows == [("涉及记录", None, "1、2、3、4、5 等 12 项"), ("通知用户", None, "6、7"), ("条数", None, 12)]


@pytest.mark.django_db
def test_audit_page_with_the_demos_kinds_of_event(client_for, personas):
    with transaction.atomic():
        record_event(
            actor=personas["refund_officer"],
            verb="candidate_remind",
            object_type="refund.candidatelist",
            object_id="1",
            changes={"enqueued": 3, "unreachable": 0, "items": [1, 2, 3], "count": 3},
        )
        record_event(actor=None, verb="demo_history_seeded", object_type="ledger.demo", summary="生成演示历史")
    for url in (reverse("accounts:audit_list"), reverse("accounts:audit_export")):
        response = client_for("supervisor").get(url)
        assert response.status_code == 200, url
    html = client_for("admin").get(reverse("accounts:audit_list")).content.decode()
    shown = ("发送提醒短信", "进入发件箱：</span>— → 3", "涉及记录：</span>— → 1、2、3", "生成演示历史", "演示数据")
    for text in shown:
        assert text in html
    # The codes stay in the filter's option values only, never in what is shown.
    assert ">candidate_remind" not in html and "ledger.demo<" not in html and "· ledger.demo" not in html
