"""Every write of a 集体会商: opening it, inviting participants, an opinion, and the decision with its minutes.

Each service is one transaction with its audit event. The consultation row is locked (``select_for_update``) by
the opinion and the decision: a participant writing while the host decides waits, then finds the consultation
decided and read-only. The decision acts on the application through refund's own services (回退, 不予退税) in the
same transaction, and sends ``consultation_decided`` inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError, ConflictError
from refund.applications.services import application_reject, application_return, application_stop
from refund.models import OPEN_APPLICATION_STATES, RefundApplication

from ..models import Consultation, ConsultationParticipant, ScanResult, Section
from .participation import missing_sections, section_for
from .signals import consultation_decided

Decision = Consultation.Decision
Opinion = ConsultationParticipant.Opinion

TEXT_LIMIT = 500


class ConsultationClosed(ConflictError):
    """The consultation was decided (possibly by someone else a moment ago): it is read-only."""

    code = "consultation_decided"


def _text(value: str, what: str, *, required: bool = True, limit: int | None = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(f"请填写{what}。")
    if limit is not None and len(text) > limit:
        raise ApplicationError(f"{what}过长：最多 {limit} 个字符，实际 {len(text)} 个。")
    return text


def _invite(*, consultation: Consultation, users: Iterable) -> list[ConsultationParticipant]:
    """Participant rows for ``users`` not yet invited; a user who may not speak for any section is refused."""
    invited = set(consultation.participants.values_list("user_id", flat=True))
    rows = []
    for user in users:
        if user.pk in invited:
            continue
        section = section_for(user, consultation.application)
        if section is None:
            name = user.full_name or user.username
            raise ApplicationError(f"{name}不属于税政、法制、风险部门或该户主管分局，不能参加本次会商。")
        rows.append(ConsultationParticipant(consultation=consultation, user=user, section=section))
        invited.add(user.pk)
    return ConsultationParticipant.objects.bulk_create(rows)


def _names(rows: Iterable[ConsultationParticipant]) -> str:
    return "、".join(f"{row.get_section_display()} {row.user.full_name or row.user.username}" for row in rows)


def consultation_open(
    *, actor, application: RefundApplication, reason: str, participants: Iterable = ()
) -> Consultation:
    """发起集体会商 on ``application`` (still open, with no consultation under way), ``actor`` hosting it as the risk
    section's participant; ``participants`` invited at once. The grade of its latest scan is kept with it, so the
    hits the consultation weighed can be shown after later scans."""
    reason = _text(reason, "提请会商事由")
    if not getattr(actor, "is_authenticated", False):
        raise ApplicationError("须由风险管理股人员发起集体会商。")
    if application.state not in OPEN_APPLICATION_STATES:
        raise ApplicationError(f"该申请当前为“{application.get_state_display()}”，已办结的申请不能发起集体会商。")
    latest = (
        ScanResult.objects.filter(application_id=application.pk, scan__status="succeeded")
        .order_by("-scan__started_at", "-scan_id")
        .first()
    )
    try:
        with transaction.atomic():
            consultation = Consultation.objects.create(
                application=application,
                reason=reason,
                host=actor,
                scan_id=latest.scan_id if latest else None,
                grade=latest.grade if latest else "",
            )
            host = ConsultationParticipant.objects.create(consultation=consultation, user=actor, section=Section.RISK)
            invited = [host, *_invite(consultation=consultation, users=participants)]
            record_event(
                actor=actor,
                verb="risk.consultation_open",
                target=consultation,
                summary=f"发起集体会商：{application.taxpayer.name}（{reason[:200]}）；参会：{_names(invited)}",
                changes={"application": application.pk, "participants": [row.user_id for row in invited]},
            )
    except IntegrityError as exc:
        raise ConflictError("该申请已有正在进行的集体会商，请在原会商中继续。", code="consultation_open") from exc
    return consultation


def _locked_open(consultation: Consultation) -> Consultation:
    """The consultation locked for this transaction, refused once decided."""
    locked = Consultation.objects.select_for_update().select_related("application__taxpayer").get(pk=consultation.pk)
    if locked.state != Consultation.State.OPEN:
        raise ConsultationClosed("该集体会商已作出决定，不能再修改。请刷新页面后查看。")
    return locked


def consultation_participants_add(*, actor, consultation: Consultation, users: Iterable) -> Consultation:
    """邀请参会: more officers of the four sections, while the consultation is open."""
    users = list(users)
    if not users:
        raise ApplicationError("请选择要邀请的参会人。")
    with transaction.atomic():
        locked = _locked_open(consultation)
        added = _invite(consultation=locked, users=users)
        if added:
            record_event(
                actor=actor,
                verb="risk.consultation_participants_add",
                target=locked,
                summary=f"邀请参会：{_names(added)}",
                changes={"participants": [row.user_id for row in added]},
            )
    return locked


def consultation_opinion_record(
    *, actor, consultation: Consultation, opinion: str, text: str = ""
) -> ConsultationParticipant:
    """发表意见: an invited participant's 同意 / 不同意 / 补充意见 (不同意 and 补充意见 say what and why). Until the
    decision a participant may record it again; the audit keeps each."""
    if opinion not in Opinion.values:
        raise ApplicationError("请选择意见：同意、不同意或补充意见。")
    text = _text(text, "意见内容", required=opinion != Opinion.AGREE, limit=2000)
    with transaction.atomic():
        locked = _locked_open(consultation)
        row = ConsultationParticipant.objects.select_for_update().filter(consultation=locked, user_id=actor.pk).first()
        if row is None:
            raise ApplicationError("您不是本次会商的参会人，不能发表意见。", code="not_participant")
        before = [row.opinion, row.text]
        row.opinion, row.text, row.recorded_at = opinion, text, timezone.now()
        row.save(update_fields=["opinion", "text", "recorded_at"])
        record_event(
            actor=actor,
            verb="risk.consultation_opinion",
            target=locked,
            summary=f"{row.get_section_display()}意见：{row.get_opinion_display()}"
            + (f"（{text[:200]}）" if text else ""),
            changes={"opinion": [before[0], opinion], "text": [before[1], text]},
        )
    return row


# --- the decision --------------------------------------------------------------------------------------------


def _allow(*, actor, consultation: Consultation, note: str) -> None:
    """同意退税: nothing moves now; ``resolver.consultation_allows`` reads the decision when an officer approves."""


def _return(*, actor, consultation: Consultation, note: str) -> None:
    application_return(
        actor=actor,
        application=consultation.application,
        reason=f"集体会商决定退回申请：{note}",
        evidence={"consultation_id": consultation.pk, "decision": Decision.RETURN.value},
    )


def _reject(*, actor, consultation: Consultation, note: str) -> None:
    application_reject(actor=actor, application=consultation.application, reason=f"集体会商决定不予退税：{note}")


def _stop(*, actor, consultation: Consultation, note: str) -> None:
    application_stop(actor=actor, application=consultation.application, reason=f"集体会商决定终止退税：{note}")


DECISION_ACTIONS: dict[str, Callable[..., None]] = {
    Decision.APPROVE: _allow,
    Decision.RETURN: _return,
    Decision.REJECT: _reject,
    Decision.STOP: _stop,
    # 调整退税额 is the risk task's outcome (with the amount), after a 同意退税 or on a task of its own.
}
NOTE_REQUIRED = {Decision.RETURN, Decision.REJECT, Decision.STOP}
NOTE_LIMIT = 450  # the note goes into the application's 500-character reason behind its prefix


def consultation_decide(
    *, actor, consultation: Consultation, decision: str, minutes: str, note: str = ""
) -> Consultation:
    """会商决定: the host's minutes (会议纪要) and the decision, once the 法制 and 风险 opinions are in. 退回申请 and
    不予退税 (with the note as the reason) act on the application through refund's services in this transaction;
    a refusal there (the application moved meanwhile) undoes the whole decision. The consultation is then
    read-only; ``consultation_decided`` is sent before the commit."""
    if decision not in DECISION_ACTIONS:
        raise ApplicationError("请选择会商决定。")
    minutes = _text(minutes, "会议纪要", limit=20000)
    note = _text(note, "决定说明", required=decision in NOTE_REQUIRED, limit=NOTE_LIMIT)
    with transaction.atomic():
        locked = _locked_open(consultation)
        missing = missing_sections(locked)
        if missing:
            raise ApplicationError(f"尚缺{'、'.join(missing)}部门的会商意见，不能作出决定。", code="opinions_missing")
        application = RefundApplication.objects.select_related("taxpayer").get(pk=locked.application_id)
        if application.state not in OPEN_APPLICATION_STATES:
            raise ConflictError(
                f"该申请已为“{application.get_state_display()}”，不能再据会商作出决定。请刷新页面后查看。",
                code="application_settled",
            )
        locked.application = application
        DECISION_ACTIONS[decision](actor=actor, consultation=locked, note=note)
        locked.state = Consultation.State.DECIDED
        locked.decision, locked.minutes, locked.decision_note = decision, minutes, note
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["state", "decision", "minutes", "decision_note", "decided_by", "decided_at"])
        label = Decision(decision).label
        record_event(
            actor=actor,
            verb="risk.consultation_decide",
            target=locked,
            summary=f"会商决定：{label}（{application.taxpayer.name}）" + (f"；{note[:200]}" if note else ""),
            changes={"state": [Consultation.State.OPEN, Consultation.State.DECIDED], "decision": decision},
        )
        consultation_decided.send(sender=Consultation, consultation=locked, decision=decision)
    return locked
