"""``assess``: one taxpayer's predicted score and level for one year, and the contract's output.

Score = start − Σ net deductions − 11 after a score-based D last year (2020年第15号 三; 2025 第三十四条)
[− 11 per not-A condition under the 48号 table, if the option asks] [+ bonuses the options allow],
kept within 0 … 100. The level then follows ``level.level_for``. ``score_if_all_repaired_now`` corrects
every open behaviour on ``as_of``; a direct D stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import CaseError
from .inputs import Evaluation
from .level import LevelFacts, is_new_entity, level_for, not_a_conditions
from .options import Options
from .parameters import (
    CONSECUTIVE_A_BONUS,
    LEVEL_BANDS,
    NOT_A_DEDUCTION_2014,
    OLD_TO,
    OVERALL_REPAIR_CAP,
    PREVIOUS_D,
    REFUND_CREDIT_LEVELS,
    RULE_SET,
    RULE_SET_2014,
    RULE_SET_2025,
    START_SCORES,
    NotCovered,
    evaluation_date,
)
from .repair import ZERO, points
from .scoring import CreditWarning, EventResult, score_events

HUNDRED = Decimal(100)

CONTRACT_KEYS = (
    "year",
    "rule_set",
    "start_score",
    "events",
    "score",
    "level",
    "not_a_reasons",
    "score_if_all_repaired_now",
    "level_if_all_repaired_now",
    "refund_credit_gate",
    "warnings",
)


@dataclass(frozen=True)
class Assessment:
    """The rating predicted for ``year`` as known on ``as_of``."""

    year: int
    as_of: date
    rule_set: str
    start_score: Decimal
    events: tuple[EventResult, ...]
    extra_deduction: Decimal  # after a score-based D last year, and the 48号 not-A option
    bonus: Decimal  # consecutive-A and overall repair, when the options allow
    score: Decimal
    level: str
    not_a_conditions: tuple[str, ...]  # every not-A condition that holds
    not_a_reasons: tuple[str, ...]  # those that capped an A at B (empty unless one did)
    score_if_all_repaired_now: Decimal
    level_if_all_repaired_now: str
    warnings: tuple[CreditWarning, ...]
    options: Options

    @property
    def refund_credit_gate(self) -> bool:
        """Whether the level passes the 留抵退税 A/B condition."""
        return self.level in REFUND_CREDIT_LEVELS


def year_day(evaluation: Evaluation) -> date:
    """The day the year-level parameters are read on (the ``transition_2025`` option may move it)."""
    if evaluation.year == 2025 and evaluation.options.transition_2025 == "old_rules_whole_year":
        return OLD_TO
    return evaluation_date(evaluation.year)


def start_score(evaluation: Evaluation, day: date) -> Decimal:
    scores = START_SCORES.at(day)
    taxpayer = evaluation.taxpayer
    if taxpayer.non_regular_info:
        return scores.with_non_regular
    if scores.regular_complete is not None and taxpayer.regular_tax_fee_info_complete:
        return scores.regular_complete
    return scores.otherwise


def _previous_d(evaluation: Evaluation, day: date) -> tuple[bool, Decimal]:
    """(D kept this year, extra points) from last year's D."""
    taxpayer = evaluation.taxpayer
    if taxpayer.previous_level != "D":
        return False, ZERO
    rule = PREVIOUS_D.at(day)
    treatment = {"direct": rule.direct, "related": rule.related}.get(taxpayer.previous_d_kind, rule.score)
    if treatment == "none":
        return False, ZERO
    if treatment == "extra":
        return False, rule.extra_points
    first = taxpayer.previous_d_first_year
    return first is None or first >= evaluation.year - 1, ZERO


def _level_facts(evaluation: Evaluation, day: date) -> tuple[LevelFacts, Decimal]:
    as_of = evaluation.as_of
    found = [d for d in evaluation.taxpayer.direct_d if d.date <= as_of]
    open_d = any(d.repaired_on is None or d.repaired_on > as_of for d in found)
    kept, extra = _previous_d(evaluation, day)
    not_a = not_a_conditions(evaluation, direct_d_repaired=bool(found) and not open_d)
    facts = LevelFacts(
        direct_d_open=open_d,
        direct_d_kept=kept,
        new_entity=is_new_entity(evaluation),
        no_business_revenue=evaluation.taxpayer.no_business_revenue,
        not_a=not_a,
    )
    if evaluation.options.not_a_deduction_2014 == "deduct_11" and RULE_SET.at(day) == RULE_SET_2014:
        per_condition = NOT_A_DEDUCTION_2014.at(day)
        extra += per_condition * sum(1 for c in not_a if c in ("business_under_3_years", "vat_payable_zero_months"))
    return facts, extra


