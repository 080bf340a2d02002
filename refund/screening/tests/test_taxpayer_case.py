"""``manage.py taxpayer_case``: the explanation page's case as JSON, so that
``taxpayer_case X P | refund_assess -`` reproduces the page — proved on demo-county taxpayers."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.money import format_yuan
from core.periods import Period
from refund.screening.case_builder import taxpayer_case_json
from refund.screening.decisions import decide
from refund.tests import screening_data as sd
from taxpayers import demo
from taxpayers.management.commands.seed_demo import seed_demo_county
from taxpayers.models import Taxpayer, VatReturn

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
    assert printed == taxpayer_case_json(
        taxpayer_id=taxpayer.pk, application_period=Period(2026, 3), application_date=dt.date(2026, 3, 10)
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


@pytest.fixture
def county(db):
    """A small demo county whose last filed period is 2026-02, and a taxpayer missing that return."""
    seed_demo_county(demo.DemoParams(taxpayers=60, seed=5, today=DATE))
    decisions = {}
    for taxpayer in Taxpayer.objects.filter(general_taxpayer_since__isnull=False).order_by("identifier"):
        decisions[taxpayer.pk] = decide(
            taxpayer_case_json(taxpayer_id=taxpayer.pk, application_period=Period(2026, 3), application_date=DATE)
        )
    eligible = next(pk for pk, d in decisions.items() if d.get("eligible"))
    ineligible = next(pk for pk, d in decisions.items() if "error" not in d and not d["eligible"] and d["regime"])
    errors = [pk for pk, d in decisions.items() if "error" in d]
    if not errors:
        broken = next(pk for pk in decisions if pk not in (eligible, ineligible))
        VatReturn.objects.filter(taxpayer_id=broken, period__gte="2025-12").delete()
        errors = [broken]
    picked = {"eligible": eligible, "ineligible": ineligible, "error": errors[0]}
    return {key: Taxpayer.objects.get(pk=pk) for key, pk in picked.items()}


def page_figures(page: str) -> dict[str, str]:
    return {
        name: html_lib.unescape(value)
        for name, value in re.findall(r'data-figure="(\w+)">([^<]*)<', page)
    }


@pytest.mark.parametrize("kind", ["eligible", "ineligible", "error"])
def test_page_figures_equal_refund_assess_on_the_printed_case(county, kind, tmp_path):
    taxpayer = county[kind]
    client = Client()
    client.force_login(User.objects.get(username="refund"))
    url = reverse("refund:taxpayer_explain", args=[taxpayer.pk])
    response = client.get(url, {"period": PERIOD, "date": DATE.isoformat()})
    page = response.content.decode()

    assessed = refund_assess(taxpayer_case(taxpayer.identifier, PERIOD, "--date", DATE.isoformat()), tmp_path)
    assert response.context["explanation"].decision == assessed
    assert "manage.py" not in page and "taxpayer_case" not in page  # the command is for the information centre

    if kind == "error":
        assert "error" in assessed
        assert html_lib.escape(assessed["message"]) in page
        return
    assert assessed["eligible"] is (kind == "eligible")
    shown = page_figures(page)
    for name in FIGURES:
        expected = format_yuan(assessed[name]) if assessed[name] is not None else "—"
        assert shown[name] == expected, name
    assert f'id="refundable-total">{format_yuan(assessed["refundable_total"])}<' in page
    for condition in assessed["conditions"]:
        assert html_lib.escape(condition["detail"]) in page
        assert f'data-code="{condition["code"]}" data-passed="{str(condition["passed"]).lower()}"' in page
    for line in assessed["trace"]:
        assert html_lib.escape(line) in page


def test_what_if_equals_refund_assess_with_the_changed_case(county, tmp_path):
    taxpayer = county["eligible"]
    client = Client()
    client.force_login(User.objects.get(username="refund"))
    url = reverse("refund:what_if", args=[taxpayer.pk])
    response = client.get(
        url, {"period": PERIOD, "date": DATE.isoformat(), "credit_level": "C"}, HTTP_HX_REQUEST="true"
    )
    assessed = refund_assess(
        taxpayer_case(taxpayer.identifier, PERIOD, "--date", DATE.isoformat(), "--credit-level", "C"), tmp_path
    )
    assert response.context["what_if"].decision == assessed
    assert assessed["eligible"] is False
    rows = {row["key"]: row for row in response.context["comparison"]}
    assert rows["refundable_total"]["hypothetical"] == format_yuan(assessed["refundable_total"])
