"""The one writer of a case as the contract's JSON (``case_to_json``) and the parser agree: a case written and read
back is the same case — every case of the golden and example files, and generated ones; and a case built in
process is refused for a bad value exactly as its JSON is (``validated_case``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.periods import Period
from refund.rules import CaseError, case_to_json, parse_case, validated_case
from refund.rules.inputs import (
    Adjustments,
    Case,
    Compliance,
    InputTax,
    PreviousRefund,
    SizeInputs,
    Taxpayer,
    VatReturn,
)
from refund.rules.options import OPTION_SPECS, Options
from refund.rules.parameters import VOUCHER_KINDS
from refund.tests.builders import load


def _parsed(data: dict) -> Case:
    return parse_case(json.loads(json.dumps(data), parse_float=Decimal))


def _inputs() -> list[tuple[str, dict]]:
    golden = [(entry["id"], entry["input"]) for entry in load("golden_cases.json")["cases"]]
    examples = [(entry["id"], entry["input"]) for entry in load("refund-examples.json")]
    return [(name, data) for name, data in golden + examples if isinstance(data, dict)]


def _readable(data: dict) -> bool:
    try:
        _parsed(data)
    except CaseError:
        return False
    return True


FILE_CASES = [(name, data) for name, data in _inputs() if _readable(data)]


def test_the_files_have_cases_to_read():
    assert len(FILE_CASES) >= 30


@pytest.mark.parametrize(("name", "data"), FILE_CASES, ids=[name for name, _ in FILE_CASES])
def test_every_file_case_reads_back_as_written(name, data):
    case = _parsed(data)
    assert parse_case(case_to_json(case)) == case
    assert _parsed(case_to_json(case)) == case  # through JSON text too


def test_the_written_form_is_the_stored_snapshot_form():
    case = Case(
        application_period=Period(2026, 3),
        application_date=dt.date(2026, 3, 10),
        taxpayer=Taxpayer(
            "A",
            general_taxpayer_since=dt.date(2015, 6, 1),
            industry_code="C3411",
            sales_12m_by_industry=(("C3411", Decimal("1200.50")),),
            size_inputs=SizeInputs(industry="industry", prev_year_vat_sales=Decimal("30000000.00")),
        ),
        compliance=Compliance(tax_evasion_penalty_dates=(dt.date(2024, 1, 2),)),
        returns=(
            VatReturn(Period(2019, 3), Decimal("100.00")),
            VatReturn(Period(2026, 2), Decimal("5500000.00"), InputTax(special_invoice=Decimal("300000.00"))),
        ),
        adjustments=Adjustments(Decimal("0.00"), Decimal("0.00")),
        previous_refunds=(PreviousRefund(Period(2025, 4), None, "stock", Decimal("1000.00")),),
        options=Options.of({"class3_ratio_start": "prior_year_january"}),
    )
    assert case_to_json(case) == {
        "application_period": "2026-03",
        "application_date": "2026-03-10",
        "taxpayer": {
            "credit_level": "A",
            "filing_frequency": "monthly",
            "general_taxpayer_since": "2015-06-01",
            "industry_code": "C3411",
            "size_inputs": {"industry": "industry", "prev_year_vat_sales": "30000000.00"},
            "sales_12m_by_industry": {"C3411": "1200.50"},
        },
        "compliance": {
            "refund_fraud_or_false_invoice_dates": [],
            "tax_evasion_penalty_dates": ["2024-01-02"],
            "immediate_refund_since_2019_04": False,
            "immediate_refund_repaid": False,
        },
        "returns": [
            {"period": "2019-03", "end_credit": "100.00", "input_tax": {}},
            {"period": "2026-02", "end_credit": "5500000.00", "input_tax": {"special_invoice": "300000.00"}},
        ],
        "adjustments": {"approved_unbooked_export_refund": "0.00", "vat_arrears": "0.00"},
        "previous_refunds": [{"application_period": "2025-04", "regime": None, "kind": "stock", "amount": "1000.00"}],
        "options": {"class3_ratio_start": "prior_year_january"},
    }
    without_tax_return = Case(Period(2026, 3), dt.date(2026, 3, 1), Taxpayer("B"))
    assert case_to_json(without_tax_return)["adjustments"] == {}  # as the builder wrote it: no return, no adjustments
    assert "options" not in case_to_json(without_tax_return)


# --- generated cases -------------------------------------------------------------------------------------------

periods = st.builds(Period, st.integers(2018, 2028), st.integers(1, 12))
amounts = st.one_of(
    st.integers(0, 10**13).map(lambda cents: Decimal(cents).scaleb(-2)),
    st.integers(0, 10**6).map(Decimal),
    st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
)
days = st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31))
input_taxes = st.fixed_dictionaries({}, optional=dict.fromkeys(VOUCHER_KINDS, amounts)).map(
    lambda values: InputTax(**values)
)


@st.composite
def cases(draw) -> Case:
    period = draw(periods)
    size = draw(st.sampled_from([None, "micro", "small", "medium", "large"]))
    size_inputs = None
    if size is None and draw(st.booleans()):
        size_inputs = SizeInputs(
            industry=draw(st.sampled_from([None, "industry", "retail", "other"])),
            prev_year_vat_sales=draw(st.none() | amounts),
            prev_year_months_operated=draw(st.none() | st.integers(0, 12)),
            total_assets_prev_year_end=draw(st.none() | amounts),
        )
    sales = draw(st.dictionaries(st.sampled_from(["C3411", "E4710", "F5123", "K7010"]), amounts, max_size=3))
    taxpayer = Taxpayer(
        credit_level=draw(st.sampled_from(["A", "B", "M", "C", "D"])),
        filing_frequency=draw(st.sampled_from(["monthly", "quarterly"])),
        general_taxpayer_since=draw(st.none() | days),
        industry_code=draw(st.sampled_from([None, "C3411", "E4710", "K7010"])),
        sales_12m_by_industry=tuple(sorted(sales.items())),
        size=size,
        size_inputs=size_inputs,
    )
    returns = draw(st.dictionaries(periods, st.tuples(amounts, input_taxes), max_size=6))
    refunds = draw(
        st.lists(
            st.builds(
                PreviousRefund,
                periods,
                st.sampled_from([None, "CN-2019-39"]),
                st.sampled_from(["incremental", "stock"]),
                amounts,
            ),
            max_size=3,
        )
    )
    options = draw(st.dictionaries(st.sampled_from(sorted(OPTION_SPECS)), st.just(""), max_size=3))
    return Case(
        application_period=period,
        application_date=period.first_day + dt.timedelta(days=draw(st.integers(0, 27))),
        taxpayer=taxpayer,
        compliance=Compliance(
            tuple(sorted(draw(st.lists(days, max_size=2)))),
            tuple(sorted(draw(st.lists(days, max_size=2)))),
            draw(st.booleans()),
            draw(st.booleans()),
        ),
        returns=tuple(VatReturn(p, credit, inputs) for p, (credit, inputs) in sorted(returns.items())),
        adjustments=Adjustments(draw(amounts), draw(amounts)),
        previous_refunds=tuple(sorted(refunds, key=lambda r: (r.application_period, r.kind))),
        options=Options.of({name: OPTION_SPECS[name].default for name in options}),
    )


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_generated_case_reads_back_as_written(case):
    assert validated_case(case) == case  # generated in the form the rules read
    assert parse_case(case_to_json(case)) == case


# --- the same refusals in process ------------------------------------------------------------------------------

GOOD = Case(Period(2022, 5), dt.date(2022, 5, 10), Taxpayer("A", industry_code="C3411"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"application_date": dt.date(2022, 6, 1)}, "invalid_date"),
        ({"taxpayer": Taxpayer("E")}, "invalid_json"),
        ({"taxpayer": Taxpayer("A", filing_frequency="yearly")}, "invalid_json"),
        ({"taxpayer": Taxpayer("A", industry_code="Z9999")}, "missing_industry"),
        ({"taxpayer": Taxpayer("A", sales_12m_by_industry=(("C3411", Decimal("-1.00")),))}, "negative_amount"),
        ({"taxpayer": Taxpayer("A", size="huge")}, "invalid_json"),
        ({"taxpayer": Taxpayer("A", size_inputs=SizeInputs(prev_year_months_operated=13))}, "invalid_json"),
        ({"returns": (VatReturn(Period(2022, 4), Decimal("-0.01")),)}, "negative_amount"),
        ({"returns": (VatReturn(Period(2022, 4), Decimal("10000000000000000.00")),)}, "invalid_amount"),
        ({"returns": (VatReturn(Period(2022, 4), Decimal("NaN")),)}, "invalid_amount"),
        ({"returns": (VatReturn(Period(2022, 4), Decimal(1)),) * 2}, "invalid_period"),
        (
            {"returns": (VatReturn(Period(2022, 4), Decimal(1), InputTax(customs=Decimal("-5.00"))),)},
            "negative_amount",
        ),
        ({"adjustments": Adjustments(vat_arrears=Decimal("-1.00"))}, "negative_amount"),
        ({"previous_refunds": (PreviousRefund(Period(2021, 1), None, "other", Decimal(1)),)}, "invalid_json"),
        ({"options": Options.of({"no_such_option": "x"})}, "unsupported"),
        ({"options": Options.of({"class3_ratio_start": "1999_01"})}, "unsupported"),
    ],
)
def test_a_bad_value_is_refused_in_process_as_in_json(changes, code):
    case = Case(**{**GOOD.__dict__, **changes})
    with pytest.raises(CaseError) as in_process:
        validated_case(case)
    with pytest.raises(CaseError) as in_json:
        parse_case(case_to_json(case))
    assert in_process.value.code == in_json.value.code == code
    assert in_process.value.message == in_json.value.message  # amounts in cents are written as they are
