"""assess(case) -> Decision: every regime open to the application period is tried; the one with the
largest refundable total among the eligible is applied (the taxpayer may choose, 14号 第十一条, and
would choose that); when none is eligible, the most specific regime the taxpayer belongs to explains why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.periods import Period

from .conditions import CONDITION_TITLES, Condition
from .errors import CaseError
from .facts import Facts
from .inputs import ZERO, Case
from .options import Options, option_text
from .parameters import FIRST_COVERED, LAST_COVERED, REGIME_PERIODS, STOCK_REFUND_OPENS, NotCovered
from .regimes import (
    REGIMES,
    RegimeResult,
    cents,
    industry_2022_member,
    industry_2022_route,
    regime_title,
    small_micro_open,
)
from .text import yuan

RATIO_PLACES = Decimal("0.000001")

CONTRACT_KEYS = (
    "application_period",
    "tax_period",
    "regime",
    "eligible",
    "size",
    "conditions",
    "current_credit",
    "base_credit",
    "incremental_credit",
    "stock_credit",
    "input_ratio",
    "refund_rate",
    "refundable_incremental",
    "refundable_stock",
    "refundable_total",
    "alternatives",
)


@dataclass(frozen=True)
class Alternative:
    regime: str
    eligible: bool
    refundable_total: Decimal
    failed_conditions: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    application_period: Period
    tax_period: Period
    regime: str | None
    eligible: bool
    size: str | None
    conditions: tuple[Condition, ...]
    current_credit: Decimal
    base_credit: Decimal | None
    incremental_credit: Decimal | None
    stock_credit: Decimal | None
    input_ratio: Decimal | None  # exact
    refund_rate: str | None
    refundable_incremental: Decimal
    refundable_stock: Decimal
    refundable_total: Decimal
    alternatives: tuple[Alternative, ...]
    trace: tuple[str, ...]
    options: Options

    @property
    def failed_conditions(self) -> list[str]:
        return [c.code for c in self.conditions if not c.passed]

    @property
    def reported_ratio(self) -> Decimal | None:
        """The input ratio as the contract reports it (six places)."""
        return None if self.input_ratio is None else _ratio(self.input_ratio)

    def as_contract_dict(self, *, with_trace: bool = False) -> dict[str, object]:
        """The contract's output object, keys in the contract's order, amounts as strings."""
        out: dict[str, object] = {
            "application_period": str(self.application_period),
            "tax_period": str(self.tax_period),
            "regime": self.regime,
            "eligible": self.eligible,
            "size": self.size,
            "conditions": [c.as_dict() for c in self.conditions],
            "current_credit": _money(self.current_credit),
            "base_credit": _money(self.base_credit),
            "incremental_credit": _money(self.incremental_credit),
            "stock_credit": _money(self.stock_credit),
            "input_ratio": None if self.input_ratio is None else str(self.reported_ratio),
            "refund_rate": self.refund_rate,
            "refundable_incremental": _money(self.refundable_incremental),
            "refundable_stock": _money(self.refundable_stock),
            "refundable_total": _money(self.refundable_total),
            "alternatives": [
                {"regime": a.regime, "eligible": a.eligible, "refundable_total": _money(a.refundable_total)}
                for a in self.alternatives
            ],
        }
        if with_trace:
            out["trace"] = list(self.trace)
            out["options"] = self.options.as_dict()
        return out


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(cents(amount))


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def check_covered(period: Period) -> None:
    if not FIRST_COVERED <= period <= LAST_COVERED:
        raise CaseError(
            "out_of_range",
            f"申请纳税申报期 {period} 不在规则覆盖的范围内（{FIRST_COVERED} 至 {LAST_COVERED}）。",
        )


def _require_size(facts: Facts) -> None:
    """Size is needed while the small-micro regime is open, unless the industry route makes it moot.

    It is moot for a 制造业等行业 taxpayer once every size may take the stock refund on that
    route (from the 2022-06 filing period, 19号 第一条): the amounts are then the same either way.
    """
    period = facts.period
    if not small_micro_open(period, facts.case.options.small_micro_after_2022):
        return
    if facts.size.size is not None:
        return
    try:
        _, member = industry_2022_member(facts)
    except CaseError:
        member = False
    if member:
        openings = STOCK_REFUND_OPENS.at(period)[industry_2022_route(facts)]
        if all(opening.period <= period for opening in openings.values()):
            facts.trace.append("企业规模未知；纳税人属于制造业等行业且各规模均可申请存量退税，规模不影响结果")
            return
    assert facts.size.problem is not None
    raise facts.size.problem


def _choose(results: list[RegimeResult]) -> RegimeResult:
    """Largest total among the eligible; ties and the ineligible go to the most specific, then the table order."""

    def specificity(result: RegimeResult) -> int:
        return REGIMES[result.order].specificity

    eligible = [r for r in results if r.eligible]
    if eligible:
        return max(eligible, key=lambda r: (r.refundable_total, specificity(r), -r.order))
    members = [r for r in results if r.member] or results
    return max(members, key=lambda r: (specificity(r), -r.order))


def assess(case: Case) -> Decision:
    period = case.application_period
    check_covered(period)
    facts = Facts(case)
    try:
        facts.tax_return  # noqa: B018 - missing_return when the return of the tax period is absent
        if REGIME_PERIODS["CN-2019-39"].covers(period):
            facts.base_2019  # noqa: B018 - every applicant up to 2025-08 is tried under 39号
        _require_size(facts)
        results: list[RegimeResult] = []
        for order, regime in enumerate(REGIMES):
            if regime.open_in(period):
                result = regime.evaluate(facts, order)
                if result is not None:
                    results.append(result)
    except NotCovered as exc:  # a parameter missing for a covered period is a gap in parameters.py
        raise CaseError("out_of_range", f"规则参数 {exc.name} 未覆盖申请纳税申报期 {period}。") from None

    if not results:
        return _no_regime(case, facts)
    chosen = _choose(results)
    alternatives = tuple(
        Alternative(r.regime, r.eligible, r.refundable_total, tuple(r.failed_conditions))
        for r in results
        if r is not chosen
    )
    trace = [
        f"申请纳税申报期{period}，申请退税前一税款所属期{facts.tax_period}",
        *facts.trace,
        *chosen.trace,
        *(option_text(name, value) for name, value in case.options.as_dict().items()),
        *(
            f"同时试算“{regime_title(a.regime)}”："
            + ("符合" if a.eligible else f"不符合（{'；'.join(CONDITION_TITLES[c] for c in a.failed_conditions)}）")
            + f"，可退 {yuan(a.refundable_total)}"
            for a in alternatives
        ),
    ]
    return Decision(
        application_period=period,
        tax_period=facts.tax_period,
        regime=chosen.regime,
        eligible=chosen.eligible,
        size=facts.size.size,
        conditions=chosen.conditions,
        current_credit=chosen.current_credit,
        base_credit=chosen.base_credit,
        incremental_credit=chosen.incremental_credit,
        stock_credit=chosen.stock_credit,
        input_ratio=chosen.input_ratio,
        refund_rate=chosen.refund_rate,
        refundable_incremental=chosen.refundable_incremental,
        refundable_stock=chosen.refundable_stock,
        refundable_total=chosen.refundable_total,
        alternatives=alternatives,
        trace=tuple(trace),
        options=case.options,
    )


def _no_regime(case: Case, facts: Facts) -> Decision:
    return Decision(
        application_period=case.application_period,
        tax_period=facts.tax_period,
        regime=None,
        eligible=False,
        size=facts.size.size,
        conditions=(),
        current_credit=facts.current_credit,
        base_credit=None,
        incremental_credit=None,
        stock_credit=None,
        input_ratio=None,
        refund_rate=None,
        refundable_incremental=ZERO,
        refundable_stock=ZERO,
        refundable_total=ZERO,
        alternatives=(),
        trace=("没有适用的留抵退税政策",),
        options=case.options,
    )
