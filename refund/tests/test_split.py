"""The one incremental/stock split (refund.rules.split): confirmations, payments and the rules' proportion."""

from decimal import Decimal as D

import pytest

from refund.rules.split import (
    RefundSplit,
    SplitError,
    kind_of,
    proportional_split,
    restricted_to,
    split_refund,
)


def code(**kwargs) -> str:
    with pytest.raises(SplitError) as caught:
        split_refund(**kwargs)
    return caught.value.code


def test_a_one_kind_refund_is_all_of_that_kind():
    assert split_refund(kind="incremental", amount=D("100.00")) == RefundSplit(D("100.00"), D("0.00"))
    assert split_refund(kind="stock", amount=D("100.00")) == RefundSplit(D("0.00"), D("100.00"))
    assert split_refund(kind="incremental", amount=D("100.00"), stock=D("0")) == RefundSplit(D("100.00"), D("0.00"))
    assert split_refund(kind="incremental", incremental=D("80.00")).total == D("80.00")


def test_a_one_kind_refund_has_nothing_of_the_other():
    assert code(kind="incremental", amount=D("100.00"), stock=D("1.00")) == "stock_not_applied"
    assert code(kind="stock", amount=D("100.00"), incremental=D("1.00")) == "incremental_not_applied"


def test_both_kinds_need_both_parts_and_they_add_up():
    assert split_refund(kind="both", incremental=D("60.00"), stock=D("40.00")) == RefundSplit(D("60.00"), D("40.00"))
    assert split_refund(kind="both", amount=D("100.00"), incremental=D("60.00"), stock=D("40.00")).total == D("100")
    assert code(kind="both", amount=D("100.00"), incremental=D("60.00")) == "parts_missing"
    with pytest.raises(SplitError) as caught:
        split_refund(kind="both", amount=D("99.00"), incremental=D("60.00"), stock=D("40.00"))
    error = caught.value
    assert (error.code, error.amount, error.incremental, error.stock) == ("sum_mismatch", D("99"), D("60"), D("40"))


def test_a_payment_fills_the_missing_part():
    pay = {"amount": D("100.00"), "fill_missing": True}
    assert split_refund(kind="incremental", **pay) == RefundSplit(D("100.00"), D("0.00"))
    assert split_refund(kind="stock", **pay) == RefundSplit(D("0.00"), D("100.00"))
    assert split_refund(kind="both", incremental=D("30.00"), **pay) == RefundSplit(D("30.00"), D("70.00"))
    assert split_refund(kind="both", stock=D("30.00"), **pay) == RefundSplit(D("70.00"), D("30.00"))
    assert code(kind="both", **pay) == "parts_missing"
    assert code(kind="both", stock=D("130.00"), **pay) == "part_exceeds_amount"
    assert code(kind="both", incremental=D("30.00"), stock=D("30.00"), **pay) == "sum_mismatch"
    assert code(kind="incremental", stock=D("30.00"), **pay) == "stock_not_applied"
    assert code(kind="stock", incremental=D("30.00"), **pay) == "incremental_not_applied"


def test_unknown_kinds_and_codes_are_programming_errors():
    with pytest.raises(ValueError, match="kind"):
        split_refund(kind="partial", amount=D("1"))
    with pytest.raises(ValueError, match="code"):
        SplitError("nope")
    with pytest.raises(ValueError, match="amount"):
        split_refund(kind="both", fill_missing=True)


def test_the_rules_proportion():
    assert proportional_split(D("100.00"), incremental=D("300.00"), stock=D("100.00")) == RefundSplit(
        D("75.00"), D("25.00")
    )
    assert proportional_split(D("10.00"), incremental=D("2.00"), stock=D("1.00")) == RefundSplit(D("6.67"), D("3.33"))
    assert proportional_split(D("50.00"), incremental=D("80.00"), stock=D("0.00")) == RefundSplit(D("50.00"), D("0.00"))
    assert proportional_split(D("50.00"), incremental=D("0"), stock=D("0")) == RefundSplit(D("50.00"), D("0.00"))


def test_the_kind_of_the_rules_figures_and_what_a_kind_is_entitled_to():
    assert kind_of(incremental=D("1"), stock=D("1")) == "both"
    assert kind_of(incremental=D("0"), stock=D("1")) == "stock"
    assert kind_of(incremental=D("1"), stock=D("0")) == "incremental"
    assert kind_of(incremental=D("0"), stock=D("0")) == "incremental"
    figures = {"incremental": D("60.00"), "stock": D("40.00")}
    assert restricted_to("incremental", **figures) == RefundSplit(D("60.00"), D("0.00"))
    assert restricted_to("stock", **figures) == RefundSplit(D("0.00"), D("40.00"))
    assert restricted_to("both", **figures).total == D("100.00")
