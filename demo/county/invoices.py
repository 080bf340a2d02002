"""The demo county's invoice data: each taxpayer's monthly 发票汇总 and its 供应商进项明细 for the last 18 months.

Why: the invoice-chain risk indicators need a county where most firms buy from a handful of ordinary suppliers
and a few look risky — a supplier that took most of their input, a supplier that vanished (非正常户, 走逃（失联）)
within months of invoicing them, input on abnormal vouchers (异常凭证) or lost-control invoices (失控发票), much
input from a supplier registered only months before.

Consistent with the returns: a month's input tax on invoices is the special-invoice input tax of that month's
return (a quarterly filer's quarter is spread over its three months), split among the suppliers to the fen; the
input amount follows each supplier's rate. The flags follow the suppliers: invoices of the months before a
supplier 走逃 are mostly found 失控, those before a 非正常户 mostly 异常凭证; a few firms have other abnormal
vouchers (比对不符) of their own.

Pure and deterministic. The suppliers come from one pool drawn from the seed (ordinary suppliers, a few of them
deregistered, a small set that vanish — the same vanished supplier invoices several firms, as a ring does — and a
few registered within the last year). The vanished ones vanished within the months the invoice data cover, so
their invoices show in them.
Each taxpayer draws from its own generator, seeded from the county's seed and its identifier, in a fixed
order: its draws never move the taxpayer's other data, and a run of 300 taxpayers is the first 300 of 3,000.
Amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from core.periods import Period
from taxpayers.invoice_bulk import SummaryRow, SupplierRow

from .months import month_index, period_text
from .names import make_identifier

INVOICE_MONTHS = 18
ORDINARY_SUPPLIERS = 4000
FLED_SUPPLIERS = 60
DOMINANT_SHARE = 0.06  # firms with one supplier above 80% of their input
FLED_BUYER_SHARE = 0.04  # firms that bought from a supplier that vanished
OWN_ABNORMAL_SHARE = 0.02  # firms with abnormal vouchers of other kinds
YOUNG_SUPPLIERS = 40
YOUNG_BUYER_SHARE = 0.03  # firms that took much input from a supplier registered months before
_REGIONS = ("330699", "320599", "350599", "340599")  # synthetic: suppliers from outside the county
_PLACES = ("杭州", "宁波", "苏州", "无锡", "合肥", "福州", "温州", "嘉兴", "常州", "泉州")
_TRADES = ("恒通", "宏达", "金源", "瑞丰", "华信", "鑫盛", "永泰", "博远", "中利", "安顺", "天成", "汇丰")
_WORDS = ("原料", "贸易", "机电", "物流", "建材", "化工", "包装", "五金", "电子", "钢材", "塑胶", "能源")
_RATES_BP = (1300, 1300, 1300, 1300, 900, 600)
_NEVER = 10**6


@dataclass(frozen=True)
class Supplier:
    identifier: str
    name: str
    registered_on: dt.date
    status: str
    status_since: dt.date | None
    rate_bp: int
    stops: int = _NEVER  # the month index from which it no longer invoices (its status began)

    def __post_init__(self) -> None:
        if self.status_since is not None:
            object.__setattr__(self, "stops", month_index(self.status_since.year, self.status_since.month))


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange(max(1, (last - first).days)))


class SupplierPool:
    """The suppliers every demo taxpayer buys from, drawn once from the seed (``today`` dates the vanished ones)."""

    def __init__(self, seed: int, today: dt.date) -> None:
        rng = random.Random(f"{seed}:suppliers")
        self.ordinary = [self._ordinary(rng, seed, k, today) for k in range(ORDINARY_SUPPLIERS)]
        self.fled = [self._fled(rng, seed, ORDINARY_SUPPLIERS + k, today) for k in range(FLED_SUPPLIERS)]
        first_young = ORDINARY_SUPPLIERS + FLED_SUPPLIERS
        self.young = [self._young(rng, seed, first_young + k, today) for k in range(YOUNG_SUPPLIERS)]

    @staticmethod
    def _identity(rng: random.Random, seed: int, index: int) -> tuple[str, str]:
        region = rng.choice(_REGIONS)
        identifier = make_identifier(index, seed=seed + 1, kind="1", region=region, new_style=rng.random() < 0.6)
        name = f"{rng.choice(_PLACES)}{rng.choice(_TRADES)}{rng.choice(_WORDS)}有限公司"
        return identifier, name

    def _ordinary(self, rng: random.Random, seed: int, index: int, today: dt.date) -> Supplier:
        identifier, name = self._identity(rng, seed, index)
        registered = _day(rng, dt.date(2003, 1, 1), dt.date(2018, 12, 31))
        status, since = "normal", None
        if rng.random() < 0.03:
            status, since = "deregistered", _day(rng, dt.date(2021, 1, 1), today)
        return Supplier(identifier, name, registered, status, since, rng.choice(_RATES_BP))

    def _fled(self, rng: random.Random, seed: int, index: int, today: dt.date) -> Supplier:
        identifier, name = self._identity(rng, seed, index)
        since = _day(rng, today - dt.timedelta(days=420), today - dt.timedelta(days=5))
        registered = since - dt.timedelta(days=rng.randint(240, 900))  # shells live a year or two
        status = "absconded" if rng.random() < 0.5 else "abnormal"
        return Supplier(identifier, name, registered, status, since, 1300)

    def _young(self, rng: random.Random, seed: int, index: int, today: dt.date) -> Supplier:
        identifier, name = self._identity(rng, seed, index)
        registered = _day(rng, today - dt.timedelta(days=210), today - dt.timedelta(days=45))
        return Supplier(identifier, name, registered, "normal", None, rng.choice(_RATES_BP))


@dataclass
class _Plan:
    picks: list[Supplier]
    weights: list[float]
    dominant: float | None
    fled: Supplier | None
    fled_share: float
    fled_months: set[int]
    flagged: float  # chance that a month's invoices from the vanished supplier are flagged
    own_abnormal: tuple[int, float] | None  # (which input month, share of its input)
    young: Supplier | None = None  # a supplier registered months before it took much of the input
    young_share: float = 0.0
    young_months: frozenset[int] = frozenset()


def taxpayer_invoices(
    pool: SupplierPool, *, seed: int, identifier: str, inputs: dict[int, int]
) -> tuple[list[SummaryRow], list[SupplierRow]]:
    """One taxpayer's invoice rows from its monthly input tax on special invoices (month index → fen)."""
    rng = random.Random(f"{seed}:invoices:{identifier}")
    plan = _plan(rng, pool, sorted(inputs))
    summaries: list[SummaryRow] = []
    rows: list[SupplierRow] = []
    for month in sorted(inputs):
        summaries.append(_month(rng, plan, month, inputs[month], rows))
    return summaries, rows


