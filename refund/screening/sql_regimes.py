"""The regimes of ``refund.rules.regimes`` as SQL: each regime's membership, conditions and figures for one
application period, built by ``RegimeStatements`` (a part of ``SqlScreening``, which supplies the period, the
options and the derived facts these expressions read), and the small SQL-text helpers both use.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.periods import Period

from ..rules.conditions import CONDITION_ORDER
from ..rules.parameters import (
    CLASS3_TIERS,
    CREDIT_LEVELS_ALLOWED,
    EVASION_PENALTIES_ALLOWED,
    IMMEDIATE_REFUND_REPAYMENT_ROUTE,
    RATE_FULL,
    RATE_GENERAL_39,
    RATE_REAL_ESTATE,
    SIX_MONTH_FIRST_MONTH,
    SIX_MONTH_MINIMUM,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    STOCK_REFUND_OPENS,
    IndustryItem,
)
from ..rules.regimes import REGIMES, small_micro_open

NULL = "NULL::bigint"  # a figure the regime does not have (typed, so that CASE can pick among them)


def sql_text(value: str) -> str:
    """A SQL string literal of one of our own constants (codes, periods, dates)."""
    if "'" in value or "\\" in value:
        raise ValueError(f"unexpected quote in constant {value!r}")
    return f"'{value}'"


def sql_bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def sql_fen(amount: Decimal) -> str:
    return str(int(amount * 100))


def sql_all(*parts: str) -> str:
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


def refund_fen(amount: str, rate: Decimal, num: str, den: str) -> str:
    """round_half_up(amount × rate × num ÷ den) in fen, dividing last (``Ratio.applied_to``); 0 without a ratio."""
    rn, rd = rate.as_integer_ratio()
    return (
        f"(CASE WHEN {den} > 0 AND {amount} > 0 THEN "
        f"div(2::numeric * ({amount}) * {rn} * ({num}) + {rd}::numeric * ({den}), 2::numeric * {rd} * ({den}))"
        f"::bigint ELSE 0 END)"
    )


def industry_match_sql(column: str, items: tuple[IndustryItem, ...]) -> str:
    """``refund.rules.industry.code_matches`` for a normalised code column ("C3411")."""
    parts = []
    letters = sorted(item.code for item in items if item.code.isalpha())
    if letters:
        parts.append(f"left({column}, 1) IN ({', '.join(sql_text(c) for c in letters)})")
    digits: dict[int, list[str]] = {}
    for item in items:
        if not item.code.isalpha():
            digits.setdefault(len(item.code), []).append(item.code)
    for length, codes in sorted(digits.items()):
        parts.append(f"substr({column}, 2, {length}) IN ({', '.join(sql_text(c) for c in sorted(codes))})")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


@dataclass
class RegimeSql:
    code: str
    order: int
    specificity: int
    evaluated: str  # the regime is tried for this taxpayer (its evaluator does not return None)
    member: str
    conditions: list[tuple[str, str]]  # (code, passed) in the contract's order
    base: str  # fen or NULL
    incremental: str
    stock: str
    num: str
    den: str
    rate_text: str  # SQL text
    refund_incremental: str  # fen, before the eligibility gate
    refund_stock: str = "0"

    @property
    def eligible(self) -> str:
        return sql_all(*(passed for _, passed in self.conditions))

    @property
    def alias(self) -> str:
        """The suffix of this regime's columns: ``cn_2019_39``."""
        return self.code.replace("-", "_").lower()


