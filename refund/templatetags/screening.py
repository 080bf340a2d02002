"""Display filters of the screening pages: ``{% load screening %}`` then ``|wan``, ``|percent``, ``|regime_title`` …"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from refund import labels

register = template.Library()

_WAN = Decimal("10000")
_CENT = Decimal("0.01")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 for summaries (UX.md): ``12345678.9`` -> ``1,234.57``. Never through float."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{(amount / _WAN).quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"


@register.filter
def percent(value, places: int = 2) -> str:
    """A ratio as a percentage: ``0.952381`` -> ``95.24%``."""
    amount = _decimal(value)
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
