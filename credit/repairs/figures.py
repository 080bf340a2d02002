"""What a case would give, from the rules: eligibility of each behaviour named, and the score and level before and
after (a read; nothing is written here).

The taxpayer's year is assessed twice with ``credit.rules.assess``: as rated (the behaviours named still open for a
repair, as they are for a 复核/复评), and as the case asks (corrected on the stated dates, or the disputed
deductions removed). The difference is what the rules restore — never more than was deducted, per behaviour.
It is added to the score of the rating in force, and the level follows the year's bands and not-A conditions
(国家税务总局公告2021年第31号 三: 按照《纳税信用修复范围及标准》调整…重新评价).

A 复核 is filed only in March of the year after the evaluation year (``credit.rules.repair.review_window``); before
the year's result is set it is figured on the rules' own assessment of the year. A year rated D directly is
repaired from its cause (``direct_d_figures``), a related D (关联评价为D) once its linked firm is no longer
非正常户 / D (``credit.rules.related``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from credit.rules import CaseError, Evaluation, Event, TaxpayerFacts, assess
from credit.rules.assess import year_day
from credit.rules.indicators import find_indicator
from credit.rules.inputs import DirectD
from credit.rules.level import LevelFacts, level_for
from credit.rules.options import Options
from credit.rules.parameters import LEVEL_BANDS, NEW_SYSTEM_FROM, evaluation_date
from credit.rules.related import (
    RELATED_D_TAXPAYER,
    RELATED_NON_NORMAL,
    LinkedFirm,
    related_d_clean_months,
    related_d_cleared,
    related_direct_d,
)
from credit.rules.repair import re_evaluation_deadline, review_window
from taxpayers.models import Taxpayer

from ..models import CreditCase, CreditCaseItem, CreditRating, DishonestyEvent, RatingBasis
from ..models.repairs import BAND_LABELS
from ..selectors import IN_FORCE_ORDER, rating_in_force

HUNDRED = Decimal(100)


class NotEligible(Exception):
    """The case cannot be granted as asked; ``reasons`` are the Chinese sentences shown to the officer."""

    def __init__(self, reasons: list[str]):
        super().__init__("；".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class ItemFigures:
    event: DishonestyEvent
    corrected_on: dt.date | None
    deduction: Decimal
    restored: Decimal
    band: str

    @property
    def band_label(self) -> str:
        return BAND_LABELS.get(self.band, self.band)


@dataclass(frozen=True)
class CaseFigures:
    """The rating in force, what the rules restore, and the score and level after. A 复核 filed before the year's
    result is set has no rating yet: ``predicted`` holds the level and score the rules give the year instead."""

    rating: CreditRating | None
    items: tuple[ItemFigures, ...]
    restored: Decimal
    score_after: Decimal
    level_after: str
    direct_d: bool = False  # 直接判级修复: the D lifted, the level from the year's score
    predicted: tuple[str, Decimal] | None = None

    @property
    def level_before(self) -> str:
        return self.rating.level if self.rating is not None else self.predicted[0]

    @property
    def score_before(self) -> Decimal | None:
        return self.rating.score if self.rating is not None else self.predicted[1]


@dataclass(frozen=True)
class DirectDClaim:
    """What the application states for a direct D: its cause (``CreditCase.DirectDCause``) and when it was
    cleared (the 非正常户 status lifted, the obligations met); None while it is not."""

    cause: str
    cleared_on: dt.date | None
    linked_taxpayer_id: int | None = None  # 关联评价为D: the 非正常户 or D taxpayer the responsible person is linked to


def rating_of_year(taxpayer_id: int, year: int) -> CreditRating | None:
    """The latest rating row of the evaluation year (the one a repair or 复评 supersedes)."""
    return CreditRating.objects.filter(taxpayer_id=taxpayer_id, year=year).order_by(*IN_FORCE_ORDER).first()


def year_facts(taxpayer, year: int) -> TaxpayerFacts:
    """What the rules need of the taxpayer for ``year``: its first tax matter and the previous year's level."""
    previous = rating_of_year(taxpayer.pk, year - 1)
    return TaxpayerFacts(
        first_tax_matter_date=taxpayer.registered_on,
        previous_level=previous.level if previous else None,
        previous_d_kind=None
        if previous is None or previous.level != "D"
        else ("score" if previous.score is not None else "direct"),
    )


