"""What each recorded behaviour costs and restores: counting, 首违不罚, repair, and the open ones.

Counting (2014年第48号; 2025年第12号 附件1): per tax and occurrence — every event its own deduction;
per month — late returns (or withholdings) whose deadlines fall in the same month share one deduction;
one-off — once a year. A shared deduction sits on the earliest event of its group (the others show
``already_counted``); it is repaired when every event of the group is corrected, by the band of the
last correction, and the amount rule looks at the group's total tax. Corrections after ``as_of`` do not
count: the behaviour is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.periods import Period

from .errors import CaseError
from .indicators import Indicator, find_indicator
from .inputs import Evaluation, Event
from .parameters import NO_PENALTY_CITATION, NO_PENALTY_NOT_COUNTED, REPAIR_STANDARD, RULE_SET
from .repair import ZERO, RepairTerms, best_still_open, repair_of


@dataclass(frozen=True)
class EventResult:
    """One behaviour's deduction and repair (points), its band and the article behind them."""

    event: Event
    rule_set: str
    indicator_name: str
    deduction: Decimal
    repair: Decimal
    band: str  # a repair band, or open / not_repairable / too_late / no_penalty / already_counted
    citation: str

    @property
    def net(self) -> Decimal:
        return self.deduction - self.repair


@dataclass(frozen=True)
class CreditWarning:
    """A behaviour still open whose correction would restore points: at stake, and by when."""

    code: str
    indicator: str
    indicator_name: str
    recorded_on: date
    points_at_stake: Decimal
    deadline: date | None


@dataclass(frozen=True)
class _Group:
    indicator: Indicator
    rule_set: str
    members: tuple[int, ...]  # indexes into the events, the carrier first
    terms: RepairTerms
    citation: str


def _indicator(evaluation: Evaluation, event: Event) -> Indicator:
    indicator = find_indicator(event.indicator, evaluation.table_day(event.recorded_on))
    if indicator is None:
        raise CaseError(
            "unknown_indicator", f"{event.indicator} 不是 {event.recorded_on.isoformat()} 适用的评价指标代码。"
        )
    return indicator


def _group_key(index: int, event: Event, indicator: Indicator, rule_set: str) -> tuple:
    if indicator.counting == "per_month":  # the month of the missed deadline: the day before the record
        return (indicator.code, rule_set, Period.of(event.recorded_on - timedelta(days=1)))
    if indicator.counting == "one_off":
        return (indicator.code, rule_set)
    return (index,)


def _groups(evaluation: Evaluation, counted: list[int]) -> list[_Group]:
    keyed: dict[tuple, list[int]] = {}
    for index in counted:
        event = evaluation.events[index]
        indicator = _indicator(evaluation, event)
        key = _group_key(index, event, indicator, RULE_SET.at(evaluation.table_day(event.recorded_on)))
        keyed.setdefault(key, []).append(index)
    groups = []
    for members in keyed.values():
        members.sort(key=lambda i: (evaluation.events[i].recorded_on, i))
        carrier = evaluation.events[members[0]]
        day = evaluation.table_day(carrier.recorded_on)
        indicator = _indicator(evaluation, carrier)
        standard = REPAIR_STANDARD.version_at(day)
        amounts = [evaluation.events[i].amount for i in members if evaluation.events[i].amount is not None]
        terms = RepairTerms(
            indicator=indicator,
            standard=standard.value,
            deduction=indicator.points,
            amount=sum(amounts, ZERO) if amounts else None,
            threshold_included=evaluation.options.amount_threshold == "included",
            bankruptcy=evaluation.taxpayer.bankruptcy_reorganisation,
        )
        citation = standard.citation if indicator.repairable else indicator.citation
        groups.append(_Group(indicator, RULE_SET.at(day), tuple(members), terms, citation))
    return groups


def _corrected_on(evaluation: Evaluation, members: tuple[int, ...]) -> date | None:
    """The group's correction: the last of its events', or None while any is open on ``as_of``."""
    dates = [evaluation.events[i].corrected_on for i in members]
    if any(d is None or d > evaluation.as_of for d in dates):
        return None
    return max(d for d in dates if d is not None)


def score_events(evaluation: Evaluation, eval_day: date) -> tuple[tuple[EventResult, ...], tuple[CreditWarning, ...]]:
    """Each event's result (in input order) and the warnings for the open ones, most costly first."""
    results: dict[int, EventResult] = {}
    not_counted = NO_PENALTY_NOT_COUNTED.at(eval_day)
    counted = []
    for index, event in enumerate(evaluation.events):
        indicator = _indicator(evaluation, event)
        day = evaluation.table_day(event.recorded_on)
        if event.no_penalty and not_counted:
            citation = NO_PENALTY_CITATION.version_at(day).citation
            results[index] = EventResult(event, RULE_SET.at(day), indicator.name, ZERO, ZERO, "no_penalty", citation)
        else:
            counted.append(index)
    warnings = []
    for group in _groups(evaluation, counted):
        carrier = evaluation.events[group.members[0]]
        corrected_on = _corrected_on(evaluation, group.members)
        if corrected_on is None:
            band, repair = "open", ZERO
            warning = _warning(group, carrier, evaluation.as_of)
            if warning is not None:
                warnings.append(warning)
        else:
            band, repair = repair_of(group.terms, carrier.recorded_on, corrected_on)
        name = group.indicator.name
        results[group.members[0]] = EventResult(
            carrier, group.rule_set, name, group.terms.deduction, repair, band, group.citation
        )
        for index in group.members[1:]:
            event = evaluation.events[index]
            results[index] = EventResult(
                event, group.rule_set, name, ZERO, ZERO, "already_counted", group.indicator.citation
            )
    warnings.sort(key=lambda w: (-w.points_at_stake, w.deadline or date.max, w.indicator, w.recorded_on))
    return tuple(results[i] for i in range(len(evaluation.events))), tuple(warnings)


def _warning(group: _Group, carrier: Event, as_of: date) -> CreditWarning | None:
    best = best_still_open(group.terms, carrier.recorded_on, as_of)
    if best is None:
        return None
    restored, deadline = best
    return CreditWarning(
        "correct_open_behaviour", group.indicator.code, group.indicator.name, carrier.recorded_on, restored, deadline
    )


def all_corrected_on(evaluation: Evaluation, day: date) -> tuple[Event, ...]:
    """The events as if every one still open were corrected on ``day``."""
    return tuple(
        event
        if event.corrected_on is not None and event.corrected_on <= evaluation.as_of
        else Event(event.indicator, event.recorded_on, event.tax, event.amount, day, event.no_penalty)
        for event in evaluation.events
    )
