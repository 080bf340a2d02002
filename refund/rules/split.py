"""增量 / 存量: how a refund splits into its incremental and its stock part — one rule for every caller.

The law refunds two credits apart: the incremental credit (增量留抵税额, 39号 第八条 and the announcements after
it) and, from 2022, the one-time stock credit (存量留抵税额, 14号 第一条、第二条). A taxpayer applies for one kind
or for both (退税类型: ``incremental``, ``stock``, ``both``). So, for an application, a confirmation or a payment:

- the two parts add up to the refund;
- a refund of one kind has nothing of the other (an incremental-only refund has no stock part, and so on);
- a refund of both kinds states both parts, unless one can be filled in as the rest of the amount.

``split_refund`` checks (or completes) the parts an officer or a file gave; ``proportional_split`` divides an amount
in the proportion of the rules' figures; ``kind_of`` and ``restricted_to`` read the rules' figures as a kind.

Pure: ``Decimal`` in, a ``RefundSplit`` out, or a ``SplitError`` whose ``code`` the caller turns into its own
Chinese words (a confirmation and a treasury payment say it differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

INCREMENTAL, STOCK, BOTH = "incremental", "stock", "both"
KINDS = (INCREMENTAL, STOCK, BOTH)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

SPLIT_ERROR_CODES = (
    "stock_not_applied",  # an incremental-only refund with a stock part
    "incremental_not_applied",  # a stock-only refund with an incremental part
    "parts_missing",  # a refund of both kinds without both parts, and none that can be filled in
    "part_exceeds_amount",  # a part larger than the refund: the other would be negative
    "sum_mismatch",  # the parts do not add up to the refund
)


@dataclass(frozen=True)
class RefundSplit:
    incremental: Decimal
    stock: Decimal

    @property
    def total(self) -> Decimal:
        return self.incremental + self.stock


class SplitError(ValueError):
    """The parts cannot make a refund of the kind. ``code`` is one of ``SPLIT_ERROR_CODES``; ``incremental`` and
    ``stock`` are the parts as far as they were worked out (for a "sum_mismatch" message), ``amount`` the refund."""

    def __init__(
        self, code: str, *, amount: Decimal | None = None, incremental: Decimal | None = None, stock=None
    ) -> None:
        if code not in SPLIT_ERROR_CODES:
            raise ValueError(f"unknown split error code {code!r}")
        super().__init__(code)
        self.code = code
        self.amount = amount
        self.incremental = incremental
        self.stock = stock


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown refund kind {kind!r}")


def split_refund(
    *,
    kind: str,
    amount: Decimal | None = None,
    incremental: Decimal | None = None,
    stock: Decimal | None = None,
    fill_missing: bool = False,
) -> RefundSplit:
    """The parts of a refund of ``kind``; raises ``SplitError`` when they cannot be.

    Without ``fill_missing`` (a confirmation of figures): the kind's absent part is zero and must not be given as
    anything else (``stock_not_applied`` / ``incremental_not_applied``), a one-kind refund's part defaults to
    ``amount``, a both-kinds refund needs both parts (``parts_missing``), and ``amount`` — when given — must be their
    sum (``sum_mismatch``; without it the sum is the refund).

    With ``fill_missing`` (a payment of ``amount``, which is then required): no part given puts all of it on the
    one kind applied for (a both-kinds refund then needs its parts: ``parts_missing``); one part given leaves the
    rest of ``amount`` to the other; then neither part may exceed the amount (``part_exceeds_amount``), they must
    add up (``sum_mismatch``) and keep to the kind (``stock_not_applied`` / ``incremental_not_applied``).
    """
    _check_kind(kind)
    if fill_missing:
        return _filled(kind=kind, amount=amount, incremental=incremental, stock=stock)
    if kind == INCREMENTAL:
        if stock:
            raise SplitError("stock_not_applied", amount=amount, incremental=incremental, stock=stock)
        stock, incremental = ZERO, amount if incremental is None else incremental
    elif kind == STOCK:
        if incremental:
            raise SplitError("incremental_not_applied", amount=amount, incremental=incremental, stock=stock)
        incremental, stock = ZERO, amount if stock is None else stock
    if incremental is None or stock is None:
        raise SplitError("parts_missing", amount=amount, incremental=incremental, stock=stock)
    split = RefundSplit(incremental, stock)
    if amount is not None and amount != split.total:
        raise SplitError("sum_mismatch", amount=amount, incremental=incremental, stock=stock)
    return split


def _filled(*, kind: str, amount: Decimal | None, incremental, stock) -> RefundSplit:
    if amount is None:
        raise ValueError("fill_missing needs the amount")
    if incremental is None and stock is None:
        if kind == BOTH:
            raise SplitError("parts_missing", amount=amount)
        incremental, stock = (amount, ZERO) if kind == INCREMENTAL else (ZERO, amount)
    elif incremental is None:
        incremental = amount - stock
    elif stock is None:
        stock = amount - incremental
    found = {"amount": amount, "incremental": incremental, "stock": stock}
    if incremental < 0 or stock < 0:
        raise SplitError("part_exceeds_amount", **found)
    if incremental + stock != amount:
        raise SplitError("sum_mismatch", **found)
    if kind == INCREMENTAL and stock:
        raise SplitError("stock_not_applied", **found)
    if kind == STOCK and incremental:
        raise SplitError("incremental_not_applied", **found)
    return RefundSplit(incremental, stock)


def proportional_split(amount: Decimal, *, incremental: Decimal, stock: Decimal) -> RefundSplit:
    """``amount`` divided in the proportion of the rules' refundable ``incremental`` and ``stock`` figures: the stock
    part rounded half up to 0.01 yuan (never more than ``amount``), the incremental part the rest. Without a stock
    figure all of it is incremental."""
    total = incremental + stock
    if total <= 0 or stock <= 0:
        return RefundSplit(amount, ZERO)
    stock_part = min(amount, (amount * stock / total).quantize(CENT, ROUND_HALF_UP))
    return RefundSplit(amount - stock_part, stock_part)


def kind_of(*, incremental: Decimal, stock: Decimal) -> str:
    """The kind a refund of these parts is: ``both`` with both, ``stock`` with only a stock part, else
    ``incremental``."""
    if incremental > 0 and stock > 0:
        return BOTH
    return STOCK if stock > 0 else INCREMENTAL


def restricted_to(kind: str, *, incremental: Decimal, stock: Decimal) -> RefundSplit:
    """The rules' refundable parts as far as an application of ``kind`` is entitled to them: an incremental-only
    application to the incremental part, a stock-only one to the stock part, ``both`` to both."""
    _check_kind(kind)
    if kind == INCREMENTAL:
        return RefundSplit(incremental, ZERO)
    if kind == STOCK:
        return RefundSplit(ZERO, stock)
    return RefundSplit(incremental, stock)
