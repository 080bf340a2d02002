"""Masking and the display filters every page loads (``{% load display %}``)."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.masking import mask_identifier, mask_mobile


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "138****8000"),
        ("13912345678", "139****5678"),
        ("", ""),
        (None, ""),
        ("12345", "***45"),
        ("12", "**"),
    ],
)
def test_mask_mobile(value, expected):
    assert mask_mobile(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("914403001922038216", "9144********38216"),  # 18 characters (统一社会信用代码)
        ("330106123456789", "3301********6789"),  # 15-character 税务登记证号
        ("33010619800101123400", "3301********123400"),  # 20 characters
        ("", ""),
        (None, ""),
        ("ABC", "***"),
    ],
)
def test_mask_identifier(value, expected):
    assert mask_identifier(value) == expected


def test_masked_identifier_hides_the_middle_of_every_format():
    for identifier in ("914403001922038216", "330106123456789", "33010619800101123400"):
        masked = mask_identifier(identifier)
        # The organisation-code digits in the middle never survive.
        assert identifier[5:12] not in masked
        assert masked.count("*") == 8


def render(source: str, **context) -> str:
    return Template("{% load display %}" + source).render(Context(context))


def test_template_filters():
    assert render("{{ m|mask_mobile }}", m="13800138000") == "138****8000"
    assert render("{{ i|mask_id }}", i="914403001922038216") == "9144********38216"
    assert render("{{ a|yuan }}", a=Decimal("1234567.891")) == "1,234,567.89"
    assert render("{{ a|yuan }}", a=Decimal("0")) == "0.00"
    assert render("{{ a|yuan }}", a=Decimal("-1234.5")) == "-1,234.50"
    assert render("{{ a|yuan }}", a=Decimal("0.005")) == "0.01"  # half up, never through float
    assert render("{{ a|yuan }}", a=None) == ""
    assert render("{{ p|period_cn }}", p="2024-05") == "2024年05月"
    assert render("{{ p|period_cn }}", p="2024-5") == "2024-5"  # not a period: unchanged
    assert render("{{ a|wan }}", a=Decimal("12345678.9")) == "1,234.57"
    assert render("{{ a|wan }}", a="") == ""


def test_yuan_keeps_exact_decimal_for_large_amounts():
    # 16 significant digits would lose the cents in a float.
    assert render("{{ a|yuan }}", a=Decimal("12345678901234.57")) == "12,345,678,901,234.57"