class RegimeStatements:
    """The regimes' SQL (``regimes``), for ``SqlScreening``: reads its ``p``, ``options`` and derived facts."""

    def _common(self) -> list[tuple[str, str]]:
        allowed = ", ".join(sql_text(level) for level in sorted(CREDIT_LEVELS_ALLOWED.at(self.p)))
        route = IMMEDIATE_REFUND_REPAYMENT_ROUTE.at(self.p)
        return [
            ("credit_a_or_b", f"(g.lvl IN ({allowed}))"),
            ("no_fraud_36m", "(g.fraud_hits = 0)"),
            ("evasion_penalties_under_2_36m", f"(g.evasion_hits <= {EVASION_PENALTIES_ALLOWED.at(self.p)})"),
            ("no_immediate_refund", f"(NOT g.immediate OR (g.repaid AND {sql_bool(route)}))"),
        ]

    def _base_at(self, month: str) -> str:
        return f"(CASE WHEN {self._reset_at(month)} THEN 0 ELSE g.base_amount END)"

    def _window_positive(self, *, over_base: bool, first_month: Period | None) -> str:
        """Every month (quarter) of the window has a return with figure > 0; T's own figure is checked apart.

        ``over_base``: months compare with the 2019-03-31 base as it stands in each (0 after the stock
        refund); the mixed case was handed back, so all five earlier months use the same comparison.
        """
        t = "g.t_idx"
        if over_base:
            zero_monthly = f"(g.base_is_zero OR {self._reset_at(f'{t} - 5')})"
            zero_quarterly = f"(g.base_is_zero OR {self._reset_at(f'{t} - 3')})"
            monthly = f"(CASE WHEN {zero_monthly} THEN g.months_positive ELSE g.months_above_base END = 5)"
            quarterly = f"(CASE WHEN {zero_quarterly} THEN g.quarter_positive ELSE g.quarter_above_base END)"
        else:
            monthly, quarterly = "(g.months_positive = 5)", "g.quarter_positive"
        first_ok = "TRUE"
        if first_month is not None:
            first_ok = f"(CASE WHEN g.q THEN {t} - 2 ELSE {t} END >= {first_month.index})"
        return f"(CASE WHEN g.q THEN {quarterly} ELSE {monthly} END AND {first_ok})"

    def _regime_39(self, order: int) -> RegimeSql:
        num, den = self._ratio("from_2019")
        base_now = self._base_at("g.t_idx")
        inc = f"(g.credit - {base_now})"
        minimum = sql_fen(SIX_MONTH_MINIMUM.at(self.p))
        rate = RATE_GENERAL_39.at(self.p)
        window = self._window_positive(over_base=True, first_month=SIX_MONTH_FIRST_MONTH.at(self.p))
        conditions = [
            *self._common(),
            ("six_month_positive", f"({window} AND {inc} > 0)"),
            ("sixth_month_500k", f"({inc} >= {minimum})"),
            ("window_not_reused", "(NOT g.window_used)"),
            ("input_deducted", f"({den} > 0)"),
        ]
        return RegimeSql(
            "CN-2019-39", order, 0, "TRUE", "TRUE", conditions, base_now, inc, NULL, num, den,
            sql_text(f"{rate:.2f}"), refund_fen(inc, rate, num, den),
        )

    def _regime_advanced(self, order: int, code: str) -> RegimeSql:
        num, den = self._ratio("from_2019")
        inc = "(g.credit - g.base_amount)"
        rate = RATE_FULL.at(self.p)
        conditions = [
            *self._common(),
            ("industry_share", "g.m_advanced"),
            ("increment_positive", f"({inc} > 0)"),
            ("input_deducted", f"({den} > 0)"),
        ]
        return RegimeSql(
            code, order, 1, "TRUE", "g.m_advanced", conditions, "g.base_amount", inc, NULL, num, den,
            sql_text(f"{rate:.2f}"), refund_fen(inc, rate, num, den),
        )

    def _fourteen(self, order: int, code: str, *, member: str, gate: str, route_sql: str, windowed: bool) -> RegimeSql:
        num, den = self._ratio("from_2019")
        rate = RATE_FULL.at(self.p)
        has_stock_refund = "(g.stock_idx IS NOT NULL)"  # obtained by P (the aggregate only keeps those)
        stock = f"(CASE WHEN {has_stock_refund} THEN 0 ELSE GREATEST(LEAST(g.credit, g.base_amount), 0) END)"
        base_now = self._base_at("g.t_idx")
        inc = f"(g.credit - {base_now})"
        conditions = [*self._common(), (gate, member)]
        if windowed:
            minimum = sql_fen(SIX_MONTH_MINIMUM.at(self.p))
            window = self._window_positive(over_base=True, first_month=SIX_MONTH_FIRST_MONTH.at(self.p))
            conditions += [
                ("six_month_positive", f"({window} AND {inc} > 0)"),
                ("sixth_month_500k", f"({inc} >= {minimum})"),
                ("window_not_reused", "(NOT g.window_used)"),
            ]
        else:
            conditions.append(("credit_positive", "(g.credit > 0)"))
        conditions.append(("input_deducted", f"({den} > 0)"))
        stock_open = f"({route_sql} AND NOT {has_stock_refund})"
        return RegimeSql(
            code, order, 1, "TRUE", member, _ordered(conditions), base_now, inc, stock, num, den,
            sql_text(f"{rate:.2f}"), refund_fen(inc, rate, num, den),
            refund_stock=f"(CASE WHEN {stock_open} THEN {refund_fen(stock, rate, num, den)} ELSE 0 END)",
        )

    def _stock_open_sql(self, route: str) -> str:
        """``_stock_open``: the size's opening period has come (unknown size: every size's has)."""
        openings = STOCK_REFUND_OPENS.at(self.p)[route]
        known = " ".join(
            f"WHEN g.size = {sql_text(size)} THEN {sql_bool(opening.period <= self.p)}"
            for size, opening in openings.items()
        )
        latest = max(o.period for o in openings.values())
        return f"(CASE {known} WHEN g.size IS NULL THEN {sql_bool(latest <= self.p)} ELSE FALSE END)"

    def _regime_small_micro(self, order: int) -> RegimeSql:
        windowed = self.p > SMALL_MICRO_ART3_ONLY_UNTIL.at(self.p)
        member = "(COALESCE(g.size IN ('micro', 'small'), FALSE))"
        return self._fourteen(
            order, "CN-2022-14-small-micro", member=member, gate="size_small_micro",
            route_sql=self._stock_open_sql("small_micro"), windowed=windowed,
        )

    def _regime_industry_2022(self, order: int) -> RegimeSql:
        route = (
            f"(CASE WHEN g.m_six THEN {self._stock_open_sql('industry')} "
            f"ELSE {self._stock_open_sql('industry_21')} END)"
        )
        return self._fourteen(
            order, "CN-2022-14-industry", member="g.m_2022", gate="industry_share", route_sql=route, windowed=False
        )

    def _regime_class1(self, order: int) -> RegimeSql:
        num, den = self._ratio("from_2019")
        rate = RATE_FULL.at(self.p)
        conditions = [
            *self._common(),
            ("industry_share", "g.m_class1"),
            ("credit_positive", "(g.credit > 0)"),
            ("input_deducted", f"({den} > 0)"),
        ]
        return RegimeSql(
            "CN-2025-7-class1", order, 1, "TRUE", "g.m_class1", conditions, NULL, "g.credit", NULL, num, den,
            sql_text(f"{rate:.2f}"), refund_fen("g.credit", rate, num, den),
        )

    def _reuse_enforced(self) -> bool:
        return self.options.window_reuse_2025 == "not_reused"

    def _regime_class2(self, order: int) -> RegimeSql:
        num, den = self._ratio("from_2019")
        rate = RATE_REAL_ESTATE.at(self.p)
        base_now = self._base_at("g.t_idx")
        inc = f"(g.credit - {base_now})"
        minimum = sql_fen(SIX_MONTH_MINIMUM.at(self.p))
        conditions = [
            *self._common(),
            ("industry_share", "g.m_real_estate"),
            ("six_month_positive", f"({self._window_positive(over_base=True, first_month=None)} AND {inc} > 0)"),
            ("sixth_month_500k", f"({inc} >= {minimum})"),
            ("window_not_reused", "(NOT g.window_used)" if self._reuse_enforced() else "TRUE"),
            ("input_deducted", f"({den} > 0)"),
        ]
        return RegimeSql(
            "CN-2025-7-class2", order, 1, "TRUE", "g.m_real_estate", conditions, base_now, inc, NULL, num, den,
            sql_text(f"{rate:.2f}"), refund_fen(inc, rate, num, den),
        )

    def _regime_class3(self, order: int) -> RegimeSql:
        option = self.options.class3_ratio_start
        num, den = self._ratio("from_prior_january" if option == "prior_year_january" else "from_2019")
        tiers = CLASS3_TIERS.at(self.p)
        has_base = "(NOT g.prior_dec_missing)"
        inc = "(g.credit - COALESCE(g.prior_dec, 0))"
        minimum = sql_fen(SIX_MONTH_MINIMUM.at(self.p))
        conditions = [
            *self._common(),
            ("six_month_positive", f"({self._window_positive(over_base=False, first_month=None)} AND g.credit > 0)"),
            ("sixth_month_500k", f"({has_base} AND {inc} >= {minimum})"),
            ("window_not_reused", "(NOT g.window_used)" if self._reuse_enforced() else "TRUE"),
            ("input_deducted", f"({den} > 0)"),
        ]
        # gross = Σ segment × rate, scaled to integers: rates with two places × 100
        scale = 100
        segments, lower = [], Decimal(0)
        for cap, rate in tiers:
            upper = inc if cap is None else f"LEAST({inc}, {sql_fen(cap)})"
            segments.append(f"GREATEST({upper} - {sql_fen(lower)}, 0) * {int(rate * scale)}")
            if cap is None:
                break
            lower = cap
        gross = "(" + " + ".join(segments) + ")"
        refund = refund_fen(gross, Decimal(1) / scale, num, den)
        first_cap, first_rate = tiers[0]
        blended = f"(div(2000000::numeric * {gross} + {scale}::numeric * {inc}, 2::numeric * {scale} * {inc}))"
        rate_text = (
            f"(CASE WHEN {inc} <= {sql_fen(first_cap)} THEN {sql_text(f'{first_rate:.2f}')} "
            f"ELSE ({blended} / 1000000)::numeric(9, 6)::text END)"
        )
        return RegimeSql(
            "CN-2025-7-class3", order, 0, "(NOT g.m_class1)", "TRUE", conditions,
            f"(CASE WHEN {has_base} THEN g.prior_dec END)", f"(CASE WHEN {has_base} THEN {inc} END)", NULL,
            num, den, rate_text, f"(CASE WHEN {inc} > 0 THEN {refund} ELSE 0 END)",
        )

    def regimes(self) -> list[RegimeSql]:
        builders = {
            "CN-2019-39": self._regime_39,
            "CN-2019-84": lambda order: self._regime_advanced(order, "CN-2019-84"),
            "CN-2021-15": lambda order: self._regime_advanced(order, "CN-2021-15"),
            "CN-2022-14-small-micro": self._regime_small_micro,
            "CN-2022-14-industry": self._regime_industry_2022,
            "CN-2025-7-class1": self._regime_class1,
            "CN-2025-7-class2": self._regime_class2,
            "CN-2025-7-class3": self._regime_class3,
        }
        out = []
        for order, regime in enumerate(REGIMES):
            if not regime.open_in(self.p):
                continue
            if regime.code == "CN-2022-14-small-micro" and not small_micro_open(
                self.p, self.options.small_micro_after_2022
            ):
                continue
            out.append(builders[regime.code](order))
        return out



def _ordered(conditions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(conditions, key=lambda item: CONDITION_ORDER.index(item[0]))