def rule_event(row: DishonestyEvent, corrected_on: dt.date | None) -> Event:
    """The rules' view of a recorded behaviour, corrected on ``corrected_on`` (None: still open)."""
    return Event(row.indicator, row.recorded_on, row.tax or None, row.amount, corrected_on, row.no_penalty)


def apply_deadline(row: DishonestyEvent) -> dt.date:
    """Old rules: apply before the end of the year after the record (37号 二); 2025 rules: before the next
    year's annual evaluation (2025年第12号 第二十四条), read as the evaluation day of the year after the record."""
    if row.recorded_on < NEW_SYSTEM_FROM:
        return dt.date(row.recorded_on.year + 1, 12, 31)
    return evaluation_date(row.recorded_on.year + 1) - dt.timedelta(days=1)


def _rated_on(rating: CreditRating) -> dt.date:
    """The day the year's annual result was set (a later repair or 复评 row does not move it)."""
    first = (
        CreditRating.objects.filter(taxpayer_id=rating.taxpayer_id, year=rating.year, basis=RatingBasis.EVALUATED)
        .order_by("evaluated_on")
        .values_list("evaluated_on", flat=True)
        .first()
    )
    return first or rating.evaluated_on


def _repaired_before(event_ids: set[int], exclude_case: int | None) -> set[int]:
    granted = CreditCaseItem.objects.filter(event_id__in=event_ids, granted=True).exclude(case_id=exclude_case)
    return set(granted.values_list("event_id", flat=True))


def _refusal(
    row: DishonestyEvent,
    *,
    kind: str,
    correction: dt.date | None,
    on: dt.date,
    applied_on: dt.date,
    repaired: set[int],
    rated_on: dt.date,
) -> str:
    """Why ``row`` cannot be granted in a case of ``kind`` (a sentence without the behaviour's name), or ""."""
    indicator = find_indicator(row.indicator, row.recorded_on)
    if row.no_penalty:
        return "属首违不罚，未计入评价，无需申请。"
    if row.pk in repaired:
        return "已经修复或撤销扣分，不能重复申请。"
    if kind != CreditCase.Kind.REPAIR:
        return ""
    if indicator is None or not indicator.repairable:
        return "不在《纳税信用修复范围及标准》所列可修复情形内。"
    if correction is None:
        return "尚未纠正，纠正后方可申请修复。"
    if correction > on:
        return "的纠正日期晚于今天。"
    if row.corrected_on is not None and row.corrected_on <= rated_on:
        return "在评价结果确定前已经纠正，评价时已按纠正时间修复，无需申请。"
    if applied_on > apply_deadline(row):
        return f"已超过申请修复的期限（{apply_deadline(row):%Y-%m-%d}）。"
    return ""


def _refusals(
    *,
    kind: str,
    rating: CreditRating,
    rows: list[DishonestyEvent],
    corrections: dict[int, dt.date | None],
    on: dt.date,
    applied_on: dt.date,
    case_id: int | None,
) -> list[str]:
    repaired = _repaired_before({r.pk for r in rows}, case_id)
    rated_on = _rated_on(rating) if kind == CreditCase.Kind.REPAIR else rating.evaluated_on
    reasons = []
    if kind == CreditCase.Kind.RE_EVALUATION and applied_on > (last := re_evaluation_deadline(_rated_on(rating))):
        reasons.append(f"该年度评价结果的复评申请期限已过（{last:%Y-%m-%d}）。")
    for row in rows:
        reason = _refusal(
            row,
            kind=kind,
            correction=corrections.get(row.pk),
            on=on,
            applied_on=applied_on,
            repaired=repaired,
            rated_on=rated_on,
        )
        if reason:
            reasons.append(f"“{row.indicator_label}”（{row.recorded_on:%Y-%m-%d}）{reason}")
    return reasons


