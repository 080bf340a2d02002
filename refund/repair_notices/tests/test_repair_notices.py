"""信用修复提示: the latest screening's taxpayers that failed only on their rating, with the refund B would unlock
(the screening's what-if); listed after each ratings import and on demand, sent once per taxpayer and screening."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from credit.signals import ratings_imported
from notify.models import InboxNotification, SmsMessage
from refund import tasks
from refund.models import RepairNotice
from refund.repair_notices.services import repair_notices_list, repair_notices_send
from refund.screening.explanation import what_if_rated_in_run
from refund.tests.candidates import screened
from refund.tests.credit_loop import REPAIRED_ON, rated_taxpayer
from taxpayers.models import ComplianceRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening(org):
    """2026-03-10: a C taxpayer failing only on its rating (branch A), a D one (branch B), a C one that also
    enjoyed 即征即退, an A one that is eligible, and a C one without a mobile number."""
    c = rated_taxpayer(org["branch_a"], "C", name="城东修复建筑有限公司", legal_rep_mobile="13900001111")
    d = rated_taxpayer(org["branch_b"], "D", name="城西建筑有限公司", legal_rep_mobile="13900002222")
    also = rated_taxpayer(org["branch_a"], "C")
    ComplianceRecord.objects.create(
        taxpayer=also, kind=ComplianceRecord.Kind.IMMEDIATE_REFUND, occurred_on=dt.date(2024, 5, 1)
    )
    rated_taxpayer(org["branch_a"], "A")
    silent = rated_taxpayer(org["branch_a"], "C", legal_rep_mobile="", tax_handler_mobile="")
    run = screened(day=REPAIRED_ON)
    return {"run": run, "c": c, "d": d, "also": also, "silent": silent}


def test_the_taxpayers_failing_only_on_their_rating_are_listed_with_what_b_would_unlock(screening, personas):
    run = screening["run"]

    outcome = repair_notices_list(actor=None)

    assert (outcome.run, outcome.added, outcome.listed) == (run, 3, 3)
    notices = {n.taxpayer_id: n for n in RepairNotice.objects.all()}
    assert set(notices) == {screening["c"].pk, screening["d"].pk, screening["silent"].pk}
    for taxpayer_id, notice in notices.items():
        what_if = what_if_rated_in_run(run=run, taxpayer_id=taxpayer_id, credit_level="B")
        assert what_if.eligible and notice.refundable_if_b == what_if.refundable_total > 0
        assert notice.regime_if_b == what_if.regime
        assert notice.listed_by is None and notice.sent_at is None
    assert (notices[screening["c"].pk].level, notices[screening["d"].pk].level) == ("C", "D")
    event = AuditEvent.objects.get(verb="repair_notices_list")
    assert event.actor is None and "新增 3 户" in event.summary
    told = InboxNotification.objects.get()
    assert told.user == personas["service_officer"] and "新增 3 户" in told.title

    again = repair_notices_list(actor=personas["refund_officer"])

    assert (again.added, again.listed) == (0, 3)
    assert RepairNotice.objects.count() == 3 and InboxNotification.objects.count() == 1


def test_each_taxpayer_is_sent_one_notice_per_screening(screening, personas):
    repair_notices_list(actor=None)
    officer = personas["service_officer"]

    outcome = repair_notices_send(actor=officer, notices=RepairNotice.objects.all())

    assert (outcome.enqueued, outcome.unreachable, outcome.skipped) == (2, 1, 0)
    sent = RepairNotice.objects.get(taxpayer=screening["c"])
    message = sent.sms
    assert message.recipient == "13900001111" and message.template.code == "refund_repair_notice"
    assert "城东修复建筑有限公司" in message.text and "C级" in message.text
    assert f"{sent.refundable_if_b:,.2f}" in message.text
    assert message.idempotency_key == f"refund-repair-notice:{screening['run'].pk}:{screening['c'].pk}"
    assert message.created_by == officer and sent.sent_at is not None
    silent = RepairNotice.objects.get(taxpayer=screening["silent"])
    assert silent.sms is None and "手机号码" in silent.send_error
    assert AuditEvent.objects.get(verb="repair_notices_send").actor == officer

    twice = repair_notices_send(actor=officer, notices=RepairNotice.objects.all())

    assert (twice.enqueued, twice.unreachable, twice.skipped) == (0, 0, 3)
    assert SmsMessage.objects.count() == 2


def test_a_ratings_import_asks_a_worker_to_list(monkeypatch, django_capture_on_commit_callbacks):
    asked = []
    monkeypatch.setattr(tasks.list_repair_notices, "delay", lambda: asked.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        ratings_imported.send(sender=None, import_id=1)
    assert asked == [True]


def test_the_list_task_does_nothing_without_a_screening():
    tasks.list_repair_notices()
    assert not RepairNotice.objects.exists()


def test_the_page_filters_exports_and_sends_with_a_confirmation(screening, client_for):
    refund_officer, service = client_for("refund_officer"), client_for("service_officer")
    empty = refund_officer.get(reverse("refund:repair_notices"))
    assert empty.status_code == 200 and "仅因纳税信用级别不符合的纳税人" in empty.content.decode()

    built = refund_officer.post(reverse("refund:repair_notices_build"))
    assert built.status_code == 302 and RepairNotice.objects.count() == 3

    page = service.get(reverse("refund:repair_notices"), {"level": "D"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "城西建筑有限公司" in html and "城东修复建筑有限公司" not in html
    amount = RepairNotice.objects.get(taxpayer=screening["d"]).refundable_if_b
    assert f"{amount:,.2f}" in html
    assert "发送提示短信（1 户）" in html

    export = service.get(reverse("refund:repair_notices_export"), {"level": "D"})
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("纳税人识别号", "纳税人名称", "主管税务机关") and len(rows) == 2
    assert rows[1][1] == "城西建筑有限公司" and Decimal(str(rows[1][5])) == amount

    confirm = service.get(reverse("refund:repair_notices_send"), {"level": "D"})
    assert confirm.status_code == 200 and "确认发送 1 条" in confirm.content.decode()
    assert not SmsMessage.objects.exists()  # the confirmation sends nothing

    sent = service.post(reverse("refund:repair_notices_send") + "?level=D")
    assert sent.status_code == 302 and "level=D" in sent["Location"]
    assert list(SmsMessage.objects.values_list("recipient", flat=True)) == ["13900002222"]
