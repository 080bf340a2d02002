"""Money typed by an officer or given by a file: two places of yuan or a Chinese refusal naming the field; and
amounts shown in 元 and 万元 without ever going through float."""

from decimal import Decimal

import pytest

from core.errors import ApplicationError
from core.money import format_count, format_percent, format_wan, format_yuan, parse_yuan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.5", Decimal("1234.50")),
        (Decimal("0"), Decimal("0.00")),
        (12, Decimal("12.00")),
        ("0.10", Decimal("0.10")),
    ],
)
def test_parse_yuan_keeps_two_places(value, expected):
    amount = parse_yuan(value, "退库金额")
    assert amount == expected and amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12,34", "退库金额“12,34”不是有效的金额。"),
        ("NaN", "退库金额“NaN”不是有效的金额。"),
        ("-1", "退库金额不能为负数。"),
        ("1.234", "退库金额最多保留两位小数（单位：元）。"),
        ("1e40", "退库金额“1e40”过大，请确认金额的单位是“元”。"),
    ],
)
def test_parse_yuan_refuses_in_chinese_naming_the_field(value, message):
    with pytest.raises(ApplicationError) as refused:
        parse_yuan(value, "退库金额")
    assert refused.value.message == message


def test_format_yuan_and_wan():
    assert format_yuan(Decimal("12345678901234.565")) == "12,345,678,901,234.57"  # half up, beyond float's digits
    assert format_yuan(None) == "" and format_yuan("—") == "—"
    assert format_wan(Decimal("12345678.9")) == "1,234.57"
    assert format_wan(Decimal("50")) == "0.01"  # 0.005 万元, half up
    assert format_wan(None) == "" and format_wan("x") == ""


def test_format_percent_and_count():
    assert format_percent(Decimal("0.952381")) == "95.24%"
    assert format_percent("0.5", 0) == "50%"
    assert format_percent(None) == format_percent("x") == ""
    assert format_count(1234567) == "1,234,567"
    assert format_count(None) == format_count("x") == ""
