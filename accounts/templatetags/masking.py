"""Display filters shared by every page: ``{% load masking %}`` then ``|mask_mobile``, ``|mask_id``, ``|yuan``,
``|period_cn``."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from accounts import masking

register = template.Library()

_CENT = Decimal("0.01")


@register.filter
def mask_mobile(value) -> str:
    return masking.mask_mobile(str(value) if value is not None else "")


@register.filter
def mask_id(value) -> str:
    return masking.mask_identifier(str(value) if value is not None else "")


def format_yuan(value) -> str:
    """``Decimal("1234567.891")`` -> ``"1,234,567.89"``; ``None``/blank -> ``""``. Never goes through float."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"


@register.filter
def yuan(value) -> str:
    return format_yuan(value)


def format_period_cn(value) -> str:
    """``"2024-05"`` -> ``"2024年05月"``; anything not shaped like a period is returned unchanged."""
    text = str(value or "")
    year, sep, month = text.partition("-")
    if sep and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit():
        return f"{year}年{month}月"
    return text


@register.filter
def period_cn(value) -> str:
    return format_period_cn(value)
