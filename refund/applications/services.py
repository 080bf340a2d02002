"""Every write to a 留抵退税申请: arrival, the risk gate's return, the workflow, recomputation, coaching and
payment — one service per business action; the risk outcomes 终止退税 and 调整退税额 (``application_stop``,
``application_amount_adjust``) are written in ``outcomes`` and offered here with the others.

The state moves only through ``transitions.transition``: a conditional ``UPDATE … WHERE state IN (expected)``,
so when two officers act on the same application at once exactly one update matches and the other gets a
``ConflictError`` ("已被他人处理"). The transition row, the audit event and the model fields change in the
same transaction; side effects (notifications, funnel moves) run after commit.

The workflow's table and the preconditions are in ``workflow``, the rules' figures and the confirmation's in
``computation``, the arrival's checks in ``arrival``, the risk gate in ``risk``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import field_changes, record_event
from accounts.models import signed_in
from core.errors import ApplicationError, ConflictError
from core.money import format_yuan
from core.periods import Period
from taxpayers.calendar import add_working_days
from taxpayers.models import Taxpayer

from ..candidates.services import candidate_items_mark_applied
from ..models import (
    OPEN_APPLICATION_STATES,
    ApplicationRiskHit,
    ApplicationTransition,
    CoachingRecord,
    RefundApplication,
)
from ..screening.case_builder import level_in_force
from ..screening.decisions import Outcome
from .arrival import ClaimRefused, DuplicateApplication, duplicate_of, validate_arrival
from .claims import claim_refusal
from .computation import (
    RECOMPUTED_FIELDS,
    compute_application,
    computed_fields,
    confirmed_figures,
    options_for,
    tax_period_credit,
)
from .outcomes import application_amount_adjust as application_amount_adjust
from .outcomes import application_stop as application_stop
from .risk import APPROVAL, ARRIVAL, Finding, GradeRefused, approval_refusal, run_gate, scan_application, summary_of
from .transitions import required_reason as _required_reason
from .transitions import transition as _transition
from .workflow import ApprovalBlocked, TransitionRefused, approval_blocks, state_label

logger = structlog.get_logger(__name__)

State = RefundApplication.State
ZERO = Decimal("0.00")


# --- arrival ------------------------------------------------------------------------------------------------

SLA_WORKING_DAYS = 10
"""办结期限: a risk-free application is settled within 10 working days of its receipt."""


class RiskHitReturned(ApplicationError):
    """The risk gate found something before approval: the application was returned (回退) with the evidence."""

    code = "risk_hit_returned"


def _receive(
    *,
    actor,
    taxpayer: Taxpayer,
    application_period: Period | str,
    kind: str,
    claimed_amount,
    received_on: dt.date,
    source: str,
    document_number: str | None,
) -> RefundApplication:
    """Arrival without its after-commit side effects (the import collects those for a whole file)."""
    period, kind, amount, source, number = validate_arrival(
        taxpayer=taxpayer,
        application_period=application_period,
        kind=kind,
        claimed_amount=claimed_amount,
        received_on=received_on,
        source=source,
        document_number=document_number,
    )
    duplicate = duplicate_of(taxpayer=taxpayer, application_period=period, document_number=number)
    if duplicate:
        raise DuplicateApplication(duplicate)
    due_on = add_working_days(received_on, SLA_WORKING_DAYS, estimate=True)
    computation = compute_application(
        taxpayer_id=taxpayer.pk,
        application_period=period,
        received_on=received_on,
        kind=kind,
        options=options_for(period),
    )
    tax_period, end_credit = tax_period_credit(computation, taxpayer=taxpayer, application_period=period)
    refusal = claim_refusal(amount, end_credit=end_credit, tax_period=tax_period)
    if refusal:
        raise ClaimRefused(refusal)
    try:
        # A savepoint: a concurrent arrival of the same application loses on the unique constraints, and the
        # caller's transaction (an import of many rows) can still report it instead of breaking.
        with transaction.atomic():
            application = RefundApplication.objects.create(
                taxpayer=taxpayer,
                branch_id=taxpayer.branch_id,
                application_period=period,
                kind=kind,
                source=source,
                document_number=number,
                received_on=received_on,
                due_on=due_on,
                claimed_amount=amount,
                credit_level_at_submission=level_in_force(taxpayer.pk, computation.case.application_date),
                created_by=signed_in(actor),
                **computed_fields(computation, size_fallback=taxpayer.size, industry_fallback=taxpayer.industry_code),
            )
    except IntegrityError:
        duplicate = duplicate_of(taxpayer=taxpayer, application_period=period, document_number=number)
        raise DuplicateApplication(duplicate or "该申请已被同时受理，不能重复受理。") from None
    source_label = RefundApplication.Source(source).label
    ApplicationTransition.objects.create(
        application=application,
        from_state="",
        to_state=State.RECEIVED,
        actor=signed_in(actor),
        reason=f"受理（{source_label}）" + (f"，文书号 {number}" if number else ""),
    )
    record_event(
        actor=actor,
        verb="refund_application_receive",
        target=application,
        summary=f"受理{period}留抵退税申请（{source_label}），申请退税额 {format_yuan(amount)} 元",
        changes={
            "taxpayer": taxpayer.pk,
            "application_period": str(period),
            "kind": kind,
            "claimed_amount": str(amount),
            "received_on": received_on.isoformat(),
            "due_on": due_on.isoformat(),
            "document_number": number,
            "computed_amount": None if computation.figures.amount is None else str(computation.figures.amount),
        },
    )
    _gate(application=application, actor=actor, stage=ARRIVAL, decision=computation.decision)
    scan_application(application=application, stage=ARRIVAL, actor=actor)  # the grade, kept by the risk app
    return application


def _mark_applied_after_commit(*, taxpayer_ids_by_period: dict[Period, list[int]], actor) -> None:
    def mark() -> None:
        now = timezone.now()
        for period, ids in taxpayer_ids_by_period.items():
            candidate_items_mark_applied(taxpayer_ids=ids, application_period=period, applied_at=now, actor=actor)

    transaction.on_commit(mark)


def application_receive(
    *,
    actor,
    taxpayer: Taxpayer,
    application_period: Period | str,
    kind: str,
    claimed_amount: Decimal,
    received_on: dt.date,
    source: str = "manual",
    document_number: str | None = None,
) -> RefundApplication:
    """受理: an application arrives (officer's entry, the API, or a row of the core system's export).

    The branch is copied from the taxpayer, the 10-working-day clock starts from receipt, the credit level in
    force on the application date is kept, and the real rules decide it on the taxpayer's data (inputs and
    result snapshotted, the figures pre-filled for 一键确认). Then the arrival risk gate: a hit returns it (回退)
    with the evidence. After commit the period's candidate item moves to 已申请.
    """
    with transaction.atomic():
        application = _receive(
            actor=actor,
            taxpayer=taxpayer,
            application_period=application_period,
            kind=kind,
            claimed_amount=claimed_amount,
            received_on=received_on,
            source=source,
            document_number=document_number,
        )
        _mark_applied_after_commit(taxpayer_ids_by_period={application.application_period: [taxpayer.pk]}, actor=actor)
    return application


# --- the risk gate -----------------------------------------------------------------------------------------


def _gate(*, application: RefundApplication, actor, stage: str, decision: Outcome) -> list[Finding]:
    """Run the gate; on a hit record the findings and return the application (回退) — in the caller's
    transaction. Clean: mark it risk-free. Returns the findings."""
    findings = run_gate(application=application, stage=stage, decision=decision)
    now = timezone.now()
    if not findings:
        RefundApplication.objects.filter(pk=application.pk).update(
            risk_status=RefundApplication.Risk.CLEAR, risk_checked_at=now
        )
        application.risk_status, application.risk_checked_at = RefundApplication.Risk.CLEAR, now
        return findings
    stage_label = ApplicationRiskHit.Stage(stage).label
    evidence = {
        "stage": stage,
        "hits": [{"code": f.code, "title": f.title, "evidence": f.evidence} for f in findings],
    }
    _transition(
        application=application,
        action="return",
        actor=actor,
        reason=f"{stage_label}发现疑点：{summary_of(findings)}",
        evidence=evidence,
        fields={
            "risk_status": RefundApplication.Risk.HIT,
            "risk_checked_at": now,
            "decision_reason": f"{stage_label}发现疑点：{summary_of(findings)}"[:500],
        },
    )
    ApplicationRiskHit.objects.bulk_create(
        [
            ApplicationRiskHit(application=application, stage=stage, code=f.code, title=f.title, evidence=f.evidence)
            for f in findings
        ]
    )
    return findings


# --- the workflow ------------------------------------------------------------------------------------------


def application_investigate(*, actor, application: RefundApplication, note: str = "") -> RefundApplication:
    """前置调查 / 疑点核实: an officer takes up a received or returned application."""
    with transaction.atomic():
        return _transition(application=application, action="investigate", actor=actor, reason=(note or "").strip())


def application_confirm(
    *,
    actor,
    application: RefundApplication,
    amount: Decimal | None = None,
    incremental: Decimal | None = None,
    stock: Decimal | None = None,
    reason: str = "",
) -> RefundApplication:
    """一键确认: accept the rules' figures (no amounts given) or correct them with a reason; then to review.

    A correction must add up (incremental + stock = amount), keep to the kind applied for and not refund
    more than was claimed. The open risk findings count as verified by this confirmation.
    """
    confirmed, inc, stk, corrected = confirmed_figures(application, amount, incremental, stock)
    reason = (reason or "").strip()
    if corrected:
        reason = _required_reason(reason, "更正规则计算的退税额")
    if confirmed > application.claimed_amount:
        raise ApplicationError(
            f"确认退税额 {format_yuan(confirmed)} 元超过申请退税额 {format_yuan(application.claimed_amount)} 元，"
            "不能多退；请按不超过申请额的金额更正并说明原因，或由纳税人重新申请。"
        )
    now = timezone.now()
    with transaction.atomic():
        _transition(
            application=application,
            action="submit_for_review",
            actor=actor,
            reason=(f"更正：{reason}" if corrected else "一键确认规则计算结果" + (f"（{reason}）" if reason else "")),
            evidence={
                "confirmed_amount": str(confirmed),
                "confirmed_incremental": str(inc),
                "confirmed_stock": str(stk),
                "computed_amount": None if application.computed_amount is None else str(application.computed_amount),
                "corrected": corrected,
            },
            fields={
                "confirmed_amount": confirmed,
                "confirmed_incremental": inc,
                "confirmed_stock": stk,
                "correction_reason": reason[:500] if corrected else "",
                "confirmed_by": signed_in(actor),
                "confirmed_at": now,
                # a sign-off was for the amount confirmed before: 局领导签批 is asked again when still needed
                "signed_off_by": None,
                "signed_off_at": None,
                "sign_off_opinion": "",
            },
        )
        ApplicationRiskHit.objects.filter(application=application, resolved_at__isnull=True).update(
            resolved_at=now,
            resolved_by=signed_in(actor),
            resolution=(f"经核实，更正后确认：{reason}" if corrected else "经核实，确认规则计算结果")[:500],
        )
    return application


def _approve(*, actor, application: RefundApplication, batch: bool = False) -> RefundApplication:
    block = approval_blocks(actor=actor, applications=[application]).get(application.pk)
    if block is not None and block.code != "state":
        raise ApprovalBlocked(f"{block.reason}。", code=block.code)
    if block is not None:
        # Refused before the gate: the gate would otherwise try to return an application not under review.
        current = RefundApplication.objects.filter(pk=application.pk).values_list("state", flat=True).first()
        if current is not None and current != application.state:
            raise ConflictError(
                f"该申请已被他人处理（当前状态：{state_label(current)}），不能审批通过。请刷新页面后查看。",
                code="state_changed",
            )
        raise TransitionRefused(
            f"只有“{state_label(State.REVIEWING)}”的申请可以审批通过，该申请当前为“{state_label(application.state)}”。"
        )
    computation = compute_application(
        taxpayer_id=application.taxpayer_id,
        application_period=application.application_period,
        received_on=application.received_on,
        kind=application.kind,
        options=(application.inputs_snapshot or {}).get("options"),
    )
    with transaction.atomic():
        findings = _gate(application=application, actor=actor, stage=APPROVAL, decision=computation.decision)
        refusal = "" if findings else approval_refusal(application=application, actor=actor, batch=batch)
        if not findings and not refusal:
            now = timezone.now()
            _transition(
                application=application,
                action="approve",
                actor=actor,
                reason=f"审批通过，退税额 {format_yuan(application.confirmed_amount)} 元",
                fields={
                    "approved_by": signed_in(actor),
                    "approved_at": now,
                },
            )
    if findings:
        raise RiskHitReturned(
            f"审批前复核发现疑点：{summary_of(findings)}，申请已回退调查核实，未审批。",
            extra={"hits": [f.code for f in findings]},
        )
    if refusal:
        raise GradeRefused(refusal)
    return application


def application_approve(*, actor, application: RefundApplication, batch: bool = False) -> RefundApplication:
    """审批: the risk gate again on the data as it stands (stage approval); a hit returns the application and
    raises ``RiskHitReturned`` (the return is kept). Then the scan's grade may refuse (``GradeRefused``: 中 in a
    ``batch``, 高 without a 集体会商 decision; the scan is kept, the application stays under review). Otherwise
    approved, once — a second approver, or an approval after rejection, is refused by the guarded transition."""
    return _approve(actor=actor, application=application, batch=batch)


def application_return(
    *, actor, application: RefundApplication, reason: str, evidence: dict | None = None
) -> RefundApplication:
    """回退: back for investigation, with the reason and the evidence."""
    reason = _required_reason(reason, "回退")
    with transaction.atomic():
        return _transition(
            application=application,
            action="return",
            actor=actor,
            reason=reason,
            evidence=evidence,
            fields={"decision_reason": reason},
        )


def application_reject(*, actor, application: RefundApplication, reason: str) -> RefundApplication:
    """不予退税: final; a new application for the same period may then be received."""
    reason = _required_reason(reason, "不予退税")
    with transaction.atomic():
        return _transition(
            application=application, action="reject", actor=actor, reason=reason, fields={"decision_reason": reason}
        )


def application_recompute(*, actor, application: RefundApplication) -> RefundApplication:
    """重新计算: the rules again on the taxpayer's data as it stands; the figures and snapshots refreshed.

    Only while the application is open (an approved or paid refund keeps the figures it was decided on).
    """
    if application.state not in OPEN_APPLICATION_STATES:
        raise TransitionRefused(f"“{state_label(application.state)}”的申请不能重新计算。")
    options = (application.inputs_snapshot or {}).get("options") or options_for(application.application_period)
    computation = compute_application(
        taxpayer_id=application.taxpayer_id,
        application_period=application.application_period,
        received_on=application.received_on,
        kind=application.kind,
        options=options,
    )
    fields = computed_fields(
        computation, size_fallback=application.taxpayer.size, industry_fallback=application.taxpayer.industry_code
    )
    before = {name: getattr(application, name) for name in RECOMPUTED_FIELDS}
    with transaction.atomic():
        matched = RefundApplication.objects.filter(pk=application.pk, state__in=OPEN_APPLICATION_STATES).update(
            **fields, updated_at=timezone.now()
        )
        if not matched:
            raise ConflictError("该申请已被他人处理，不能重新计算。请刷新页面后查看。", code="state_changed")
        for name, value in fields.items():
            setattr(application, name, value)
        record_event(
            actor=actor,
            verb="refund_application_recompute",
            target=application,
            summary="按现有数据重新计算留抵退税申请",
            changes=field_changes(before, fields, RECOMPUTED_FIELDS),
        )
    return application


# --- coaching ----------------------------------------------------------------------------------------------


def coaching_record_add(
    *,
    actor,
    taxpayer: Taxpayer,
    topic: str,
    notes: str,
    coached_on: dt.date,
    application: RefundApplication | None = None,
) -> CoachingRecord:
    """一对一辅导: the officer's coaching of a taxpayer (about one application, or its refund in general)."""
    Topic = CoachingRecord.Topic
    if topic not in Topic.values:
        labels = "、".join(label for _, label in Topic.choices)
        raise ApplicationError(f"辅导主题“{topic}”无效，应为：{labels}。")
    notes = (notes or "").strip()
    if not notes:
        raise ApplicationError("请填写辅导情况。")
    if coached_on > timezone.localdate():
        raise ApplicationError(f"辅导日期 {coached_on.isoformat()} 晚于今天，不能是将来的日期。")
    if application is not None and application.taxpayer_id != taxpayer.pk:
        raise ApplicationError("该申请不属于这户纳税人。")
    if not getattr(actor, "is_authenticated", False):
        raise ApplicationError("辅导记录必须由登录的税务人员登记。")
    with transaction.atomic():
        record = CoachingRecord.objects.create(
            taxpayer=taxpayer,
            application=application,
            topic=topic,
            notes=notes,
            coached_on=coached_on,
            officer=actor,
        )
        record_event(
            actor=actor,
            verb="refund_coaching_add",
            target=record,
            summary=f"{taxpayer.name}一对一辅导：{Topic(topic).label}（{coached_on.isoformat()}）",
            changes={
                "taxpayer": taxpayer.pk,
                "application": application.pk if application else None,
                "topic": topic,
                "coached_on": coached_on.isoformat(),
            },
        )
    return record


