"""Each indicator fires on a crafted case and stays silent on a clean one, set-based over every taxpayer and
narrowed to one taxpayer (the on-demand path), on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from risk.indicators import INDICATORS, Family, operations
from risk.indicators.base import median_sql
from risk.models import IndicatorParameterVersion, RiskHit, Severity
from taxpayers.models import ComplianceRecord, Taxpayer

from .builders import (
    application,
    assert_fires_only_on,
    fired,
    months,
    rating,
    returned_on,
    taxpayer,
    vat_return,
)
from .test_invoice_indicators import INVOICE_CODES

pytestmark = pytest.mark.django_db


def test_the_library_covers_the_six_families_with_chinese_definitions():
    assert len(INDICATORS) >= 24
    families = {indicator.family for indicator in INDICATORS.values()}
    assert families == set(Family.values)
    for indicator in INDICATORS.values():
        assert indicator.severity in Severity.values
        assert indicator.title and indicator.description and not indicator.title.isascii()
        for parameter in indicator.parameters:
            parameter.parse(parameter.default)  # every default is a valid value
        assert all(label and not label.isascii() for _, label in indicator.evidence)
    # Every code fits the columns that store it (a hit of a longer code would fail the whole scan).
    stored = {RiskHit._meta.get_field("indicator_code"), IndicatorParameterVersion._meta.get_field("indicator_code")}
    assert all(len(code) <= field.max_length for code in INDICATORS for field in stored)


def test_input_surge():
    risky, clean = taxpayer(), taxpayer()
    for tp, recent in ((risky, "200000"), (clean, "60000")):
        for period in months("2025-06", "2025-11"):
            vat_return(tp, period, sales="500000", input_tax="50000")
        for period in months("2025-12", "2026-02"):
            vat_return(tp, period, sales="500000", input_tax=recent)
    evidence = assert_fires_only_on("OPS_INPUT_SURGE", risky, clean)
    assert evidence == {"recent_input": "600000.00", "base_input": "300000.00"}
    # A stricter ratio (5 times) leaves the risky one silent too.
    assert risky.pk not in fired("OPS_INPUT_SURGE", ratio="5")


def test_sales_falling_while_input_rises():
    risky, clean = taxpayer(), taxpayer()
    for tp, recent_sales in ((risky, "500000"), (clean, "1000000")):
        for period in months("2025-03", "2025-08"):
            vat_return(tp, period, sales="1000000", input_tax="100000")
        for period in months("2025-09", "2026-02"):
            vat_return(tp, period, sales=recent_sales, input_tax="150000")
    evidence = assert_fires_only_on("OPS_SALES_DOWN_INPUT_UP", risky, clean)
    assert evidence["recent_sales"] == "3000000.00" and evidence["before_sales"] == "6000000.00"
    assert evidence["recent_input"] == "900000.00" and evidence["before_input"] == "600000.00"


def test_zero_declarations_with_a_growing_credit():
    risky, clean = taxpayer(), taxpayer()
    for tp, sales in ((risky, "0"), (clean, "300000")):
        vat_return(tp, "2025-08", sales="300000", end_credit="100000")
        for step, period in enumerate(months("2025-09", "2026-02"), start=1):
            vat_return(tp, period, sales=sales, input_tax="20000", end_credit=str(100000 + step * 20000))
    evidence = assert_fires_only_on("OPS_ZERO_DECLARATION", risky, clean)
    assert evidence == {
        "zero_months": 6,
        "credit_start": "100000.00",
        "credit_end": "220000.00",
        "credit_growth": "120000.00",
    }


def test_credit_grown_sharply_in_six_months():
    risky, clean = taxpayer(), taxpayer()
    vat_return(risky, "2025-08", end_credit="500000")
    vat_return(risky, "2026-02", end_credit="2000000")
    vat_return(clean, "2025-08", end_credit="500000")
    vat_return(clean, "2026-02", end_credit="600000")
    evidence = assert_fires_only_on("OPS_CREDIT_GROWN", risky, clean)
    assert evidence == {"credit_start": "500000.00", "credit_end": "2000000.00", "credit_growth": "1500000.00"}


def test_tax_burden_far_below_the_industrys_median(monkeypatch):
    risky, clean = taxpayer(industry_code="C3411"), taxpayer(industry_code="C3412")
    vat_return(risky, "2025-10", sales="1000000", tax_payable="9000")  # 0.90%
    vat_return(clean, "2025-10", sales="1000000", tax_payable="9100")  # 0.91%
    for tax in ("20000", "30000", "40000", "50000", "60000"):  # the median of the seven: 3%
        vat_return(taxpayer(industry_code="C3499"), "2025-10", sales="1000000", tax_payable=tax)
    vat_return(taxpayer(industry_code="F5124"), "2025-10", sales="1000000", tax_payable="0")  # another industry
    evidence = assert_fires_only_on("OPS_LOW_TAX_BURDEN", risky, clean)
    assert evidence == {
        "industry": "C34",
        "sales": "1000000.00",
        "tax": "9000.00",
        "burden_pct": "0.90",
        "median_pct": "3.00",
        "peers": 7,
    }
    assert fired("OPS_LOW_TAX_BURDEN", min_peers="8") == {}
    # SQLite's path (the middle rows by rank) gives the same hits as percentile_cont.
    monkeypatch.setattr(operations, "median_sql", functools.partial(median_sql, vendor="sqlite"))
    assert fired("OPS_LOW_TAX_BURDEN") == {risky.pk: evidence}


def test_industry_share_near_the_fifty_percent_line():
    risky, clean, unsplit = taxpayer(), taxpayer(), taxpayer(industry_code="C3411")
    vat_return(risky, "2025-10", sales="1000000", by_industry={"C3411": "520000", "F5124": "480000"})
    vat_return(clean, "2025-10", sales="1000000", by_industry={"C3411": "900000", "F5124": "100000"})
    vat_return(unsplit, "2025-10", sales="1000000")  # all in the registered manufacturing industry: 100%
    evidence = assert_fires_only_on("POL_INDUSTRY_SHARE", risky, clean)
    assert evidence == {"listed_sales": "520000.00", "total_sales": "1000000.00", "share_pct": "52.00"}
    assert unsplit.pk not in fired("POL_INDUSTRY_SHARE")
    assert risky.pk not in fired("POL_INDUSTRY_SHARE", band_pct="1")


def test_industry_changed_since_an_earlier_application():
    risky, clean = taxpayer(industry_code="F5124"), taxpayer(industry_code="C3411")
    application(risky, received_on=dt.date(2025, 10, 9), industry_code="C3411")
    application(clean, received_on=dt.date(2025, 10, 9), industry_code="C3411")
    evidence = assert_fires_only_on("POL_INDUSTRY_CHANGED", risky, clean)
    assert evidence == {"earlier_industry": "C3411", "earlier_received_on": "2025-10-09", "industry_code": "F5124"}


def test_immediate_refund_history():
    risky, clean = taxpayer(), taxpayer()
    kind = ComplianceRecord.Kind.IMMEDIATE_REFUND
    ComplianceRecord.objects.create(
        taxpayer=risky, kind=kind, occurred_on=dt.date(2025, 1, 15), document_number="即退1", amount="30000"
    )
    ComplianceRecord.objects.create(
        taxpayer=clean, kind=kind, occurred_on=dt.date(2020, 1, 15), document_number="即退2"
    )
    evidence = assert_fires_only_on("POL_IMMEDIATE_REFUND", risky, clean)
    assert evidence == {
        "enjoyed_count": 1,
        "enjoyed_amount": "30000.00",
        "latest_enjoyed_on": "2025-01-15",
        "repaid_count": 0,
    }


def test_focus_industry():
    risky, clean = taxpayer(industry_code="F5124"), taxpayer(industry_code="C3411")
    assert assert_fires_only_on("POL_FOCUS_INDUSTRY", risky, clean) == {"industry_code": "F5124"}
    assert risky.pk not in fired("POL_FOCUS_INDUSTRY", sections="A")


def test_rating_reached_by_repair_shortly_before_applying():
    risky, clean = taxpayer(), taxpayer()
    for tp, repaired_on in ((risky, dt.date(2026, 2, 1)), (clean, dt.date(2025, 6, 1))):
        rating(tp, year=2024, level="C", on=dt.date(2025, 4, 20))
        rating(tp, year=2024, level="B", on=repaired_on, basis="repaired")
    evidence = assert_fires_only_on("CRD_REPAIRED_BEFORE", risky, clean)
    assert evidence == {"level": "B", "basis": "repaired", "effective_on": "2026-02-01"}


def test_low_rating_in_recent_years():
    risky, clean = taxpayer(), taxpayer()
    rating(risky, year=2024, level="D", on=dt.date(2025, 4, 20))
    rating(clean, year=2024, level="B", on=dt.date(2025, 4, 20))
    assert assert_fires_only_on("CRD_LOW_RATING", risky, clean) == {"low_level": "D", "low_year": 2024}


def test_amount_corrected_by_an_officer():
    risky, clean = taxpayer(), taxpayer()
    app = application(
        risky,
        received_on=dt.date(2026, 1, 8),
        computed_amount="100000",
        confirmed_amount="90000",
        correction_reason="核减进项转出",
    )
    application(clean, received_on=dt.date(2026, 1, 8), computed_amount="100000", confirmed_amount="100000")
    evidence = assert_fires_only_on("CTL_AMOUNT_CORRECTED", risky, clean)
    assert evidence == {
        "application_id": app.pk,
        "computed_amount": "100000.00",
        "confirmed_amount": "90000.00",
        "correction_reason": "核减进项转出",
    }


def test_repeated_returns_and_refusals():
    risky, clean = taxpayer(), taxpayer()
    first = application(risky, received_on=dt.date(2025, 9, 8), state="rejected")
    returned_on(first, dt.date(2025, 9, 20), to_state="rejected")
    second = application(risky, received_on=dt.date(2025, 11, 10), state="returned")
    returned_on(second, dt.date(2025, 11, 20))
    once = application(clean, received_on=dt.date(2025, 11, 10), state="returned")
    returned_on(once, dt.date(2025, 11, 20))
    evidence = assert_fires_only_on("CTL_REPEATED_RETURNS", risky, clean)
    assert evidence["returned_count"] == 2 and evidence["latest_returned_at"].startswith("2025-11-20")


def test_applications_made_again_after_returns():
    risky, clean = taxpayer(), taxpayer()
    for tp in (risky, clean):
        first = application(tp, received_on=dt.date(2025, 6, 2), state="returned")
        returned_on(first, dt.date(2025, 6, 10))
    second = application(risky, received_on=dt.date(2025, 7, 1), state="rejected")
    returned_on(second, dt.date(2025, 7, 10), to_state="rejected")
    application(risky, received_on=dt.date(2025, 8, 1))
    application(clean, received_on=dt.date(2025, 7, 1))  # made again once: not yet a pattern
    evidence = assert_fires_only_on("CTL_REAPPLIED", risky, clean)
    assert evidence == {"reapplied_count": 2, "latest_received_on": "2025-08-01"}
    assert clean.pk in fired("CTL_REAPPLIED", min_count="1")


def test_large_refund():
    risky, clean = taxpayer(), taxpayer()
    app = application(risky, received_on=dt.date(2026, 2, 9), claimed="6000000")
    application(clean, received_on=dt.date(2026, 2, 9), claimed="1000000")
    evidence = assert_fires_only_on("CTL_LARGE_REFUND", risky, clean)
    assert evidence == {"application_id": app.pk, "refund_amount": "6000000.00"}


def test_mobile_shared_with_an_abnormal_or_d_rated_taxpayer():
    risky, linked_to_d, clean = taxpayer(), taxpayer(), taxpayer()
    abnormal = taxpayer(status=Taxpayer.Status.ABNORMAL, finance_contact_mobile=risky.legal_rep_mobile)
    d_rated = taxpayer(tax_handler_mobile=linked_to_d.finance_contact_mobile)
    rating(d_rated, year=2024, level="D", on=dt.date(2025, 4, 20))
    taxpayer(legal_rep_mobile=clean.legal_rep_mobile)  # shared with a normal, unrated taxpayer: not a finding
    evidence = assert_fires_only_on("ABN_SHARED_WITH_RISKY", risky, clean)
    assert evidence == {"risky_count": 1, "mobile": risky.legal_rep_mobile, "other_identifier": abnormal.identifier}
    assert fired("ABN_SHARED_WITH_RISKY", taxpayer_ids=[linked_to_d.pk])[linked_to_d.pk]["other_identifier"] == (
        d_rated.identifier
    )
    # A D rating that takes effect after the day does not count yet.
    assert linked_to_d.pk not in fired("ABN_SHARED_WITH_RISKY", as_of=dt.date(2025, 4, 19))


def test_mobile_shared_by_many_taxpayers():
    risky, clean = taxpayer(), taxpayer()
    for _ in range(3):
        taxpayer(tax_handler_mobile=risky.finance_contact_mobile)
    taxpayer(tax_handler_mobile=clean.finance_contact_mobile)
    evidence = assert_fires_only_on("ABN_SHARED_MOBILE", risky, clean)
    assert evidence == {"others_count": 3, "mobile": risky.finance_contact_mobile}


def test_wrongdoing_records():
    risky, clean = taxpayer(), taxpayer()
    kind = ComplianceRecord.Kind.FALSE_SPECIAL_INVOICE
    ComplianceRecord.objects.create(taxpayer=risky, kind=kind, occurred_on=dt.date(2025, 5, 1), document_number="罚1")
    ComplianceRecord.objects.create(taxpayer=clean, kind=kind, occurred_on=dt.date(2020, 5, 1), document_number="罚2")
    evidence = assert_fires_only_on("ABN_WRONGDOING", risky, clean)
    assert evidence == {"record_count": 1, "latest_on": "2025-05-01"}


def test_new_taxpayer_with_a_large_credit():
    risky, clean = taxpayer(registered_on=dt.date(2025, 6, 1)), taxpayer(registered_on=dt.date(2025, 6, 1))
    old = taxpayer(registered_on=dt.date(2020, 6, 1))
    vat_return(risky, "2026-01", end_credit="1000000")
    vat_return(clean, "2026-01", end_credit="999999.99")
    vat_return(old, "2026-02", end_credit="5000000")
    evidence = assert_fires_only_on("ABN_NEW_TAXPAYER_CREDIT", risky, clean)
    assert evidence == {"registered_on": "2025-06-01", "end_credit": "1000000.00"}
    assert old.pk not in fired("ABN_NEW_TAXPAYER_CREDIT")


def test_every_indicator_has_a_test_here():
    tested = {
        "OPS_INPUT_SURGE", "OPS_SALES_DOWN_INPUT_UP", "OPS_ZERO_DECLARATION", "OPS_CREDIT_GROWN",
        "POL_INDUSTRY_SHARE", "POL_INDUSTRY_CHANGED", "POL_IMMEDIATE_REFUND", "POL_FOCUS_INDUSTRY",
        "CRD_REPAIRED_BEFORE", "CRD_LOW_RATING", "CTL_AMOUNT_CORRECTED", "CTL_REPEATED_RETURNS",
        "CTL_LARGE_REFUND", "ABN_SHARED_WITH_RISKY", "ABN_SHARED_MOBILE", "ABN_WRONGDOING",
        "OPS_LOW_TAX_BURDEN", "CTL_REAPPLIED", "ABN_NEW_TAXPAYER_CREDIT",
    }  # fmt: skip
    assert set(INDICATORS) == tested | INVOICE_CODES
