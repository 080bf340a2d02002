"""Writes of the repair, 复核 and 复评 cases: receipt, review, raising a dispute to the higher bureau, its answer,
the decision and withdrawal; and the daily step that follows the registry's 非正常户 status and, where the rules
repair a lifted 非正常户 without an application (2025年第12号), runs that repair with the scheduler as actor.

Every step locks the case (``select_for_update``: another officer may be acting on it from another page),
checks the state it expects, writes a ``CreditCaseTransition`` and an audit event in the same transaction. A
granted decision adds a ``CreditRating`` row dated the decision day and, after commit, sends
``credit.signals.rating_changed``: the warnings predict the taxpayer again (``credit.warnings.receivers``) and the
apps above credit act on the new level.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError, ConflictError
from taxpayers.calendar import add_working_days
from taxpayers.models import Taxpayer

from ..models import (
    CreditCase,
    CreditCaseItem,
    CreditCaseTransition,
    CreditRating,
    NonNormalSpell,
    RatingBasis,
    RuleSet,
)
from ..rules.parameters import NON_NORMAL_LIFT_AUTOMATIC, NON_NORMAL_LIFT_REPAIR
from ..rules.repair import review_window
from ..selectors import rating_in_force
from ..signals import rating_changed
from .figures import CaseFigures, DirectDClaim, NotEligible, ReviewOutsideWindow, case_figures

logger = logging.getLogger(__name__)
State = CreditCase.State
Kind = CreditCase.Kind
DUE_WORKING_DAYS = 15
"""办结期限: the office decides within 15 working days of accepting (2019年第37号; 2025年第12号 第二十四条;
复评 2015年第46号)."""
BASIS = {
    Kind.REPAIR: RatingBasis.REPAIRED,
    Kind.REVIEW: RatingBasis.REVIEWED,
    Kind.RE_EVALUATION: RatingBasis.RE_EVALUATED,
}
ACTION_LABELS = {
    "receive": "受理",
    "review": "开始审核",
    "raise": "提请上级",
    "answer": "登记上级答复",
    "decide": "作出决定",
    "withdraw": "撤回申请",
}


class CaseRefused(ApplicationError):
    """The request is not eligible under the rules; ``reasons`` lists every one."""

    code = "credit_case_refused"

    def __init__(self, reasons: list[str]):
        super().__init__("不予受理：" + "；".join(reasons), extra={"reasons": reasons})
        self.reasons = reasons


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _move(*, case: CreditCase, actor, action: str, target: str, reason: str = "", changes: Mapping | None = None):
    before = case.state
    case.state = target
    case.save()
    CreditCaseTransition.objects.create(
        case=case, from_state=before, to_state=target, actor=_actor(actor), reason=reason[:500]
    )
    record_event(
        actor=actor,
        verb=f"credit_case_{action}",
        target=case,
        summary=f"{ACTION_LABELS[action]}：{State(before).label if before else '—'} → {State(target).label}"
        + (f"（{reason[:200]}）" if reason else ""),
        changes={"state": [before, target], **(changes or {})},
    )
    return case


def _locked(case_id: int, *expected: str) -> CreditCase:
    case = CreditCase.objects.select_for_update().select_related("taxpayer").get(pk=case_id)
    if case.state not in expected:
        raise ConflictError(f"该申请当前为“{case.get_state_display()}”，不能执行此操作（可能已被他人处理）。")
    return case


def _store_figures(case: CreditCase, figures: CaseFigures) -> None:
    case.rating_before = figures.rating
    case.level_before = figures.level_before
    case.score_before = figures.score_before
    case.points_restored = None if figures.direct_d else figures.restored
    case.score_after = figures.score_after
    case.level_after = figures.level_after


def _figures(*, taxpayer, kind, year, corrections, on, case_id=None, applied_on=None, direct_d=None) -> CaseFigures:
    try:
        return case_figures(
            taxpayer=taxpayer,
            kind=kind,
            year=year,
            corrections=corrections,
            on=on,
            case_id=case_id,
            applied_on=applied_on,
            direct_d=direct_d,
        )
    except ReviewOutsideWindow as exc:
        first, last = review_window(year)
        logger.warning(
            "Review (fuhe) refused outside its window: taxpayer %s, year %s, filed %s, window %s to %s",
            taxpayer.pk,
            year,
            applied_on or on,
            first,
            last,
        )
        raise CaseRefused(exc.reasons) from None
    except NotEligible as exc:
        raise CaseRefused(exc.reasons) from None


def _order_refusal(*, taxpayer_id: int, kind: str, year: int) -> None:
    """A taxpayer who disputes its rating files 复评 before repairing: once repair is applied for, no 复评 for
    that year is accepted."""
    if (
        kind == Kind.RE_EVALUATION
        and CreditCase.objects.filter(taxpayer_id=taxpayer_id, year=year, kind=Kind.REPAIR)
        .exclude(state=State.WITHDRAWN)
        .exists()
    ):
        raise CaseRefused(["该评价年度已申请纳税信用修复，不再受理复评。"])


def credit_case_receive(
    *,
    actor,
    taxpayer: Taxpayer,
    kind: str,
    year: int,
    corrections: Mapping[int, dt.date | None],
    contact_name: str,
    contact_phone: str,
    statement: str = "",
    commitment: bool = True,
    received_on: dt.date | None = None,
    direct_d: DirectDClaim | None = None,
) -> CreditCase:
    """受理: the application's data, checked against the rules (``CaseRefused`` with every reason), with its
    15-working-day due date. ``direct_d``: for a year rated D directly, the cause and the day it was cleared."""
    received_on = received_on or timezone.localdate()
    if kind not in Kind.values:
        raise ApplicationError("未知的申请类型。")
    if kind == Kind.REPAIR and not commitment:
        raise CaseRefused(["申请修复须承诺纠正情况真实。"])
    _order_refusal(taxpayer_id=taxpayer.pk, kind=kind, year=year)
    corrections = dict(corrections)
    figures = _figures(
        taxpayer=taxpayer, kind=kind, year=year, corrections=corrections, on=received_on, direct_d=direct_d
    )
    with transaction.atomic():
        Taxpayer.objects.select_for_update().get(pk=taxpayer.pk)  # two officers registering the same application
        if CreditCase.objects.filter(
            taxpayer=taxpayer, year=year, kind=kind, state__in=CreditCase.OPEN_STATES
        ).exists():
            raise ConflictError("该纳税人该年度已有办理中的同类申请，请在原申请中办理。")
        case = CreditCase(
            taxpayer=taxpayer,
            kind=kind,
            year=year,
            statement=statement,
            commitment=commitment,
            contact_name=contact_name,
            contact_phone=contact_phone,
            received_on=received_on,
            due_on=add_working_days(received_on, DUE_WORKING_DAYS, estimate=True),
            state="",
            created_by=_actor(actor),
            direct_d_cause=direct_d.cause if figures.direct_d else "",
            direct_d_cleared_on=direct_d.cleared_on if figures.direct_d else None,
            linked_taxpayer_id=direct_d.linked_taxpayer_id if figures.direct_d else None,
        )
        _store_figures(case, figures)
        case.save()
        CreditCaseItem.objects.bulk_create(
            CreditCaseItem(
                case=case,
                event=item.event,
                corrected_on=item.corrected_on,
                deduction=item.deduction,
                restored=item.restored,
                band=item.band,
            )
            for item in figures.items
        )
        return _move(
            case=case,
            actor=actor,
            action="receive",
            target=State.RECEIVED,
            changes={
                "taxpayer": taxpayer.pk,
                "kind": kind,
                "year": year,
                "received_on": received_on.isoformat(),
                "due_on": case.due_on.isoformat(),
                "events": sorted(corrections),
                "score_before": str(case.score_before),
                "score_after": str(case.score_after),
            },
        )


def credit_case_review(*, actor, case_id: int) -> CreditCase:
    """开始审核: the officer takes the case."""
    with transaction.atomic():
        case = _locked(case_id, State.RECEIVED)
        case.officer = _actor(actor)
        return _move(case=case, actor=actor, action="review", target=State.REVIEWING)


def credit_case_raise(*, actor, case_id: int, question: str, on: dt.date | None = None) -> CreditCase:
    """提请上级: a disputed deduction the office cannot settle goes to the higher bureau."""
    if not question.strip():
        raise ApplicationError("请填写提请上级的事项。")
    with transaction.atomic():
        case = _locked(case_id, State.REVIEWING, State.ANSWERED)
        case.raised_on, case.raised_question = on or timezone.localdate(), question.strip()[:500]
        case.answered_on, case.higher_answer = None, ""
        return _move(case=case, actor=actor, action="raise", target=State.RAISED, reason=case.raised_question)


def credit_case_answer(*, actor, case_id: int, answer: str, on: dt.date | None = None) -> CreditCase:
    """登记上级答复: the higher bureau's answer, after which the office decides."""
    if not answer.strip():
        raise ApplicationError("请填写上级答复意见。")
    with transaction.atomic():
        case = _locked(case_id, State.RAISED)
        case.answered_on, case.higher_answer = on or timezone.localdate(), answer.strip()[:500]
        return _move(case=case, actor=actor, action="answer", target=State.ANSWERED, reason=case.higher_answer)


