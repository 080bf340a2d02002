"""The refund rules compiled to one set-based statement for an application period (PostgreSQL).

A province screens a million taxpayers a night; calling the rules once per taxpayer in Python
costs about a millisecond each. So for one application period the parameters of
``refund.rules`` are resolved here, once, into SQL expressions, and a single statement decides
every taxpayer of a range: it reads the taxpayer, the rating in force on the application date
(``credit.selectors.rating_in_force_sql``; none: unrated, ``M``, as ``case_builder`` does), the
``ReturnState`` of its tax period (one row that already holds what the history contributes) and small
aggregates of compliance records and earlier refunds, and writes one ``ScreeningResult``.

The pure rules stay the authority. This module mirrors ``refund.rules.assess`` step for step
(same order of errors, same regimes, conditions, figures and choice), amounts in integer fen with
the refundable amounts divided last and rounded half up exactly as ``Ratio.applied_to`` does.
The property test (``refund/screening/tests/test_screening_sql.py``) runs both on generated taxpayers and
requires identical results. Taxpayers whose data this form does not cover exactly are handed
back (``handback_condition``) and decided by the rules themselves in Python:

- a monthly filer whose one-time stock refund falls inside the six-month window (some months
  compared with the 2019-03-31 base, the later ones with zero);
- a quarterly filer with returns for months that are not quarter ends in the 12 months of sales
  (the share test then depends on months the state row does not separate);
- a registered industry code that is not a normalised GB/T 4754-2017 code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.periods import Period, last_quarter_end_before, shift_months
from credit.selectors import rating_in_force_sql
from taxpayers.models import ComplianceRecord, Taxpayer

from ..models import ReturnState, ScreeningResult
from ..rules.conditions import CONDITION_BITS
from ..rules.facts import WINDOWED_REGIMES
from ..rules.options import Options
from ..rules.parameters import (
    ADVANCED_MANUFACTURING,
    BASE_CREDIT_PERIOD,
    COMPLIANCE_LOOKBACK_MONTHS,
    FIRST_COVERED,
    INDUSTRIES_2022,
    INDUSTRIES_CLASS1,
    INDUSTRIES_REAL_ESTATE,
    INDUSTRY_SHARE_ABOVE,
    LAST_COVERED,
    RATIO_NUMERATOR_KINDS,
    REGIME_PERIODS,
    SIZE_FALLBACK,
    SIZE_ROWS,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    STOCK_REFUND_OPENS,
    STOCK_REFUND_RESETS_BASE,
    VOUCHER_GROUPS,
    IndustryItem,
)
from ..rules.regimes import small_micro_open
from ..rules.size import SIZE_TABLE_PERIOD
from .case_builder import FRAUD_KINDS, IMMEDIATE_SINCE, NO_REFUNDS_SQL
from .return_states import month_index_sql
from .sql_regimes import RegimeSql, RegimeStatements, industry_match_sql, sql_all, sql_bool, sql_fen, sql_text

RESULT_COLUMNS = ("run_id", "taxpayer_id", *ScreeningResult.OUTCOME_FIELDS)


class SqlScreening(RegimeStatements):
    """The statement for one run and one taxpayer-id range: ``range_sql``."""

    def __init__(
        self,
        *,
        application_period: Period,
        application_date: date,
        options: Options,
        refunds_sql: str = NO_REFUNDS_SQL,
    ) -> None:
        self.p = application_period
        self.date = application_date
        self.options = options
        self.refunds_sql = refunds_sql
        self.covered = FIRST_COVERED <= application_period <= LAST_COVERED
        self.tm = application_period.minus(1)  # a monthly filer's tax period
        self.tq = last_quarter_end_before(application_period)  # a quarterly filer's

    # --- the SQL text -------------------------------------------------------------------------------

    def range_sql(self) -> str:
        """Decide the screenable taxpayers with ``%(lo)s <= id <= %(hi)s`` (params: run, lo, hi).

        One statement: the facts of the range are read once, the rows this form decides exactly are
        written, and it returns one row — how many it wrote, and the ids it hands back to the rules
        (``handback_condition``). The range must hold no results of the run yet (``refund.screening.services``
        deletes them first)."""
        insert = f"INSERT INTO {ScreeningResult._meta.db_table} ({', '.join(RESULT_COLUMNS)})"
        if not self.covered:
            return (
                f"WITH written AS ({insert} SELECT %(run)s, t.id, '', FALSE, 'out_of_range', 0, '', NULL, NULL, NULL, "
                f"NULL, NULL, '', 0, 0, 0 FROM {Taxpayer._meta.db_table} t WHERE {self._population('t')} RETURNING 1) "
                "SELECT (SELECT count(*) FROM written), ARRAY[]::bigint[]"
            )
        # Data-modifying WITH runs to completion whether or not it is read; every fact row not handed
        # back yields exactly one result row, so the count needs no RETURNING.
        return f"""
            WITH f AS MATERIALIZED (
                     SELECT facts.*, {self.handback_condition("facts")} AS back FROM ({self._facts_sql()}) AS facts
                 ),
                 written AS ({insert} {self._decision_select()})
            SELECT count(*) FILTER (WHERE NOT f.back), COALESCE(array_agg(f.taxpayer_id) FILTER (WHERE f.back), '{{}}')
            FROM f
        """

    def _population(self, alias: str) -> str:
        return (
            f"{alias}.general_taxpayer_since IS NOT NULL AND {alias}.status <> 'deregistered' "
            f"AND {alias}.id BETWEEN %(lo)s AND %(hi)s"
        )

    def handback_condition(self, a: str = "f") -> str:
        """The taxpayers this form does not decide exactly (see the module docstring); ``a``: the row alias."""
        parts = [f"{a}.industry_code !~ '^[A-T][0-9]{{2,4}}$'"]
        window_regimes = [c for c in ("CN-2019-39", "CN-2025-7-class2") if self._open(c)]
        if (window_regimes or self._small_micro_windowed()) and self._reset_active():
            # monthly window T-5 … T-1 with the stock refund inside it
            parts.append(
                f"(NOT {a}.q AND {a}.has_state AND {a}.stock_idx BETWEEN {self.tm.index - 4} AND {self.tm.index - 1})"
            )
        quarterly_gap = self.p.index - 1 - self.tq.index  # months between a quarterly filer's T and P
        later = ""
        if quarterly_gap > 0:
            months = ", ".join(sql_text(str(self.tq.plus(n))) for n in range(1, quarterly_gap + 1))
            later = (
                f" OR EXISTS (SELECT 1 FROM {ReturnState._meta.db_table} later_state "
                f"WHERE later_state.taxpayer_id = {a}.taxpayer_id AND later_state.period IN ({months}))"
            )
        parts.append(f"({a}.q AND {a}.has_state AND ({a}.returns_12m_off_quarter > 0{later}))")
        return "COALESCE(" + " OR ".join(parts) + ", FALSE)"

    def _facts_sql(self) -> str:
        """One row per screenable taxpayer of the range: its data, the state of its tax period, aggregates.

        Monthly and quarterly filers are read apart, each with its own tax period as a constant, so that
        each reads exactly the state rows it needs.
        """
        return f"{self._facts_branch(quarterly=False)} UNION ALL {self._facts_branch(quarterly=True)}"

    def _facts_branch(self, *, quarterly: bool) -> str:
        states = ReturnState._meta.db_table
        records = ComplianceRecord._meta.db_table
        tax_period = self.tq if quarterly else self.tm
        start = shift_months(self.date, -COMPLIANCE_LOOKBACK_MONTHS.at(self.p))
        window = f"BETWEEN DATE {sql_text(start.isoformat())} AND DATE {sql_text(self.date.isoformat())}"
        immediate_since = sql_text(IMMEDIATE_SINCE.isoformat())
        fraud = ", ".join(sql_text(k) for k in FRAUD_KINDS)
        base_day = BASE_CREDIT_PERIOD.at(self.p).last_day if BASE_CREDIT_PERIOD.covers(self.p) else None
        base_day_sql = f"DATE {sql_text(base_day.isoformat())}" if base_day else "DATE '2019-03-31'"
        prior_dec = Period(tax_period.year - 1, 12).last_day
        groups = ", ".join(f"s.from_2019_{g}, s.from_prior_january_{g}" for g in VOUCHER_GROUPS)
        refunds = self._refunds_aggregate_sql()
        frequency = "quarterly" if quarterly else "monthly"
        return f"""
        SELECT t.id AS taxpayer_id, t.industry_code,
               COALESCE(cr.level, 'M') AS lvl,
               {sql_bool(quarterly)} AS q, {tax_period.index} AS t_idx,
               NULLIF(t.size, '') AS size_given, t.size_industry,
               CAST(ROUND(t.prev_year_vat_sales * 100) AS BIGINT) AS prev_sales,
               t.prev_year_months_operated AS months_operated,
               CAST(ROUND(t.total_assets_prev_year_end * 100) AS BIGINT) AS assets,
               (t.size_industry <> '' OR t.prev_year_vat_sales IS NOT NULL OR t.prev_year_months_operated IS NOT NULL
                OR t.total_assets_prev_year_end IS NOT NULL) AS has_size_inputs,
               (t.general_taxpayer_since > {base_day_sql}) AS base_is_zero,
               (t.general_taxpayer_since > DATE {sql_text(prior_dec.isoformat())}) AS prior_dec_is_zero,
               (s.taxpayer_id IS NOT NULL) AS has_state,
               s.end_credit - s.approved_unbooked_export_refund - s.vat_arrears AS credit,
               s.base_2019_credit, s.prior_year_end_credit,
               s.months_positive, s.months_above_base, s.quarter_positive, s.quarter_above_base,
               {groups},
               s.sales_12m_plain, s.sales_12m_breakdown, s.returns_12m_broken_down, s.returns_12m_off_quarter,
               CASE WHEN s.returns_12m_broken_down > 0 THEN s.sales_12m_plain + COALESCE(
                   (SELECT SUM(e.value::bigint) FROM jsonb_each_text(s.sales_12m_breakdown) AS e), 0) END
                   AS sales_total_12m,
               COALESCE(c.fraud_hits, 0) AS fraud_hits, COALESCE(c.evasion_hits, 0) AS evasion_hits,
               COALESCE(c.immediate, FALSE) AS immediate, COALESCE(c.repaid, FALSE) AS repaid,
               pr.stock_idx, COALESCE(pr.window_used, FALSE) AS window_used
        FROM {Taxpayer._meta.db_table} t
        LEFT JOIN {states} s ON s.taxpayer_id = t.id AND s.period = {sql_text(str(tax_period))}
        LEFT JOIN ({rating_in_force_sql(self.date, where="taxpayer_id BETWEEN %(lo)s AND %(hi)s")}) AS cr
            ON cr.taxpayer_id = t.id
        LEFT JOIN (
            SELECT taxpayer_id,
                   COUNT(*) FILTER (WHERE kind IN ({fraud}) AND occurred_on {window}) AS fraud_hits,
                   COUNT(*) FILTER (WHERE kind = 'evasion_penalty' AND occurred_on {window}) AS evasion_hits,
                   bool_or(kind = 'immediate_refund' AND occurred_on BETWEEN DATE {immediate_since}
                           AND DATE {sql_text(self.date.isoformat())}) AS immediate,
                   bool_or(kind = 'immediate_refund_repaid' AND occurred_on <= DATE {sql_text(self.date.isoformat())})
                       AS repaid
            FROM {records} WHERE taxpayer_id BETWEEN %(lo)s AND %(hi)s GROUP BY taxpayer_id
        ) AS c ON c.taxpayer_id = t.id
        LEFT JOIN ({refunds}) AS pr ON pr.taxpayer_id = t.id
        WHERE {self._population("t")} AND t.filing_frequency = '{frequency}'
        """

    def _refunds_aggregate_sql(self) -> str:
        """Per taxpayer: the period index of its stock refund by P, and whether an earlier window overlaps T's."""
        p = self.p.index
        app = month_index_sql("r.application_period")
        windowed = ", ".join(sql_text(code) for code in WINDOWED_REGIMES)
        small_micro_windows = self.options.small_micro_after_2022 == "six_month_test"
        art3_until = SMALL_MICRO_ART3_ONLY_UNTIL.at(Period(2022, 4)).index
        used = f"(r.kind <> 'stock' AND r.regime IS NOT NULL AND (r.regime IN ({windowed})"
        if small_micro_windows:
            used += f" OR (r.regime = 'CN-2022-14-small-micro' AND {app} > {art3_until})"
        used += "))"
        # a refund's own tax period: the month before its application, or the last quarter-end before it
        own_m = f"({app} - 1)"
        own_q = f"(({app} - 1) - mod(mod({app} - 1, 12) + 1, 3))"
        overlap = (
            f"(CASE WHEN t.filing_frequency = 'quarterly' "
            f"THEN {own_q} BETWEEN {self.tq.index - 3} AND {self.tq.index + 3} "
            f"ELSE {own_m} BETWEEN {self.tm.index - 5} AND {self.tm.index + 5} END)"
        )
        return f"""
            SELECT r.taxpayer_id,
                   MIN({app}) FILTER (WHERE r.kind = 'stock' AND {app} <= {p}) AS stock_idx,
                   bool_or({app} <= {p} AND {used} AND {overlap}) AS window_used
            FROM ({self.refunds_sql}) AS r JOIN {Taxpayer._meta.db_table} t ON t.id = r.taxpayer_id
            WHERE r.taxpayer_id BETWEEN %(lo)s AND %(hi)s
            GROUP BY r.taxpayer_id
        """

    # --- derived facts (one level up from _facts_sql) -------------------------------------------------

    def _open(self, code: str) -> bool:
        return REGIME_PERIODS[code].covers(self.p)

    def _small_micro_open(self) -> bool:
        return small_micro_open(self.p, self.options.small_micro_after_2022)

    def _small_micro_windowed(self) -> bool:
        return self._small_micro_open() and self.p > SMALL_MICRO_ART3_ONLY_UNTIL.at(self.p)

    def _reset_active(self) -> bool:
        return STOCK_REFUND_RESETS_BASE.covers(self.p)

    def _reset_at(self, month: str) -> str:
        """The 2019-03-31 base no longer counts in ``month`` (a stock refund obtained by then; level g)."""
        if not self._reset_active():
            return "FALSE"
        return f"(g.stock_idx IS NOT NULL AND g.stock_idx <= {month})"

    def _share_member(self, items: tuple[IndustryItem, ...]) -> str:
        """``SalesMix.share(items) > 50%`` on the 12 months' sales (the registered industry when none broken down)."""
        threshold = INDUSTRY_SHARE_ABOVE.at(self.p) if INDUSTRY_SHARE_ABOVE.covers(self.p) else Decimal("0.5")
        tn, td = threshold.as_integer_ratio()
        main = industry_match_sql("f.industry_code", items)
        listed = (
            f"(COALESCE((SELECT SUM(e.value::bigint) FROM jsonb_each_text(f.sales_12m_breakdown) AS e "
            f"WHERE {industry_match_sql('e.key', items)}), 0) + CASE WHEN {main} THEN f.sales_12m_plain ELSE 0 END)"
        )
        return (
            f"(CASE WHEN f.sales_total_12m IS NULL OR f.sales_total_12m <= 0 THEN {main} "
            f"ELSE {td}::numeric * {listed} > {tn}::numeric * f.sales_total_12m END)"
        )

    def _size_sql(self) -> tuple[str, str]:
        """(size code or NULL, the error when it cannot be determined) as ``determine_size``."""
        table_period = self.p if SIZE_ROWS.covers(self.p) else SIZE_TABLE_PERIOD
        fallback_period = table_period if SIZE_FALLBACK.covers(table_period) else SIZE_TABLE_PERIOD
        rows = SIZE_ROWS.at(table_period)

        def below(value: str, limit: Decimal, *, annualised: bool) -> str:
            if not annualised:
                return f"({value} < {sql_fen(limit)})"
            return (
                f"(CASE WHEN f.months_operated IS NULL OR f.months_operated >= 12 THEN {value} < {sql_fen(limit)} "
                f"ELSE {value}::numeric * 12 < {sql_fen(limit)}::numeric * f.months_operated END)"
            )

        medium_below, small_below, micro_below = SIZE_FALLBACK.at(fallback_period)
        fallback = (
            f"CASE WHEN f.prev_sales IS NULL THEN NULL "
            f"WHEN {below('f.prev_sales', micro_below, annualised=True)} THEN 'micro' "
            f"WHEN {below('f.prev_sales', small_below, annualised=True)} THEN 'small' "
            f"WHEN {below('f.prev_sales', medium_below, annualised=True)} THEN 'medium' ELSE 'large' END"
        )
        values = {"revenue": ("f.prev_sales", True), "assets": ("f.assets", False)}

        def under(kind: str, limit: Decimal) -> str:
            column, annualised = values[kind]
            return below(column, limit, annualised=annualised)

        branches_size, branches_problem = [], []
        for name, row in rows.items():
            if row is None:
                continue
            missing = " OR ".join(f"{values[k][0]} IS NULL" for k in row.limits)
            any_micro = " OR ".join(under(k, limits[2]) for k, limits in row.limits.items())
            tiers = []
            for index, tier in enumerate(("large", "medium", "small")):
                reached = " AND ".join(f"NOT {under(k, limits[index])}" for k, limits in row.limits.items())
                tiers.append(f"WHEN {reached} THEN {sql_text(tier)}")
            branches_size.append(
                f"WHEN f.size_industry = {sql_text(name)} THEN CASE WHEN {missing} THEN NULL "
                f"WHEN {any_micro} THEN 'micro' {' '.join(tiers)} END"
            )
            branches_problem.append(f"WHEN f.size_industry = {sql_text(name)} AND ({missing}) THEN 'missing_size'")
        size = (
            "CASE WHEN f.size_given IS NOT NULL THEN f.size_given "
            "WHEN NOT f.has_size_inputs OR f.months_operated = 0 THEN NULL "
            f"{' '.join(branches_size)} ELSE {fallback} END"
        )
        problem = (
            "CASE WHEN f.size_given IS NOT NULL THEN NULL "
            "WHEN NOT f.has_size_inputs THEN 'missing_size' WHEN f.months_operated = 0 THEN 'unsupported' "
            f"{' '.join(branches_problem)} "
            + (
                "WHEN f.prev_sales IS NULL AND f.size_industry NOT IN ("
                + ", ".join(sql_text(n) for n, r in rows.items() if r is not None)
                + ") THEN 'missing_size' "
            )
            + "ELSE NULL END"
        )
        return size, problem

    def _ratio(self, first: str) -> tuple[str, str]:
        """(numerator, denominator) in fen, from the state's sums ``first`` = 'from_2019' | 'from_prior_january'."""
        kinds = RATIO_NUMERATOR_KINDS.at(self.p)
        groups = [g for g, members in VOUCHER_GROUPS.items() if set(members) <= kinds]
        if set().union(*(VOUCHER_GROUPS[g] for g in groups)) != set(kinds):
            raise ValueError("a numerator is not a union of VOUCHER_GROUPS: add a group (and a ReturnState column)")
        num = " + ".join(f"g.{first}_{g}" for g in groups) or "0"
        den = " + ".join(f"g.{first}_{g}" for g in VOUCHER_GROUPS)
        return f"({num})", f"({den})"

    def _derived_sql(self) -> str:
        """Level g: the figures every regime shares (``refund.rules.facts``), for the taxpayers not handed back."""
        size, size_problem = self._size_sql()
        base = "(CASE WHEN f.base_is_zero THEN 0 ELSE COALESCE(f.base_2019_credit, 0) END)"
        members = {
            "m_class1": INDUSTRIES_CLASS1, "m_real_estate": INDUSTRIES_REAL_ESTATE,
            "m_2022": INDUSTRIES_2022, "m_advanced": ADVANCED_MANUFACTURING,
        }
        member_sql = []
        for name, parameter in members.items():
            if parameter.covers(self.p):
                member_sql.append(f"{self._share_member(parameter.at(self.p))} AS {name}")
            else:
                member_sql.append(f"FALSE AS {name}")
        six = INDUSTRIES_2022.at(Period(2022, 4))
        member_sql.append(f"{self._share_member(six)} AS m_six")
        return f"""
        SELECT f.*,
               (NOT f.base_is_zero AND f.base_2019_credit IS NULL) AS base_missing,
               {base} AS base_amount,
               (NOT f.prior_dec_is_zero AND f.prior_year_end_credit IS NULL) AS prior_dec_missing,
               (CASE WHEN f.prior_dec_is_zero THEN 0 ELSE f.prior_year_end_credit END) AS prior_dec,
               {size} AS size, {size_problem} AS size_problem,
               {", ".join(member_sql)}
        FROM f
        WHERE NOT f.back
        OFFSET 0
        """

    def _error_sql(self, a: str) -> str:
        """``assess``'s order: the tax period's return, the 2019 base (39号), the size, then the 2025 bases."""
        g = a
        cases = [f"WHEN NOT {g}.has_state THEN 'missing_return'"]
        if self._open("CN-2019-39"):
            cases.append(f"WHEN {g}.base_missing THEN 'missing_return'")
        if self._small_micro_open():
            openings = STOCK_REFUND_OPENS.at(self.p)
            all_open = {route: max(o.period for o in ops.values()) <= self.p for route, ops in openings.items()}
            moot = (
                f"({g}.m_2022 AND CASE WHEN {g}.m_six THEN {sql_bool(all_open['industry'])} "
                f"ELSE {sql_bool(all_open['industry_21'])} END)"
            )
            cases.append(f"WHEN {g}.size IS NULL AND NOT {moot} THEN {g}.size_problem")
        if self._open("CN-2025-7-class2"):
            cases.append(f"WHEN {g}.m_real_estate AND {g}.base_missing THEN 'missing_return'")
        if self._open("CN-2025-7-class3"):
            cases.append(
                f"WHEN NOT {g}.m_class1 AND NOT {g}.m_real_estate AND {g}.prior_dec_missing THEN 'missing_return'"
            )
        return "CASE " + " ".join(cases) + " END"

    def _decision_select(self) -> str:
        regimes = self.regimes()
        per_regime = []
        for r in regimes:
            k = r.alias
            failed = " + ".join(
                f"CASE WHEN {passed} THEN 0 ELSE {CONDITION_BITS[code]} END" for code, passed in r.conditions
            )
            per_regime.append(
                f"""{r.evaluated} AS ev_{k}, {r.member} AS mem_{k}, {r.eligible} AS el_{k},
                    ({failed}) AS failed_{k}, {r.base} AS base_{k}, {r.incremental} AS inc_{k}, {r.stock} AS stock_{k},
                    {r.num} AS num_{k}, {r.den} AS den_{k}, {r.rate_text} AS rate_{k},
                    CASE WHEN {r.eligible} THEN {r.refund_incremental} ELSE 0 END AS ri_{k},
                    CASE WHEN {r.eligible} THEN {r.refund_stock} ELSE 0 END AS rs_{k}"""
            )
        h = (
            f"SELECT g.taxpayer_id, g.size, g.credit, {self._error_sql('g')} AS error, {', '.join(per_regime)} "
            f"FROM ({self._derived_sql()}) AS g OFFSET 0"
        )

        def key(r: RegimeSql) -> str:
            k = r.alias
            return f"ROW(h.el_{k}, h.ri_{k} + h.rs_{k}, h.mem_{k}, {r.specificity}, {-r.order})"

        # _choose: the largest eligible total; else the most specific member; then the table's order.
        wins = []
        for index, r in enumerate(regimes):
            beats = [f"(NOT h.ev_{o.alias} OR {key(r)} > {key(o)})" for o in regimes if o is not r]
            evaluated = f"h.ev_{r.alias}"
            wins.append(f"WHEN {sql_all(evaluated, *beats)} THEN {index}")
        chosen = f"SELECT h.*, CASE {' '.join(wins)} END AS chosen FROM ({h}) AS h OFFSET 0"

        def pick(column: str) -> str:
            cases = " ".join(f"WHEN {i} THEN k.{column}_{r.alias}" for i, r in enumerate(regimes))
            return f"(CASE k.chosen {cases} END)"

        def money(value: str) -> str:
            """A figure in yuan as the contract shows it: below zero as 0.00, absent as NULL."""
            return f"(CASE WHEN {value} IS NOT NULL THEN GREATEST({value}, 0)::numeric / 100 END)"

        def ok(expression: str, otherwise: str = "NULL") -> str:
            return f"CASE WHEN k.error IS NULL THEN {expression} ELSE {otherwise} END"

        codes = "CASE k.chosen " + " ".join(f"WHEN {i} THEN {sql_text(r.code)}" for i, r in enumerate(regimes)) + " END"
        num, den, ri, rs = pick("num"), pick("den"), pick("ri"), pick("rs")
        ratio = f"CASE WHEN {den} > 0 THEN div(2000000::numeric * {num} + {den}, 2::numeric * {den}) / 1000000 END"
        return f"""
            SELECT %(run)s, k.taxpayer_id, {ok(codes, "''")}, {ok(pick("el"), "FALSE")}, COALESCE(k.error, ''),
                   {ok(pick("failed"), "0")}, {ok("COALESCE(k.size, '')", "''")},
                   {ok(money("k.credit"))}, {ok(money(pick("base")))}, {ok(money(pick("inc")))},
                   {ok(money(pick("stock")))}, {ok(ratio)}, {ok(pick("rate"), "''")},
                   {ok(f"{ri}::numeric / 100", "0")}, {ok(f"{rs}::numeric / 100", "0")},
                   {ok(f"({ri} + {rs})::numeric / 100", "0")}
            FROM ({chosen}) AS k
        """
