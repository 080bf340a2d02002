"""What each recorded behaviour costs and restores: counting, 首违不罚, repair, and the open ones.

Counting (2014年第48号; 2025年第12号 附件1): per tax and occurrence — every event its own deduction;
per month — late returns (or withholdings) whose deadlines fall in the same month share one deduction;
one-off — once a year. A shared deduction sits on the earliest event of its group (the others show
``already_counted``); it is repaired when every event of the group is corrected, by the band of the
last correction, and the amount rule looks at the group's total tax. Corrections after ``as_of`` do not
count: the behaviour is still open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from core.periods import Period

from .errors import CaseError
from .indicators import Indicator, find_indicator
from .inputs import Evaluation, Event, table_day
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
class _Looked:
    """What an event's code and record date give, the same for every taxpayer: its indicator, rule set, table
    day and, for an indicator counted per month, the month of the missed deadline (the day before the record)."""

    indicator: Indicator
    rule_set: str
    day: date
    month: Period | None


@functools.lru_cache(maxsize=8192)
def _look_up(code: str, recorded_on: date, transition_2025: str) -> _Looked:
    """Kept: the daily prediction asks the same few codes and days for every taxpayer (errors are not kept)."""
    day = table_day(transition_2025, recorded_on)
    indicator = find_indicator(code, day)
    if indicator is None:
        raise CaseError("unknown_indicator", f"{code} 不是 {recorded_on.isoformat()} 适用的评价指标代码。")
    month = Period.of(recorded_on - timedelta(days=1)) if indicator.counting == "per_month" else None
    return _Looked(indicator, RULE_SET.at(day), day, month)


def _group_key(index: int, looked: _Looked) -> tuple:
    if looked.indicator.counting == "per_month":
        return (looked.indicator.code, looked.rule_set, looked.month)
    if looked.indicator.counting == "one_off":
        return (looked.indicator.code, looked.rule_set)
    return (index,)


def _terms(evaluation: Evaluation, members: list[int], looked: _Looked) -> tuple[RepairTerms, str]:
    """The group's repair terms (on its carrier's table day, the amount rule on its total tax) and citation."""
    indicator = looked.indicator
    standard = REPAIR_STANDARD.version_at(looked.day)
    amounts = [evaluation.events[i].amount for i in members if evaluation.events[i].amount is not None]
    terms = RepairTerms(
        indicator=indicator,
        standard=standard.value,
        deduction=indicator.points,
        amount=sum(amounts, ZERO) if amounts else None,
        threshold_included=evaluation.options.amount_threshold == "included",
        bankruptcy=evaluation.taxpayer.bankruptcy_reorganisation,
    )
    return terms, standard.citation if indicator.repairable else indicator.citation


def _corrected_on(events: tuple[Event, ...], members: list[int], as_of: date) -> date | None:
    """The group's correction: the last of its events', or None while any is open on ``as_of``."""
    last = None
    for i in members:
        day = events[i].corrected_on
        if day is None or day > as_of:
            return None
        if last is None or day > last:
            last = day
    return last


Results = tuple[EventResult, ...]


def score_events(evaluation: Evaluation, eval_day: date) -> tuple[Results, tuple[CreditWarning, ...], Results]:
    """Each event's result (in input order), the warnings for the open ones (most costly first), and each
    event's result as if every open one were corrected on ``as_of`` (``all_corrected_on``).

    Both share the lookups, the grouping and the groups already corrected: correcting the open events changes
    only the open groups. Without an open event the second is the first (the same tuple)."""
    events, as_of = evaluation.events, evaluation.as_of
    transition = evaluation.options.transition_2025
    looked = [_look_up(event.indicator, event.recorded_on, transition) for event in events]
    repaired_events = all_corrected_on(evaluation, as_of)
    any_open = repaired_events is not events
    not_counted = NO_PENALTY_NOT_COUNTED.at(eval_day) if events else False
    results: list[EventResult | None] = [None] * len(events)
    repaired: list[EventResult | None] = [None] * len(events)
    keyed: dict[tuple, list[int]] = {}
    for index, event in enumerate(events):
        row = looked[index]
        if event.no_penalty and not_counted:
            citation = NO_PENALTY_CITATION.version_at(row.day).citation
            result = EventResult(event, row.rule_set, row.indicator.name, ZERO, ZERO, "no_penalty", citation)
            results[index] = result
            if any_open:
                repaired[index] = replace(result, event=repaired_events[index])
        else:
            keyed.setdefault(_group_key(index, row), []).append(index)
    warnings = []
    for members in keyed.values():
        if len(members) > 1:
            members.sort(key=lambda i: (events[i].recorded_on, i))
        carrier, row = events[members[0]], looked[members[0]]
        terms, citation = _terms(evaluation, members, row)
        corrected_on = _corrected_on(events, members, as_of)
        if corrected_on is None:
            band, repair = "open", ZERO
            warning = _warning(terms, carrier, as_of)
            if warning is not None:
                warnings.append(warning)
        else:
            band, repair = repair_of(terms, carrier.recorded_on, corrected_on)
        _settle(results, events, members, row, terms.deduction, repair, band, citation)
        if not any_open:
            continue
        if corrected_on is None:  # every event of the group corrected on as_of: the group's correction is as_of
            band, repair = repair_of(terms, carrier.recorded_on, as_of)
            _settle(repaired, repaired_events, members, row, terms.deduction, repair, band, citation)
        else:  # corrected already: the same events, the same results
            for index in members:
                repaired[index] = results[index]
    warnings.sort(key=lambda w: (-w.points_at_stake, w.deadline or date.max, w.indicator, w.recorded_on))
    scored = tuple(results)
    return scored, tuple(warnings), tuple(repaired) if any_open else scored


def _settle(
    results: list, events: tuple[Event, ...], members: list[int], row: _Looked, deduction, repair, band, citation
) -> None:
    """The group's deduction and repair on its carrier; the others ``already_counted``."""
    name = row.indicator.name
    results[members[0]] = EventResult(events[members[0]], row.rule_set, name, deduction, repair, band, citation)
    for index in members[1:]:
        results[index] = EventResult(
            events[index], row.rule_set, name, ZERO, ZERO, "already_counted", row.indicator.citation
        )


def _warning(terms: RepairTerms, carrier: Event, as_of: date) -> CreditWarning | None:
    best = best_still_open(terms, carrier.recorded_on, as_of)
    if best is None:
        return None
    restored, deadline = best
    indicator = terms.indicator
    return CreditWarning(
        "correct_open_behaviour", indicator.code, indicator.name, carrier.recorded_on, restored, deadline
    )


def all_corrected_on(evaluation: Evaluation, day: date) -> tuple[Event, ...]:
    """The events as if every one still open were corrected on ``day`` (``evaluation.events`` itself, the same
    tuple, when none is open)."""
    as_of, events = evaluation.as_of, evaluation.events
    first = next((i for i, e in enumerate(events) if e.corrected_on is None or e.corrected_on > as_of), None)
    if first is None:
        return events
    return events[:first] + tuple(
        event
        if event.corrected_on is not None and event.corrected_on <= as_of
        else Event(event.indicator, event.recorded_on, event.tax, event.amount, day, event.no_penalty)
        for event in events[first:]
    )
