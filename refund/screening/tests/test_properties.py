"""Properties over generated cases: totals never negative and equal to the rounded parts, only open
regimes are tried, and refunds are monotone where the law makes them so."""

import copy
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.periods import Period
from refund.rules import CONTRACT_KEYS, CaseError
from refund.rules.parameters import CLASS3_TIERS, FIRST_COVERED, LAST_COVERED
from refund.rules.regimes import class3_refund, regimes_open_in
from refund.tests.builders import case, decide, ret

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money = st.integers(min_value=0, max_value=300_000_000_00).map(lambda cents: Decimal(cents) / 100)
small_money = st.integers(min_value=0, max_value=5_000_000_00).map(lambda cents: Decimal(cents) / 100)
periods = st.integers(min_value=FIRST_COVERED.index, max_value=LAST_COVERED.index).map(Period.from_index)
KINDS = ["special_invoice", "customs", "toll_road_e_invoice", "air_e_invoice", "agricultural", "other"]


@st.composite
def cases(draw) -> dict:
    period = draw(periods)
    tax_period = period.minus(1)
    returns = {"2019-03": ret("2019-03", draw(money))}
    months = [tax_period.minus(n) for n in range(0, 13)] + [Period(tax_period.year - 1, 12), Period(2019, 4)]
    for month in months:
        if month <= Period(2019, 3) or str(month) in returns:
            continue
        if month != tax_period and draw(st.integers(0, 9)) == 0:
            continue  # now and then a month without a return
        inputs = {
            kind: str(draw(small_money)) for kind in draw(st.lists(st.sampled_from(KINDS), max_size=3, unique=True))
        }
        returns[str(month)] = ret(str(month), draw(money), **inputs)
    data = case(
        str(period),
        sorted(returns.values(), key=lambda r: r["period"]),
        industry=draw(st.sampled_from(["C3411", "C2710", "F5123", "K7010", "E4710", "I6510", "G5430"])),
        size=draw(st.sampled_from(["micro", "small", "medium", "large"])),
        level=draw(st.sampled_from(["A", "A", "A", "B", "B", "M", "C", "D"])),
        compliance={
            "tax_evasion_penalty_dates": draw(st.sampled_from([[], [], ["2020-01-01"], ["2020-01-01", "2021-01-01"]])),
            "immediate_refund_since_2019_04": draw(st.sampled_from([False, False, False, True])),
            "immediate_refund_repaid": draw(st.booleans()),
        },
        adjustments={
            "approved_unbooked_export_refund": str(draw(st.one_of(st.just(Decimal(0)), small_money))),
            "vat_arrears": str(draw(st.one_of(st.just(Decimal(0)), small_money))),
        },
        options={
            "small_micro_after_2022": draw(st.sampled_from(["six_month_test", "general_regime"])),
            "class3_ratio_start": draw(st.sampled_from(["prior_year_january", "2019_04"])),
        },
    )
    if draw(st.booleans()) and period >= Period(2022, 5):
        data["previous_refunds"] = [
            {
                "application_period": str(draw(st.sampled_from([Period(2022, 4), period.minus(1)]))),
                "regime": "CN-2022-14-small-micro",
                "kind": "stock",
                "amount": "1",
            }
        ]
    return data


def assess_or_none(data: dict) -> dict | None:
    try:
        return decide(data)
    except CaseError as exc:
        assert exc.code in {"missing_return", "missing_size", "missing_industry"}, exc.code
        return None


@SETTINGS
@given(cases())
def test_totals_are_never_negative_and_add_up(data):
    out = assess_or_none(data)
    if out is None:
        return
    assert tuple(out) == CONTRACT_KEYS
    parts = Decimal(out["refundable_incremental"]) + Decimal(out["refundable_stock"])
    assert Decimal(out["refundable_total"]) == parts >= 0
    for key in ("refundable_incremental", "refundable_stock", "refundable_total", "current_credit"):
        assert Decimal(out[key]) >= 0 and Decimal(out[key]).as_tuple().exponent == -2
    if not out["eligible"]:
        assert out["refundable_total"] == "0.00"
        assert any(not c["passed"] for c in out["conditions"])
    else:
        assert all(c["passed"] for c in out["conditions"])
    if out["input_ratio"] is not None:
        assert Decimal(0) <= Decimal(out["input_ratio"]) <= Decimal(1)
    open_codes = {r.code for r in regimes_open_in(Period.parse(data["application_period"]))}
    assert {out["regime"], *(a["regime"] for a in out["alternatives"])} <= open_codes
    # the applied regime has the largest total of the eligible ones
    best = max([Decimal(a["refundable_total"]) for a in out["alternatives"] if a["eligible"]], default=Decimal(0))
    assert Decimal(out["refundable_total"]) >= best


def _with_more(data: dict, *, credit: Decimal = Decimal(0), special: Decimal = Decimal(0)) -> dict:
    more = copy.deepcopy(data)
    tax_period = str(Period.parse(data["application_period"]).minus(1))
    for vat_return in more["returns"]:
        if vat_return["period"] == tax_period:
            vat_return["end_credit"] = str(Decimal(vat_return["end_credit"]) + credit)
            inputs = vat_return.setdefault("input_tax", {})
            inputs["special_invoice"] = str(Decimal(inputs.get("special_invoice", "0")) + special)
    return more


@SETTINGS
@given(cases(), small_money)
def test_more_credit_never_lowers_the_refund(data, extra):
    before = assess_or_none(data)
    if before is None:
        return
    after = decide(_with_more(data, credit=extra))
    assert Decimal(after["refundable_total"]) >= Decimal(before["refundable_total"])


@SETTINGS
@given(cases(), small_money)
def test_more_special_invoice_input_never_lowers_the_refund(data, extra):
    before = assess_or_none(data)
    if before is None:
        return
    after = decide(_with_more(data, special=extra))
    assert Decimal(after["refundable_total"]) >= Decimal(before["refundable_total"])


@SETTINGS
@given(cases())
def test_a_c_rating_never_refunds(data):
    data["taxpayer"]["credit_level"] = "C"
    out = assess_or_none(data)
    if out is not None:
        assert out["eligible"] is False
        assert out["refundable_total"] == "0.00"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12).map(lambda c: Decimal(c) / 100),
    st.integers(min_value=0, max_value=10**12).map(lambda c: Decimal(c) / 100),
)
def test_class3_tiers_are_monotone_and_continuous(a, b):
    tiers = CLASS3_TIERS.at(Period(2025, 9))
    low, high = sorted((a, b))
    refund_low, rate_low = class3_refund(low, tiers)
    refund_high, _ = class3_refund(high, tiers)
    assert refund_low <= refund_high
    assert Decimal("0.30") <= rate_low <= Decimal("0.60")
    # no jump at 1亿: one more yuan adds 0.30
    cap = Decimal(100_000_000)
    assert class3_refund(cap + 1, tiers)[0] - class3_refund(cap, tiers)[0] == Decimal("0.30")