def case_figures(
    *,
    taxpayer,
    kind: str,
    year: int,
    corrections: dict[int, dt.date | None],
    on: dt.date,
    case_id: int | None = None,
    applied_on: dt.date | None = None,
    direct_d: DirectDClaim | None = None,
) -> CaseFigures:
    """The figures of a case naming ``corrections`` (event id → the correction date stated, or None for a
    disputed deduction) decided on ``on`` (applied for on ``applied_on``, by default the same day);
    ``NotEligible`` with every reason when it cannot be granted. A repair of a year rated D directly takes
    ``direct_d`` (the cause and the day it was cleared) instead (``direct_d_figures``)."""
    if kind == CreditCase.Kind.REVIEW:
        review_refusal(year, applied_on or on)
    rating = rating_of_year(taxpayer.pk, year)
    if rating is None and kind == CreditCase.Kind.REVIEW:
        return _unrated_review_figures(taxpayer=taxpayer, year=year, corrections=corrections, on=on, case_id=case_id)
    if rating is None:
        raise NotEligible(["该评价年度尚无评价结果：未评价的行为在年度评价时按纠正时间自动修复，无需申请。"])
    if rating.score is None and rating.level == "D" and kind == CreditCase.Kind.REPAIR:
        return direct_d_figures(
            taxpayer=taxpayer,
            rating=rating,
            direct_d=direct_d or DirectDClaim("", None),
            on=on,
            applied_on=applied_on or on,
            case_id=case_id,
        )
    if rating.score is None:
        raise NotEligible(["该年度结果不是按评价得分评定的（M 级或直接判级），不能按扣分修复或复评。"])
    if not corrections:
        raise NotEligible(["请至少选择一项失信行为。"])
    rows = list(DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__year=year))
    chosen = [r for r in rows if r.pk in corrections]
    if len(chosen) != len(corrections):
        raise NotEligible(["所选失信行为不属于该纳税人该评价年度。"])
    reasons = _refusals(
        kind=kind,
        rating=rating,
        rows=chosen,
        corrections=corrections,
        on=on,
        applied_on=applied_on or on,
        case_id=case_id,
    )
    if reasons:
        raise NotEligible(reasons)
    return _figures(taxpayer=taxpayer, kind=kind, year=year, rows=rows, corrections=corrections, on=on, rating=rating)


class ReviewOutsideWindow(NotEligible):
    """A 复核 filed outside March of the year after the evaluation year."""


def review_refusal(year: int, applied_on: dt.date) -> None:
    """``ReviewOutsideWindow`` (Chinese reason) when a 复核 of ``year`` filed on ``applied_on`` is outside its window
    (``credit.rules.repair.review_window``)."""
    first, last = review_window(year)
    if not first <= applied_on <= last:
        raise ReviewOutsideWindow(
            [
                f"复核须在评价年度次年3月提出：{year}年度的复核期限为{first:%Y-%m-%d}至{last:%Y-%m-%d}，"
                f"{applied_on:%Y-%m-%d}不在期限内。评价结果确定后有异议的，可申请复评。"
            ]
        )