def _clean_months(evaluation: Evaluation, results: tuple[EventResult, ...]) -> int:
    """Whole months from the last record or correction to ``as_of`` (for overall repair). A 首违不罚 record is
    not part of the evaluation, so neither it nor its correction starts the months again."""
    counted = [r.event for r in results if r.band != "no_penalty"]
    days = [e.recorded_on for e in counted] + [e.corrected_on for e in counted if e.corrected_on]
    last = max(days)
    months = (evaluation.as_of.year - last.year) * 12 + evaluation.as_of.month - last.month
    return max(months - (1 if evaluation.as_of.day < last.day else 0), 0)


def _bonus(evaluation: Evaluation, day: date, results: tuple[EventResult, ...]) -> Decimal:
    if RULE_SET.at(day) != RULE_SET_2025:
        return ZERO
    bonus = ZERO
    if evaluation.options.consecutive_a_bonus == "plus_one" and evaluation.taxpayer.previous_level == "A":
        bonus += CONSECUTIVE_A_BONUS.at(day)
    remaining = sum((r.net for r in results), ZERO)
    all_corrected = all(r.band != "open" for r in results)
    if evaluation.options.overall_repair == "per_clean_month" and remaining > 0 and all_corrected:
        bonus += min(Decimal(_clean_months(evaluation, results)), OVERALL_REPAIR_CAP.at(day), remaining)
    return bonus


def _score(start: Decimal, bonus: Decimal, results: tuple[EventResult, ...], extra: Decimal) -> Decimal:
    total = start - sum((r.net for r in results), ZERO) - extra + bonus
    return points(min(max(total, ZERO), HUNDRED))


def assess(evaluation: Evaluation) -> Assessment:
    """Score, level, repair and warnings for one evaluation; ``CaseError`` when it cannot be assessed."""
    try:
        return _assess(evaluation)
    except NotCovered as exc:
        raise CaseError("out_of_range", f"规则参数 {exc.name} 未覆盖 {exc.key.isoformat()}。") from None


def _assess(evaluation: Evaluation) -> Assessment:
    day = year_day(evaluation)
    bands = LEVEL_BANDS.at(day)
    facts, extra = _level_facts(evaluation, day)
    results, warnings, repaired_results = score_events(evaluation, day)
    start = start_score(evaluation, day)
    bonus = _bonus(evaluation, day, results)
    score = _score(start, bonus, results, extra)
    level, reasons = level_for(score, facts, bands)
    if repaired_results is results:  # nothing open: correcting "now" changes nothing
        repaired_score, repaired_level = score, level
    else:
        repaired_bonus = _bonus(evaluation, day, repaired_results)
        repaired_score = _score(start, repaired_bonus, repaired_results, extra)
        repaired_level = level_for(repaired_score, facts, bands)[0]
    return Assessment(
        year=evaluation.year,
        as_of=evaluation.as_of,
        rule_set=RULE_SET.at(day),
        start_score=start,
        events=results,
        extra_deduction=extra,
        bonus=bonus,
        score=score,
        level=level,
        not_a_conditions=facts.not_a,
        not_a_reasons=reasons,
        score_if_all_repaired_now=repaired_score,
        level_if_all_repaired_now=repaired_level,
        warnings=warnings,
        options=evaluation.options,
    )


# --- the contract's JSON -----------------------------------------------------------------------


def score_text(value: Decimal) -> str:
    """ "90", "89.4": at most one decimal place, no trailing zero."""
    value = points(value) + ZERO
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


def to_contract_json(assessment: Assessment) -> dict[str, object]:
    """The contract's output object (keys in ``CONTRACT_KEYS`` order)."""
    return {
        "year": assessment.year,
        "rule_set": assessment.rule_set,
        "start_score": score_text(assessment.start_score),
        "events": [
            {
                "indicator": r.event.indicator,
                "recorded_on": r.event.recorded_on.isoformat(),
                "deduction": score_text(r.deduction),
                "repair": score_text(r.repair),
                "net": score_text(r.net),
                "band": r.band,
                "citation": r.citation,
            }
            for r in assessment.events
        ],
        "score": score_text(assessment.score),
        "level": assessment.level,
        "not_a_reasons": list(assessment.not_a_reasons),
        "score_if_all_repaired_now": score_text(assessment.score_if_all_repaired_now),
        "level_if_all_repaired_now": assessment.level_if_all_repaired_now,
        "refund_credit_gate": assessment.refund_credit_gate,
        "warnings": [
            {
                "code": w.code,
                "indicator": w.indicator,
                "points_at_stake": score_text(w.points_at_stake),
                "deadline": w.deadline.isoformat() if w.deadline else None,
            }
            for w in assessment.warnings
        ],
    }
