"""A taxpayer's credit page, year by year: each evaluation year's ratings (the one in force marked) and its
behaviours, each with the points it costs and what correcting or repairing it would restore.

A read: nothing is written. The points come from ``credit.rules.assess`` over the year's behaviours; for a year
already rated, what a repair case would restore and why it cannot come from ``credit.repairs.figures`` (the same
refusals and figures a case uses); for the year not yet rated, the rules' warning says what correcting an open
behaviour by when would win back (the daily prediction reads the same rule).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from .models import CreditCase, CreditRating, DishonestyEvent
from .models.repairs import BAND_LABELS
from .repairs.figures import RepairOutlook, repair_outlook, rule_event, year_facts
from .rules import CaseError, Evaluation, assess
from .rules.assess import score_text
from .rules.scoring import CreditWarning, EventResult


@dataclass(frozen=True)
class EventLine:
    """One behaviour as the credit page shows it. ``outlook`` says in words what it costs or would restore;
    ``repairable`` marks one a repair case can be opened for now."""

    event: DishonestyEvent
    deduction: Decimal | None
    outlook: str
    repairable: bool = False
    case_id: int | None = None  # the open case that names it


@dataclass(frozen=True)
class YearSection:
    year: int
    ratings: list[CreditRating]
    lines: list[EventLine]
    in_force_id: int | None  # the year's rating in force today, if the one in force is of this year


def _unrated_line(event: DishonestyEvent, result: EventResult | None, warning: CreditWarning | None) -> EventLine:
    """A behaviour of a year not rated yet: correcting it counts at the evaluation by its band."""
    deduction = result.deduction if result else None
    if result is None:
        return EventLine(event, None, "—")
    if result.band in ("no_penalty", "already_counted"):
        return EventLine(event, deduction, BAND_LABELS[result.band] + "，不另扣分")
    if warning is not None:
        by = f"，{warning.deadline:%Y-%m-%d} 前纠正可挽回最多" if warning.deadline else ""
        text = f"纠正后可挽回 {score_text(warning.points_at_stake)} 分{by}"
        return EventLine(event, deduction, text)
    if event.corrected_on and result.repair > 0:
        text = f"已纠正（{BAND_LABELS.get(result.band, '')}），评价时恢复 {score_text(result.repair)} 分"
        return EventLine(event, deduction, text)
    if result.band == "not_repairable":
        return EventLine(event, deduction, "不可修复")
    return EventLine(event, deduction, "按规则已无可恢复分值")


def _rated_line(event: DishonestyEvent, result: EventResult | None, outlook: RepairOutlook, pending) -> EventLine:
    """A behaviour of a rated year: a repair case restores points, or the reason it cannot."""
    deduction = result.deduction if result else None
    if event.pk in pending:
        case = pending[event.pk]
        text = f"已申请{case.get_kind_display()}，{case.get_state_display()}，办结期限 {case.due_on:%Y-%m-%d}"
        return EventLine(event, deduction, text, case_id=case.pk)
    if result is not None and result.band == "already_counted":
        return EventLine(event, deduction, BAND_LABELS["already_counted"] + "，不另扣分")
    if event.pk in outlook.reasons:
        return EventLine(event, deduction, outlook.reasons[event.pk].rstrip("。"))
    restored = outlook.restored.get(event.pk, Decimal(0))
    if restored <= 0:
        return EventLine(event, deduction, "按规则修复可恢复的分值为零")
    deadline = outlook.deadlines[event.pk]
    if event.corrected_on is None:
        text = f"今日纠正并申请修复可恢复 {score_text(restored)} 分，申请期限 {deadline:%Y-%m-%d}"
        return EventLine(event, deduction, text)
    text = f"可申请修复，恢复 {score_text(restored)} 分，申请期限 {deadline:%Y-%m-%d}"
    return EventLine(event, deduction, text, repairable=True)


def _assess_year(taxpayer, year: int, rows: list[DishonestyEvent], today: dt.date):
    """The rules over the year's behaviours as recorded, on ``today`` (None when the rules refuse them)."""
    base = Evaluation(year=year, as_of=max(today, dt.date(year, 1, 1)), taxpayer=year_facts(taxpayer, year))
    try:
        return assess(replace(base, events=tuple(rule_event(r, r.corrected_on) for r in rows)))
    except CaseError:
        return None


def _section(taxpayer, year: int, ratings, rows, *, today, in_force, pending) -> YearSection:
    assessment = _assess_year(taxpayer, year, rows, today) if rows else None
    results = dict(zip((r.pk for r in rows), assessment.events, strict=True)) if assessment else {}
    outlook = repair_outlook(taxpayer=taxpayer, year=year, rows=rows, on=today) if rows and ratings else None
    if outlook is not None:
        lines = [_rated_line(row, results.get(row.pk), outlook, pending) for row in rows]
    elif ratings and rows:
        not_by_points = "该年度结果不是按得分评定的，按直接判级修复的规定办理"
        lines = [EventLine(row, getattr(results.get(row.pk), "deduction", None), not_by_points) for row in rows]
    else:
        warnings = {(w.indicator, w.recorded_on): w for w in assessment.warnings} if assessment else {}
        lines = [
            _unrated_line(row, results.get(row.pk), warnings.get((row.indicator, row.recorded_on))) for row in rows
        ]
    lines.sort(key=lambda line: (line.event.recorded_on, line.event.pk), reverse=True)
    return YearSection(year, ratings, lines, in_force.pk if in_force and in_force.year == year else None)


def taxpayer_years(
    taxpayer,
    *,
    ratings: list[CreditRating],
    events: list[DishonestyEvent],
    today: dt.date,
    pending: Mapping[int, CreditCase] | None = None,
) -> list[YearSection]:
    """Every year with a rating or a behaviour, the latest first; ``pending`` maps a behaviour to the open case
    that names it."""
    by_year_ratings: dict[int, list[CreditRating]] = defaultdict(list)
    for rating in ratings:
        by_year_ratings[rating.year].append(rating)
    by_year_events: dict[int, list[DishonestyEvent]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.recorded_on, e.pk)):
        by_year_events[event.recorded_on.year].append(event)
    in_force = next((r for r in ratings if r.evaluated_on <= today), None)
    years = sorted(set(by_year_ratings) | set(by_year_events), reverse=True)
    return [
        _section(
            taxpayer,
            year,
            by_year_ratings.get(year, []),
            by_year_events.get(year, []),
            today=today,
            in_force=in_force,
            pending=pending or {},
        )
        for year in years
    ]