def _unrated_review_figures(*, taxpayer, year, corrections, on, case_id) -> CaseFigures:
    """复核 before the year's result is set: the rules assess the year with and without the disputed deductions;
    the office settles it when it sets the result in April."""
    if not corrections:
        raise NotEligible(["请至少选择一项有异议的失信行为。"])
    rows = list(DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__year=year))
    chosen = [r for r in rows if r.pk in corrections]
    if len(chosen) != len(corrections):
        raise NotEligible(["所选失信行为不属于该纳税人该评价年度。"])
    repaired = _repaired_before({r.pk for r in rows}, case_id)
    reasons = [
        f"“{row.indicator_label}”（{row.recorded_on:%Y-%m-%d}）{reason}"
        for row in chosen
        if (
            reason := _refusal(
                row, kind=CreditCase.Kind.REVIEW, correction=None, on=on, applied_on=on, repaired=repaired, rated_on=on
            )
        )
    ]
    if reasons:
        raise NotEligible(reasons)
    kept = [r for r in rows if r.pk not in repaired]
    base = Evaluation(year=year, as_of=max(on, dt.date(year, 12, 31)), taxpayer=year_facts(taxpayer, year))
    try:
        before = assess(replace(base, events=tuple(rule_event(r, r.corrected_on) for r in kept)))
        after_rows = [r for r in kept if r.pk not in corrections]
        after = assess(replace(base, events=tuple(rule_event(r, r.corrected_on) for r in after_rows)))
    except CaseError as exc:
        raise NotEligible([f"规则无法评价该年度：{exc}"]) from None
    deducted = {row.pk: result for row, result in zip(kept, before.events, strict=True)}
    items = tuple(ItemFigures(row, None, deducted[row.pk].net, deducted[row.pk].net, "removed") for row in chosen)
    restored = max(after.score - before.score, Decimal(0))
    return CaseFigures(None, items, restored, after.score, after.level, predicted=(before.level, before.score))


def _figures(*, taxpayer, kind, year, rows, corrections, on, rating) -> CaseFigures:
    repaired = _repaired_before({r.pk for r in rows}, None)
    kept = [r for r in rows if r.pk not in repaired or r.pk in corrections]
    base = Evaluation(year=year, as_of=max(on, dt.date(year, 1, 1)), taxpayer=year_facts(taxpayer, year))
    before_events = tuple(rule_event(r, None if r.pk in corrections else r.corrected_on) for r in kept)
    if kind == CreditCase.Kind.REPAIR:
        after_rows = kept
        after_events = tuple(rule_event(r, corrections.get(r.pk, r.corrected_on)) for r in kept)
    else:
        after_rows = [r for r in kept if r.pk not in corrections]
        after_events = tuple(rule_event(r, r.corrected_on) for r in after_rows)
    try:
        before = assess(replace(base, events=before_events))
        after = assess(replace(base, events=after_events))
    except CaseError as exc:
        raise NotEligible([f"规则无法评价该年度：{exc}"]) from None
    restored = max(after.score - before.score, Decimal(0))
    results = {row.pk: result for row, result in zip(after_rows, after.events, strict=True)}
    deducted = {row.pk: result for row, result in zip(kept, before.events, strict=True)}
    items = tuple(
        ItemFigures(
            event=row,
            corrected_on=corrections[row.pk],
            deduction=deducted[row.pk].deduction,
            restored=results[row.pk].repair if row.pk in results else deducted[row.pk].deduction,
            band=results[row.pk].band if row.pk in results else "removed",
        )
        for row in kept
        if row.pk in corrections
    )
    if restored <= 0:
        raise NotEligible(["按规则所选行为可恢复的分值为零，不能修复。"])
    score_after = min(rating.score + restored, HUNDRED)
    day = year_day(base)
    facts = LevelFacts(False, False, False, False, after.not_a_conditions)
    level_after, _ = level_for(score_after, facts, LEVEL_BANDS.at(day))
    return CaseFigures(rating, items, restored, score_after, level_after)


CLEAN_MONTHS_LATE_DIRECT_D = 12
"""Applied for after the end of the year after the direct D: only with no new dishonesty record in the 12 months
before applying (2021年第31号 一（四）及附件2)."""


def direct_d_apply_deadline(year: int) -> dt.date:
    """直接判级修复 is applied for before the end of the year after the direct D (2019年第37号 二; 31号 附件2)."""
    return dt.date(year + 1, 12, 31)


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    while True:
        try:
            return day.replace(year=year, month=month + 1)
        except ValueError:
            day = day - dt.timedelta(days=1)