# --- payment (called by the ledger) ------------------------------------------------------------------------


def application_mark_paid(
    *,
    application: RefundApplication,
    actor,
    paid_on: dt.date,
    amount: Decimal,
    incremental: Decimal,
    stock: Decimal,
    voucher_number: str,
) -> RefundApplication:
    """退库: the treasury paid (part of) an approved application (called by ``ledger.services`` in its
    transaction, with the application row locked, so ``application``'s sums so far are current).

    The payment adds to the sums paid; the application is 已退库 once they reach the confirmed amount and
    部分退库 until then, with ``paid_on`` the date of the latest payment.
    """
    if incremental + stock != amount:
        raise ApplicationError(
            f"增量 {format_yuan(incremental)} 元与存量 {format_yuan(stock)} 元之和"
            f"不等于退库金额 {format_yuan(amount)} 元。"
        )
    paid = (application.paid_amount or ZERO) + amount
    if application.confirmed_amount is None or paid > application.confirmed_amount:
        raise ApplicationError(
            f"累计退库 {format_yuan(paid)} 元将超过确认退税额 {format_yuan(application.confirmed_amount)} 元。"
        )
    in_full = paid == application.confirmed_amount
    fields = {
        "paid_on": max(paid_on, application.paid_on) if application.paid_on else paid_on,
        "paid_amount": paid,
        "paid_incremental": (application.paid_incremental or ZERO) + incremental,
        "paid_stock": (application.paid_stock or ZERO) + stock,
    }
    reason = f"退库凭证号 {voucher_number}，本次 {format_yuan(amount)} 元"
    if not in_full:
        reason += f"，累计 {format_yuan(paid)} 元，尚余 {format_yuan(application.confirmed_amount - paid)} 元待退库"
    with transaction.atomic():
        return _transition(
            application=application,
            action="mark_paid" if in_full else "mark_partly_paid",
            actor=actor,
            reason=reason,
            fields=fields,
        )
