"""One rule for a claimed refund on every way an application arrives: an absurd claim (≤ 0, above a money field's
limit, above the taxpayer's 期末留抵税额 of the tax period) is refused beside the claim; a claim that differs from
the rules' amount is received with the difference in words, never as a subtraction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from refund.applications.claims import CLAIM_LIMIT, claim_difference, claim_refusal
from refund.applications.imports import ApplicationImportRejected, applications_import_xlsx
from refund.applications.services import ClaimRefused
from refund.applications.tests.test_application_imports import workbook
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, receive

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# eligible_taxpayer: 期末留抵税额 of 2026-02 (the tax period of a 2026-03 application) 6,000,000.00; the rules
# give 1,200,000.00 for "both".
ABOVE_CREDIT = "超过该纳税人2026年02月的期末留抵税额 6,000,000.00 元；退税额不能超过期末留抵税额，请核对金额和单位。"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


# --- the rule -----------------------------------------------------------------------------------------------------


def test_the_difference_in_words_with_separators_and_share():
    assert (
        claim_difference(Decimal("100000000.00"), Decimal("13420146.20"))
        == "申请退税额比测算可退税额多 86,579,853.80 元（+645.1%）"
    )
    assert claim_difference(Decimal("1110000.00"), Decimal("1200000.00")) == (
        "申请退税额比测算可退税额少 90,000.00 元（-7.5%）"
    )
    assert claim_difference(Decimal("500.00"), Decimal("0.00")) == (
        "申请退税额比测算可退税额多 500.00 元（测算可退税额为 0 元）"
    )
    assert claim_difference(Decimal("1200000.00"), Decimal("1200000.00")) == ""
    assert claim_difference(Decimal("1200000.00"), None) == ""  # the rules gave no amount


@pytest.mark.parametrize(
    ("claimed", "end_credit", "reason"),
    [
        ("0", None, "申请退税额必须大于 0 元。"),
        ("-5", None, "申请退税额必须大于 0 元。"),
        ("100000000000000.00", None, "超过金额上限 99,999,999,999,999.99 元"),
        (
            "99999999999.00",
            "13645125.29",
            "申请退税额 99,999,999,999.00 元超过该纳税人2026年02月的期末留抵税额 13,645,125.29 元",
        ),
        ("13645125.30", "13645125.29", "期末留抵税额 13,645,125.29 元"),
        ("13645125.29", "13645125.29", ""),
        ("1.00", None, ""),
        (str(CLAIM_LIMIT), None, ""),
    ],
)
def test_what_is_refused(claimed, end_credit, reason):
    refusal = claim_refusal(
        Decimal(claimed), end_credit=None if end_credit is None else Decimal(end_credit), tax_period="2026-02"
    )
    assert (reason in refusal) if reason else refusal == ""


# --- the service (every path) -------------------------------------------------------------------------------------


def test_the_service_refuses_a_claim_above_the_tax_periods_credit(personas, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    with pytest.raises(ClaimRefused) as refused:
        receive(personas["refund_officer"], taxpayer, claimed=Decimal("99999999999.00"))
    assert ABOVE_CREDIT in refused.value.message and refused.value.extra == {"field": "claimed_amount"}
    assert not RefundApplication.objects.exists()
    # Up to the credit is received (the gate returns it for verification, since the rules give less).
    assert receive(personas["refund_officer"], taxpayer, claimed=Decimal("6000000.00")).pk


def test_a_taxpayer_without_the_tax_periods_return_is_not_refused_for_the_credit(personas, org):
    taxpayer = eligible_taxpayer(org["branch_a"], with_february=False)
    application = receive(personas["refund_officer"], taxpayer, claimed=Decimal("99999999999.00"))
    assert application.computed_amount is None and application.state == "returned"  # the rules cannot assess it


# --- 登记申请 -----------------------------------------------------------------------------------------------------


def _entry(taxpayer, claimed: str) -> dict:
    return {
        "identifier": taxpayer.identifier,
        "application_period": "2026-03",
        "kind": "both",
        "claimed_amount": claimed,
        "received_on": "2026-03-10",
        "document_number": "SQ-CLAIM-1",
    }


@pytest.mark.parametrize(
    ("claimed", "reason"),
    [
        ("99999999999", f"申请退税额 99,999,999,999.00 元{ABOVE_CREDIT}"),
        ("0", "申请退税额必须大于 0 元。"),
        ("100000000000000", "申请退税额 100,000,000,000,000.00 元超过金额上限 99,999,999,999,999.99 元"),
    ],
)
def test_entry_refuses_an_absurd_claim_beside_the_field_and_keeps_the_input(client_for, org, claimed, reason):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(reverse("refund:application_new"), _entry(taxpayer, claimed))
    assert response.status_code == 400
    form = response.context["form"]
    assert reason in form.errors["claimed_amount"][0]
    assert not form.non_field_errors()
    html = response.content.decode()
    assert f'name="claimed_amount" value="{claimed}"' in html
    assert html.index('name="claimed_amount"') < html.index(reason.split("，")[0]) < html.index('name="received_on"')
    assert not RefundApplication.objects.exists()


def test_entry_of_a_claim_that_differs_warns_with_the_difference_in_words(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    client = client_for("refund_officer")
    response = client.post(reverse("refund:application_new"), _entry(taxpayer, "1300000.00"), follow=True)
    html = response.content.decode()
    application = RefundApplication.objects.get()
    assert application.claimed_amount == Decimal("1300000.00") and application.computed_amount == Decimal("1200000")
    assert '<div class="alert alert-success' not in html  # not a green 已登记
    assert "申请退税额比测算可退税额多 100,000.00 元（+8.3%），确认前请核实" in html
    assert "受理时风险扫描发现疑点，已回退调查核实" in html
    assert '<p class="small text-danger mb-2" id="claim-difference">' in html  # and on the application's page
    assert "相差" not in html  # the difference in words, not "相差 1,300,000.00 − 1,200,000.00"


def test_entry_of_the_computed_amount_is_a_plain_green_received(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse("refund:application_new"), _entry(taxpayer, "1200000.00"), follow=True
    )
    html = response.content.decode()
    assert f"已登记 {taxpayer.name} 2026年03月的留抵退税申请。" in html and "alert-success" in html
    assert 'id="claim-difference"' not in html


# --- the import -------------------------------------------------------------------------------------------------


def test_the_import_gives_a_row_and_column_error_for_an_absurd_claim(personas, org):
    good = eligible_taxpayer(org["branch_a"], identifier="91330106MA00090017")
    absurd = eligible_taxpayer(org["branch_a"], identifier="91330106MA0009002A")
    file = workbook(
        [
            ["SQ-1", good.identifier, "2026-03", "增量和存量", "1200000.00", "2026-03-10"],
            ["SQ-2", absurd.identifier, "2026-03", "增量和存量", "99999999999", "2026-03-10"],
            ["SQ-3", good.identifier[:-1] + "X", "2026-03", "增量和存量", "0", "2026-03-10"],
        ]
    )
    with pytest.raises(ApplicationImportRejected) as rejected:
        applications_import_xlsx(actor=personas["refund_officer"], file=file)
    errors = {(e.row, e.column): e for e in rejected.value.errors}
    assert errors[(4, "申请退税额")].reason == "申请退税额必须大于 0 元。"  # refused while reading the file
    assert not RefundApplication.objects.exists()

    file = workbook(
        [
            ["SQ-1", good.identifier, "2026-03", "增量和存量", "1200000.00", "2026-03-10"],
            ["SQ-2", absurd.identifier, "2026-03", "增量和存量", "99999999999", "2026-03-10"],
        ]
    )
    with pytest.raises(ApplicationImportRejected) as rejected:
        applications_import_xlsx(actor=personas["refund_officer"], file=file)
    (error,) = rejected.value.errors
    assert (error.row, error.column, error.value) == (3, "申请退税额", "99999999999.00")
    assert error.reason == f"申请退税额 99,999,999,999.00 元{ABOVE_CREDIT}"
    assert not RefundApplication.objects.exists()  # all or nothing


def test_the_import_warns_of_a_claim_that_differs(personas, org):
    taxpayer = eligible_taxpayer(org["branch_a"], identifier="91330106MA00090017")
    file = workbook([["SQ-1", taxpayer.identifier, "2026-03", "增量和存量", "1110000.00", "2026-03-10"]])
    summary = applications_import_xlsx(actor=personas["refund_officer"], file=file)
    assert len(summary.created) == 1
    assert (
        f"第 2 行（{taxpayer.name}）：申请退税额比测算可退税额少 90,000.00 元（-7.5%），确认前请核实。"
        in summary.warnings
    )


# --- the API ----------------------------------------------------------------------------------------------------


def _api_body(taxpayer, claimed: str) -> dict:
    return {
        "taxpayer_identifier": taxpayer.identifier,
        "application_period": "2026-03",
        "kind": "both",
        "claimed_amount": claimed,
        "received_on": "2026-03-10",
        "document_number": "SQ-API-CLAIM",
    }


@pytest.mark.parametrize(
    ("claimed", "reason"),
    [("99999999999.00", ABOVE_CREDIT), ("0", "申请退税额必须大于 0 元。")],
)
def test_the_api_refuses_an_absurd_claim_with_a_chinese_400(client_for, org, claimed, reason):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse("api:refund-application-list"), _api_body(taxpayer, claimed), content_type="application/json"
    )
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "claim_refused" and data["field"] == "claimed_amount" and reason in data["message"]
    assert not RefundApplication.objects.exists()


def test_the_api_refuses_an_amount_beyond_the_money_limit_in_chinese(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse("api:refund-application-list"),
        _api_body(taxpayer, "100000000000000.00"),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "超过金额上限 99,999,999,999,999.99 元" in str(response.json())


def test_the_api_states_the_difference_of_a_received_claim(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse("api:refund-application-list"), _api_body(taxpayer, "1300000.00"), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["claim_difference"] == "申请退税额比测算可退税额多 100,000.00 元（+8.3%）"


def test_a_claim_with_more_digits_than_an_amount_has_is_a_field_error_not_a_crash(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    client = client_for("refund_officer")
    huge = "1" + "0" * 30
    response = client.post(reverse("refund:application_new"), _entry(taxpayer, huge))
    assert response.status_code == 400
    assert response.context["form"].errors["claimed_amount"] == ["金额过大，请确认金额的单位是“元”。"]
    response = client.post(
        reverse("api:refund-application-list"), _api_body(taxpayer, huge), content_type="application/json"
    )
    assert response.status_code == 400 and response.json() == {"claimed_amount": ["金额过大，请确认金额的单位是“元”。"]}
    with pytest.raises(ClaimRefused, match="过大"):
        receive(None, taxpayer, claimed=Decimal(huge))
    assert not RefundApplication.objects.exists()