def _non_normal_repaired_in(taxpayer_id: int, year: int, case_id: int | None) -> bool:
    """A 非正常户 repair is granted once per calendar year (2019年第37号 二): another granted one applied for in
    ``year``."""
    granted = CreditCase.objects.filter(
        taxpayer_id=taxpayer_id,
        kind=CreditCase.Kind.REPAIR,
        direct_d_cause=CreditCase.DirectDCause.NON_NORMAL,
        state__in=(CreditCase.State.APPROVED, CreditCase.State.PARTLY),
        received_on__year=year,
    )
    return granted.exclude(pk=case_id).exists()


def linked_firm(taxpayer_id: int, on: dt.date) -> LinkedFirm | None:
    """The linked taxpayer's registry status and rating in force on ``on``; None when it is not held."""
    status = Taxpayer.objects.filter(pk=taxpayer_id).values_list("status", flat=True).first()
    if status is None:
        return None
    rating = rating_in_force(taxpayer_id, on)
    return LinkedFirm(non_normal=status == Taxpayer.Status.ABNORMAL, level=rating.level if rating else None)


LINKED_CODES = {
    CreditCase.DirectDCause.LINKED_ABNORMAL: RELATED_NON_NORMAL,
    CreditCase.DirectDCause.LINKED_D: RELATED_D_TAXPAYER,
}


def _linked_refusals(*, taxpayer, claim: DirectDClaim, on, applied_on) -> list[str]:
    """关联评价为D: the linked firm must no longer be 非正常户 / D (2019年第37号 三; 2021年第31号 一（三）), with the
    clean months before applying the rules ask (``credit.rules.related``)."""
    if claim.linked_taxpayer_id is None or claim.linked_taxpayer_id == taxpayer.pk:
        return ["关联评价为D级的修复须填写关联纳税人（直接责任人员关联的非正常户或D级纳税人，不能是申请人本身）。"]
    linked = linked_firm(claim.linked_taxpayer_id, on)
    if linked is None:
        return ["关联纳税人不在纳税人名册中。"]
    if not related_d_cleared(LINKED_CODES[claim.cause], linked):
        still = "非正常户" if linked.non_normal else "D级"
        return [f"关联纳税人目前仍为{still}，关联原因尚未消除，不能修复。"]
    if claim.cleared_on is None:
        return ["请填写关联原因消除之日（关联纳税人解除非正常户或不再评为D级之日）。"]
    reasons = []
    if claim.cleared_on > on:
        reasons.append("关联原因消除日期晚于今天。")
    months = related_d_clean_months(applied_on, Options())
    since = _months_before(applied_on, months)
    if months and DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__gt=since, recorded_on__lte=applied_on):
        reasons.append(f"关联评价为D级的修复须申请前连续{months}个月没有新的失信行为记录。")
    return reasons


def _direct_d_refusals(*, taxpayer, rating, claim: DirectDClaim, on, applied_on, case_id) -> list[str]:
    if claim.cause not in CreditCase.DirectDCause.values:
        return ["该年度为直接判级D级，请选择直接判级的情形。"]
    if claim.cause in LINKED_CODES:
        return _linked_refusals(taxpayer=taxpayer, claim=claim, on=on, applied_on=applied_on)
    if claim.cleared_on is None:
        return ["直接判级的情形尚未解除（未填写解除非正常户或履行义务的日期），解除后方可申请修复。"]
    reasons = []
    if claim.cleared_on > on:
        reasons.append("直接判级情形的解除日期晚于今天。")
    if claim.cause == CreditCase.DirectDCause.NON_NORMAL and _non_normal_repaired_in(
        taxpayer.pk, applied_on.year, case_id
    ):
        reasons.append(f"非正常户修复每个纳税年度只能申请一次，{applied_on.year}年已准予过一次。")
    if applied_on > (last := direct_d_apply_deadline(rating.year)):
        since = _months_before(applied_on, CLEAN_MONTHS_LATE_DIRECT_D)
        if DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__gt=since, recorded_on__lte=applied_on):
            reasons.append(f"已超过直接判级修复的申请期限（{last:%Y-%m-%d}），且申请前连续12个月内有新的失信行为记录。")
    return reasons