def credit_case_withdraw(*, actor, case_id: int, reason: str = "") -> CreditCase:
    """撤回: the taxpayer withdraws its application before the decision."""
    with transaction.atomic():
        case = _locked(case_id, *CreditCase.OPEN_STATES)
        return _move(case=case, actor=actor, action="withdraw", target=State.WITHDRAWN, reason=reason)


def credit_case_decide(
    *,
    actor,
    case_id: int,
    granted_event_ids: Iterable[int],
    reason: str = "",
    on: dt.date | None = None,
    direct_d_granted: bool = False,
) -> CreditCase:
    """决定: grant every behaviour named (准予), some (部分准予) or none (不予, a reason required); a 直接判级修复
    names no behaviour and is granted with ``direct_d_granted``.

    A grant recomputes the figures with the rules on the decision day, adds the rating row (basis 修复/复核/复评,
    effective that day) and, after commit, sends ``rating_changed``."""
    on = on or timezone.localdate()
    granted = set(granted_event_ids)
    with transaction.atomic():
        case = _locked(case_id, State.REVIEWING, State.ANSWERED)
        items = list(case.items.select_related("event"))
        named = {item.event_id for item in items}
        if not granted <= named:
            raise ApplicationError("准予的事项不在本申请中。")
        grant = bool(granted) or (bool(case.direct_d_cause) and direct_d_granted)
        if not grant and not reason.strip():
            raise ApplicationError("不予修复须说明理由。")
        outcome = State.REFUSED if not grant else State.APPROVED if granted == named else State.PARTLY
        for item in items:
            item.granted = item.event_id in granted
        CreditCaseItem.objects.bulk_update(items, ["granted"])
        case.decided_on, case.decision_reason = on, reason.strip()[:500]
        changes: dict = {"granted": sorted(granted), "decided_on": on.isoformat()}
        if grant:
            _grant(case=case, items=items, granted=granted, on=on)
            changes |= {
                "level": [case.level_before, case.level_after],
                "score": [str(case.score_before), str(case.score_after)],
            }
        return _move(case=case, actor=actor, action="decide", target=outcome, reason=reason, changes=changes)