def _plan(rng: random.Random, pool: SupplierPool, months: list[int]) -> _Plan:
    count = rng.randint(3, 7)
    picks = [pool.ordinary[k] for k in rng.sample(range(ORDINARY_SUPPLIERS), count)]
    main = next((s for s in picks if s.status == "normal"), None)
    if main is not None:  # the first supplier invoices every month
        picks.remove(main)
        picks.insert(0, main)
    weights = [rng.uniform(0.2, 1.0) for _ in picks]
    dominant = rng.uniform(0.82, 0.95) if rng.random() < DOMINANT_SHARE else None
    fled, fled_share, fled_months = None, 0.0, set()
    if rng.random() < FLED_BUYER_SHARE:
        fled = rng.choice(pool.fled)
        fled_share = rng.uniform(0.1, 0.5)
        nearest, length = rng.randint(1, 9), rng.randint(2, 5)  # months before it vanished: some beyond six
        fled_months = {fled.stops - nearest - k for k in range(length)}
    flagged = rng.uniform(0.5, 0.9)
    own_abnormal = None
    if months and rng.random() < OWN_ABNORMAL_SHARE:
        own_abnormal = (rng.choice(months), rng.uniform(0.05, 0.3))
    plan = _Plan(picks, weights, dominant, fled, fled_share, fled_months, flagged, own_abnormal)
    if rng.random() < YOUNG_BUYER_SHARE:  # drawn last: the draws above stay those of a firm without one
        plan.young = rng.choice(pool.young)
        plan.young_share = rng.uniform(0.35, 0.8)
        start = month_index(plan.young.registered_on.year, plan.young.registered_on.month) + 1
        plan.young_months = frozenset(range(start, start + rng.randint(3, 6)))
    return plan


