"""``manage.py taxpayer_case``: the explanation page's case as JSON, so that
``taxpayer_case X P | refund_assess -`` reproduces the page (proved on demo-county taxpayers in
``demo/tests/test_case_on_county.py``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.periods import Period
from refund.rules import case_to_json
from refund.screening import case_builder

from ...tests import screening_data as sd

pytestmark = pytest.mark.django_db

PERIOD, DATE = "2026-03", dt.date(2026, 3, 15)
FIGURES = (
    "current_credit",
    "base_credit",
    "incremental_credit",
    "stock_credit",
    "refundable_incremental",
    "refundable_stock",
    "refundable_total",
)


def taxpayer_case(*args: str) -> str:
    out = io.StringIO()
    call_command("taxpayer_case", *args, stdout=out)
    return out.getvalue()


def refund_assess(case_json: str, tmp_path) -> dict:
    """The public command on the JSON, as a shell pipe would run it (exit 2 for an unusable case)."""
    path = tmp_path / "case.json"
    path.write_text(case_json, encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("refund_assess", str(path), "--trace", stdout=out)
    except SystemExit as exc:
        assert exc.code == 2
    return json.loads(out.getvalue())


def test_prints_the_contract_json_of_the_taxpayer(org):
    taxpayer = sd.immediate_refund_taxpayer(org["branch_a"])
    printed = json.loads(taxpayer_case(taxpayer.identifier.lower(), "2026-03", "--date", "2026-03-10"))
    assert printed == case_to_json(
        case_builder.taxpayer_case(
            taxpayer_id=taxpayer.pk, application_period=Period(2026, 3), application_date=dt.date(2026, 3, 10)
        )
    )
    assert printed["compliance"]["immediate_refund_since_2019_04"] is True
    assert printed["application_date"] == "2026-03-10"
    what_if = json.loads(
        taxpayer_case(taxpayer.identifier, "2026-03", "--credit-level", "C", "--immediate-repaid",
                      "--option", "class3_ratio_start=2019_04")
    )
    assert what_if["taxpayer"]["credit_level"] == "C"
    assert what_if["compliance"]["immediate_refund_repaid"] is True
    assert what_if["options"] == {"class3_ratio_start": "2019_04"}
    assert what_if["application_date"] == "2026-03-01"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["91330106MA0000000X", "2026-03"], "没有识别号为 91330106MA0000000X 的纳税人。"),
        (["{id}", "2026-3"], "所属期“2026-3”无效，应为 YYYY-MM"),
        (["{id}", "2026-03", "--date", "2026-04-01"], "--date 2026-04-01 不在申请退税所属期 2026-03 内。"),
        (["{id}", "2026-03", "--date", "2026-02-30"], "不是有效日期"),
        (["{id}", "2026-03", "--option", "window_reuse_2025=maybe"], "选项 window_reuse_2025 的取值“maybe”无效"),
        (["{id}", "2026-03", "--option", "colour=red"], "名称可选：small_micro_after_2022"),
    ],
)
def test_bad_arguments_are_refused_in_chinese(org, args, message):
    taxpayer = sd.eligible_taxpayer(org["branch_a"])
    with pytest.raises(CommandError, match=re.escape(message)):
        taxpayer_case(*(a.replace("{id}", taxpayer.identifier) for a in args))