def _rating_note(case: CreditCase, figures: CaseFigures) -> str:
    if figures.direct_d:
        return f"直接判级修复申请 #{case.pk} 决定：{case.get_direct_d_cause_display()}"[:200]
    return f"{case.get_kind_display()}申请 #{case.pk} 决定，恢复 {figures.restored.normalize():f} 分"[:200]


def _grant(*, case: CreditCase, items: list[CreditCaseItem], granted: set[int], on: dt.date) -> None:
    corrections = {item.event_id: item.corrected_on for item in items if item.event_id in granted}
    figures = _figures(
        taxpayer=case.taxpayer,
        kind=case.kind,
        year=case.year,
        corrections=corrections,
        on=on,
        case_id=case.pk,
        applied_on=case.received_on,
        direct_d=DirectDClaim(case.direct_d_cause, case.direct_d_cleared_on, case.linked_taxpayer_id)
        if case.direct_d_cause
        else None,
    )
    if figures.rating is None:
        raise ApplicationError(
            "复核在确定评价结果时办理：该年度的评价结果尚未导入，请导入后再作决定。", code="credit_review_unrated"
        )
    _store_figures(case, figures)
    by_event = {item.event.pk: item for item in figures.items}
    for item in items:
        if item.event_id in by_event:
            item.restored, item.band = by_event[item.event_id].restored, by_event[item.event_id].band
    CreditCaseItem.objects.bulk_update(items, ["restored", "band"])
    try:
        with transaction.atomic():
            case.new_rating = CreditRating.objects.create(
                taxpayer=case.taxpayer,
                year=case.year,
                level=figures.level_after,
                score=figures.score_after,
                evaluated_on=on,
                basis=BASIS[case.kind],
                rule_set=figures.rating.rule_set or RuleSet.for_year(case.year),
                note=_rating_note(case, figures),
            )
    except IntegrityError:
        raise ConflictError("该评价年度当日已有一条评价结果，请次日再作决定。") from None
    taxpayer_id, level = case.taxpayer_id, figures.level_after
    transaction.on_commit(
        lambda: rating_changed.send(sender=CreditRating, taxpayer_id=taxpayer_id, level=level, effective_on=on)
    )