def _split(total: int, shares: list[float]) -> list[int]:
    """``total`` fen in proportion to ``shares``, to the fen (the remainder to the first)."""
    whole = sum(shares)
    parts = [int(total * share / whole) for share in shares]
    parts[0] += total - sum(parts)
    return parts


def _month(rng: random.Random, plan: _Plan, month: int, total: int, rows: list[SupplierRow]) -> SummaryRow:
    period = period_text(month)
    active = [
        (supplier, weight * rng.uniform(0.7, 1.3))
        for n, (supplier, weight) in enumerate(zip(plan.picks, plan.weights, strict=True))
        if (n == 0 or rng.random() < 0.85) and month < supplier.stops
    ]
    fled = _fled_this_month(plan, month)
    if total <= 0:
        return SummaryRow(period, 0, 0, 0, 0)
    if not active:
        return _unsplit(period, total)
    extra = [(plan.young, plan.young_share)] if plan.young is not None and month in plan.young_months else []
    if fled is not None:
        extra.append((fled, plan.fled_share))
    suppliers, taxes = _shares(plan, active, extra, total)
    amount_total = 0
    for supplier, tax in zip(suppliers, taxes, strict=True):
        amount = tax * 10_000 // supplier.rate_bp
        amount_total += amount
        rows.append(
            SupplierRow(period, supplier.identifier, supplier.name, supplier.registered_on, supplier.status,
                        supplier.status_since, amount, tax)
        )  # fmt: skip
    abnormal = lost = 0
    if fled is not None and rng.random() < plan.flagged:
        if fled.status == "absconded":
            lost = taxes[-1]
        else:
            abnormal = taxes[-1]
    if plan.own_abnormal is not None and plan.own_abnormal[0] == month:
        abnormal = min(total, abnormal + int(total * plan.own_abnormal[1]))
    return SummaryRow(period, amount_total, total, abnormal, lost)


def _fled_this_month(plan: _Plan, month: int) -> Supplier | None:
    """The vanished supplier when it invoices this month (never before its registration)."""
    fled = plan.fled if plan.fled is not None and month in plan.fled_months else None
    if fled is not None and fled.registered_on > Period.from_index(month).last_day:
        return None
    return fled


def _shares(
    plan: _Plan, active: list[tuple[Supplier, float]], extra: list[tuple[Supplier, float]], total: int
) -> tuple[list[Supplier], list[int]]:
    """The month's suppliers and their input tax: the dominant one first when there is one, then the others, then
    the ``extra`` ones with their fixed shares (a young supplier, the vanished one last)."""
    shares = [weight for _, weight in active]
    if plan.dominant is not None:
        rest = sum(shares[1:])
        shares = [plan.dominant, *((1 - plan.dominant) * s / rest for s in shares[1:])] if rest else [1.0]
    suppliers = [supplier for supplier, _ in active]
    for supplier, share in extra:
        shares = [s * (1 - share) for s in shares] + [share]
        suppliers.append(supplier)
    return suppliers, _split(total, shares)


def _unsplit(period: str, total: int) -> SummaryRow:
    """A month whose suppliers have all stopped invoicing: the summary alone (never reached with a normal main)."""
    return SummaryRow(period, total * 10_000 // 1300, total, 0, 0)
