"""Display filters of the screening pages: ``{% load screening %}`` then ``|percent``, ``|count``, ``|regime_title`` …
(amounts: ``|yuan`` and ``|wan`` of ``{% load display %}``)."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from core.money import decimal_or_none
from refund import labels

register = template.Library()


@register.filter
def percent(value, places: int = 2) -> str:
    """A ratio as a percentage: ``0.952381`` -> ``95.24%``."""
    amount = decimal_or_none(value)
    if amount is None:
        return ""
    quantum = Decimal(1).scaleb(-int(places))
    return f"{(amount * 100).quantize(quantum, rounding=ROUND_HALF_UP)}%"


@register.filter
def count(value) -> str:
    """``1234567`` -> ``1,234,567`` (the zh-hans locale groups without a separator)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


@register.filter
def regime_title(code) -> str:
    return labels.regime_title(code)


@register.filter
def condition_title(code) -> str:
    return labels.condition_title(code)


@register.filter
def size_title(code) -> str:
    return labels.size_title(code)


@register.filter
def error_title(code) -> str:
    return labels.error_help(code).title if code else ""


@register.filter
def condition_titles(codes) -> str:
    return "、".join(labels.condition_title(code) for code in codes or ())