def direct_d_figures(*, taxpayer, rating, direct_d: DirectDClaim, on, applied_on, case_id=None) -> CaseFigures:
    """直接判级修复: the rules assess the year with the direct D repaired on the day it was cleared, so the level
    comes from the year's score and is at most B (2021年第31号 三). Behaviours corrected after the year's result
    count as still open: their points come back only through their own repair."""
    reasons = _direct_d_refusals(
        taxpayer=taxpayer, rating=rating, claim=direct_d, on=on, applied_on=applied_on, case_id=case_id
    )
    if reasons:
        raise NotEligible(reasons)
    rated_on = _rated_on(rating)
    rows = DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__year=rating.year)
    events = tuple(rule_event(r, r.corrected_on if (r.corrected_on or on) <= rated_on else None) for r in rows)
    d_day = dt.date(rating.year, 12, 31)
    if direct_d.cause in LINKED_CODES:
        direct = related_direct_d(LINKED_CODES[direct_d.cause], d_day, direct_d.cleared_on)
    else:
        direct = DirectD(CreditCase.DirectDCause(direct_d.cause).label, d_day, direct_d.cleared_on)
    facts = replace(year_facts(taxpayer, rating.year), direct_d=(direct,))
    as_of = max(on, dt.date(rating.year + 1, 1, 1))
    try:
        after = assess(Evaluation(year=rating.year, as_of=as_of, taxpayer=facts, events=events))
    except CaseError as exc:
        raise NotEligible([f"规则无法评价该年度：{exc}"]) from None
    if after.level == "D":
        raise NotEligible([f"按规则解除直接判级后该年度得分为{after.score.normalize():f}分，仍为D级，修复不改变级别。"])
    return CaseFigures(rating, (), Decimal(0), after.score, after.level, direct_d=True)


@dataclass(frozen=True)
class RepairOutlook:
    """What a repair case would give for each behaviour of a rated year: corrected as recorded or, still open,
    corrected on the day asked. ``restored`` holds the eligible behaviours, ``reasons`` why the others cannot."""

    rating: CreditRating
    restored: dict[int, Decimal]
    reasons: dict[int, str]
    deadlines: dict[int, dt.date]


def repair_outlook(*, taxpayer, year: int, rows: list[DishonestyEvent], on: dt.date) -> RepairOutlook | None:
    """The taxpayer's credit page: per behaviour of ``year`` (``rows``, all of that year), the points a repair
    case applied for on ``on`` would restore, or why none; None when the year has no rating reached by points.
    The same refusals and the same rules' figures as a case (``case_figures``), in a bounded number of reads."""
    rating = rating_of_year(taxpayer.pk, year)
    if rating is None or rating.score is None:
        return None
    repaired = _repaired_before({r.pk for r in rows}, None)
    rated_on = _rated_on(rating)
    corrections = {row.pk: row.corrected_on or on for row in rows}
    reasons = {}
    for row in rows:
        reason = _refusal(
            row,
            kind=CreditCase.Kind.REPAIR,
            correction=corrections[row.pk],
            on=on,
            applied_on=on,
            repaired=repaired,
            rated_on=rated_on,
        )
        if reason:
            reasons[row.pk] = reason.removeprefix("的")
    eligible = {pk: day for pk, day in corrections.items() if pk not in reasons}
    restored: dict[int, Decimal] = {}
    if eligible:
        try:
            figures = _figures(
                taxpayer=taxpayer,
                kind=CreditCase.Kind.REPAIR,
                year=year,
                rows=rows,
                corrections=eligible,
                on=on,
                rating=rating,
            )
        except NotEligible:
            restored = dict.fromkeys(eligible, Decimal(0))
        else:
            restored = {item.event.pk: item.restored for item in figures.items}
    deadlines = {row.pk: apply_deadline(row) for row in rows if row.pk in eligible}
    return RepairOutlook(rating, restored, reasons, deadlines)