# --- 非正常户 lifted: repair without application ----------------------------------------------------------------

AUTOMATIC_CONTACT = "免申请修复"
AUTOMATIC_REASON = "解除非正常户状态，按规定免申请修复"


def non_normal_spells_track(*, today: dt.date | None = None) -> list[CreditCase]:
    """The daily job's step: a spell opens for each taxpayer the registry now shows as 非正常户 and closes for each
    no longer shown so (lifted on the morning it is seen; a 注销 is not a lifting). For each lifting on a day whose
    rules repair without application (``NON_NORMAL_LIFT_REPAIR``), the direct D in force is repaired by the
    scheduler; a repair the rules refuse is left to an officer, with the reason on the spell. Safe to run twice."""
    today = today or timezone.localdate()
    with transaction.atomic():
        now_abnormal = set(Taxpayer.objects.filter(status=Taxpayer.Status.ABNORMAL).values_list("pk", flat=True))
        spells = {
            spell.taxpayer_id: spell
            for spell in NonNormalSpell.objects.select_for_update()
            .filter(lifted_on__isnull=True)
            .select_related("taxpayer")
        }
        seen = [NonNormalSpell(taxpayer_id=pk, seen_since=today) for pk in sorted(now_abnormal - spells.keys())]
        NonNormalSpell.objects.bulk_create(seen)
        ended = [spell for pk, spell in spells.items() if pk not in now_abnormal]
        for spell in ended:
            spell.lifted_on = today
            if spell.taxpayer.status != Taxpayer.Status.NORMAL:
                spell.note = f"状态变为“{spell.taxpayer.get_status_display()}”，不是解除非正常户"
        NonNormalSpell.objects.bulk_update(ended, ["lifted_on", "note"])
        if seen or ended:
            record_event(
                actor=None,
                verb="credit_non_normal_track",
                object_type="credit.nonnormalspell",
                object_repr=f"{today:%Y-%m-%d}",
                summary=f"非正常户状态：新发现 {len(seen)} 户，不再是非正常户 {len(ended)} 户",
                changes={"seen": [s.taxpayer_id for s in seen], "ended": [s.taxpayer_id for s in ended]},
            )
    lifted = [s for s in ended if s.taxpayer.status == Taxpayer.Status.NORMAL]
    return [case for spell in lifted if (case := _lifted_repair(spell, today)) is not None]


def _lifted_repair(spell: NonNormalSpell, today: dt.date) -> CreditCase | None:
    """Repair the direct D in force of a taxpayer whose 非正常户 status was lifted on ``today``, when the rules of
    that day need no application. The D is taken to be the 非正常户's (40号 第二十条（八）; 2025年第12号
    第十八条（九））: the registry holds no other cause of a direct D."""
    if not NON_NORMAL_LIFT_REPAIR.covers(today) or NON_NORMAL_LIFT_REPAIR.at(today) != NON_NORMAL_LIFT_AUTOMATIC:
        return None
    rating = rating_in_force(spell.taxpayer_id, today)
    if rating is None or rating.level != "D" or rating.score is not None:
        return None
    try:
        with transaction.atomic():
            case = credit_case_receive(
                actor=None,
                taxpayer=spell.taxpayer,
                kind=Kind.REPAIR,
                year=rating.year,
                corrections={},
                contact_name=AUTOMATIC_CONTACT,
                contact_phone="—",
                statement=AUTOMATIC_REASON,
                received_on=today,
                direct_d=DirectDClaim(CreditCase.DirectDCause.NON_NORMAL, today),
            )
            credit_case_review(actor=None, case_id=case.pk)
            case = credit_case_decide(
                actor=None,
                case_id=case.pk,
                granted_event_ids=[],
                reason=f"{AUTOMATIC_REASON}（{NON_NORMAL_LIFT_REPAIR.citation_at(today)}）",
                on=today,
                direct_d_granted=True,
            )
    except ApplicationError as exc:
        logger.warning(
            "Automatic repair after a lifted non-normal status not applied: taxpayer %s, year %s: %s",
            spell.taxpayer_id,
            rating.year,
            exc.code,
        )
        NonNormalSpell.objects.filter(pk=spell.pk).update(note=f"未自动修复，请人工办理：{exc.message}"[:200])
        return None
    NonNormalSpell.objects.filter(pk=spell.pk).update(repair_case=case)
    return case
