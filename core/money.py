"""Money as the bureau reads and types it: yuan with two places, shown with separators, summed up in 万元.

Always ``Decimal``, never float: 16 significant digits of a province's totals would lose the cents.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import ApplicationError

CENT = Decimal("0.01")
WAN = Decimal("10000")
MONEY_LIMIT = Decimal(10) ** 14  # a money column holds 16 digits, 2 of them decimals


def decimal_or_none(value) -> Decimal | None:
    """``value`` as a finite Decimal, or None for blank and anything that is not a number (display: shown blank)."""
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def format_yuan(value) -> str:
    """``Decimal("1234567.891")`` -> ``"1,234,567.89"``; ``None``/blank -> ``""``; not a number -> as it is."""
    amount = decimal_or_none(value)
    if amount is None:
        return "" if value is None or value == "" else str(value)
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def format_wan(value) -> str:
    """Yuan shown in 万元 for summaries: ``12345678.9`` -> ``"1,234.57"``; blank or not a number -> ``""``."""
    amount = decimal_or_none(value)
    if amount is None:
        return ""
    return f"{(amount / WAN).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def format_percent(value, places: int = 2) -> str:
    """A ratio as a percentage: ``0.952381`` -> ``"95.24%"``; blank or not a number -> ``""``."""
    amount = decimal_or_none(value)
    if amount is None:
        return ""
    quantum = Decimal(1).scaleb(-int(places))
    return f"{(amount * 100).quantize(quantum, rounding=ROUND_HALF_UP)}%"


def format_count(value) -> str:
    """A count with separators: ``1234567`` -> ``"1,234,567"`` (the zh-hans locale groups without one)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


def parse_yuan(value, label: str) -> Decimal:
    """An amount an officer typed or a file gave, as yuan with two places; the Chinese refusal names ``label``."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApplicationError(f"{label}“{value}”不是有效的金额。") from None
    if not amount.is_finite():
        raise ApplicationError(f"{label}“{value}”不是有效的金额。")
    if amount < 0:
        raise ApplicationError(f"{label}不能为负数。")
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # more digits than a Decimal carries: no amount of yuan
        raise ApplicationError(f"{label}“{value}”过大，请确认金额的单位是“元”。") from None
    if amount != cents:
        raise ApplicationError(f"{label}最多保留两位小数（单位：元）。")
    return cents
