"""How the rules write figures inside their Chinese sentences (condition details and the trace).

Figures inside sentences carry separators and units like the tables do —
``期末留抵税额 13,645,125.29 元``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def yuan(amount: Decimal) -> str:
    """``Decimal("13645125.285")`` -> ``"13,645,125.29 元"``: half up to the cent, thousands separators, a space
    before 元. The sign is kept (a credit after adjustments, or an increment, may be negative)."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP) + 0:,.2f} 元"  # + 0: never "-0.00"


def whole_yuan(amount: Decimal) -> str:
    """A threshold in whole yuan: ``Decimal("500000")`` -> ``"500,000 元"``."""
    return f"{amount:,.0f} 元"
