"""Every write to a 留抵退税申请: arrival, the workflow, coaching — one service per business action.

The state moves only through ``_transition``: a conditional ``UPDATE … WHERE state IN (expected)``, so when
two officers act on the same application at once exactly one update matches and the other gets a
``ConflictError`` ("已被他人处理"). The transition row, the audit event and the model fields change in the
same transaction; side effects (notifications, funnel moves) run after commit.

Workflow (DESIGN.md step 4)::

    received ─┬─> investigating ──> reviewing ──> approved ──> paid
              │        ^   │            │
              └────────┼───┴────────────┴──> returned (回退, reason + evidence) ──> investigating
                       └──────────────────────> rejected (不予退税, reason; final)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.audit import field_changes, record_event
from accounts.scoping import visible_branch_ids
from core.errors import ApplicationError, ConflictError
from core.money import format_yuan, parse_yuan
from core.periods import Period
from notify.services import inbox_notify
from taxpayers.calendar import add_working_days
from taxpayers.models import Taxpayer

from ..candidates.services import candidate_items_mark_applied
from ..models import (
    OPEN_APPLICATION_STATES,
    ApplicationRiskHit,
    ApplicationTransition,
    CoachingRecord,
    RefundApplication,
    ScreeningRun,
)
from ..screening.case_builder import tax_period_of, taxpayer_case_json
from ..screening.services import decide, period_input
from .claims import claim_refusal
from .risk import APPROVAL, ARRIVAL, Finding, RuleFigures, figures_of, run_gate, summary_of

logger = structlog.get_logger(__name__)

State = RefundApplication.State
ZERO = Decimal("0.00")

# Which states each action may start from. A rejected or paid application moves no more; an approved one
# only to paid, in one payment or in parts (部分退库 until the parts add up to the confirmed amount). Nothing
# leads back to approved, so an application can never be approved twice.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "investigate": (State.RECEIVED, State.RETURNED),
    "submit_for_review": (State.RECEIVED, State.INVESTIGATING),
    "approve": (State.REVIEWING,),
    "return": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING),
    "reject": (State.RECEIVED, State.INVESTIGATING, State.REVIEWING, State.RETURNED),
    "mark_partly_paid": (State.APPROVED, State.PARTLY_PAID),
    "mark_paid": (State.APPROVED, State.PARTLY_PAID),
}
TARGET: dict[str, str] = {
    "investigate": State.INVESTIGATING,
    "submit_for_review": State.REVIEWING,
    "approve": State.APPROVED,
    "return": State.RETURNED,
    "reject": State.REJECTED,
    "mark_partly_paid": State.PARTLY_PAID,
    "mark_paid": State.PAID,
}
ACTION_LABELS: dict[str, str] = {
    "investigate": "开始调查核实",
    "submit_for_review": "确认并提交审核",
    "approve": "审批通过",
    "return": "回退",
    "reject": "不予退税",
    "mark_partly_paid": "部分退库",
    "mark_paid": "退库",
}


class TransitionRefused(ApplicationError):
    """The application is not in a state the action may start from."""

    code = "transition_refused"


def _state_label(state: str) -> str:
    return State(state).label


def _transition(
    *,
    application: RefundApplication,
    action: str,
    actor,
    reason: str = "",
    evidence: dict | None = None,
    fields: dict | None = None,
) -> RefundApplication:
    """Move ``application`` by ``action`` if, in the database, it is still in a state the action allows.

    Must run inside the caller's transaction. Other officers (and the batch approval of another officer)
    may be acting on the same row: the conditional UPDATE is the only guard, and it holds under
    concurrency because PostgreSQL re-checks the WHERE clause after waiting for the other writer's lock.
    """
    allowed = ALLOWED_FROM[action]
    target = TARGET[action]
    now = timezone.now()
    values = {**(fields or {}), "state": target, "state_changed_at": now, "updated_at": now}
    matched = RefundApplication.objects.filter(pk=application.pk, state__in=allowed).update(**values)
    if not matched:
        current = RefundApplication.objects.filter(pk=application.pk).values_list("state", flat=True).first()
        label = ACTION_LABELS[action]
        if current is None:
            raise ApplicationError("该申请不存在或已被删除。", code="not_found")
        if current != application.state:
            raise ConflictError(
                f"该申请已被他人处理（当前状态：{_state_label(current)}），不能{label}。请刷新页面后查看。",
                code="state_changed",
            )
        allowed_text = "、".join(_state_label(s) for s in allowed)
        raise TransitionRefused(f"只有“{allowed_text}”的申请可以{label}，该申请当前为“{_state_label(current)}”。")
    before = application.state
    for name, value in values.items():
        setattr(application, name, value)
    ApplicationTransition.objects.create(
        application=application,
        from_state=before,
        to_state=target,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:500],
        evidence=evidence or {},
    )
    record_event(
        actor=actor,
        verb=f"refund_application_{action}",
        target=application,
        summary=f"{ACTION_LABELS[action]}：{_state_label(before)} → {_state_label(target)}"
        + (f"（{reason[:200]}）" if reason else ""),
        changes={"state": [before, target], **({"reason": reason} if reason else {})},
    )
    return application


# --- arrival ------------------------------------------------------------------------------------------------

SLA_WORKING_DAYS = 10
"""办结期限: a risk-free application is settled within 10 working days of its receipt."""


class DuplicateApplication(ApplicationError):
    """The same application arrived twice (same document number, or a live one for the taxpayer and period)."""

    status_code = 409
    code = "duplicate_application"


class ClaimRefused(ApplicationError):
    """The claimed amount cannot be a refund (``application_claims.claim_refusal``: ≤ 0, above what a money field
    holds, or above the taxpayer's 期末留抵税额 of the tax period); the message goes beside the claim."""

    code = "claim_refused"

    def __init__(self, message: str):
        super().__init__(message, extra={"field": "claimed_amount"})


class RiskHitReturned(ApplicationError):
    """The risk gate found something before approval: the application was returned (回退) with the evidence."""

    code = "risk_hit_returned"


@dataclass(frozen=True)
class Computation:
    """The rules' figures for an application, and the case and decision they came from."""

    case: dict
    decision: dict
    figures: RuleFigures


def application_date_for(period: Period, received_on: dt.date) -> dt.date:
    """The rules' application date: the receipt, kept inside the application period (the parser requires it).

    A receipt after the period (an application filed on its last days and accepted after the month turned)
    counts as filed on the period's last day.
    """
    if Period.of(received_on) == period:
        return received_on
    return period.last_day if received_on > period.last_day else period.first_day


def _options_for(application_period: Period) -> dict | None:
    """The options of the period's latest screening, so that an application is decided as it was screened."""
    run = ScreeningRun.latest_succeeded(application_period)
    return dict(run.options) if run is not None and run.options else None


def compute_application(
    *, taxpayer_id: int, application_period: Period, received_on: dt.date, kind: str, options: dict | None
) -> Computation:
    """The real rules (the case ``manage.py refund_assess`` accepts, decided as the screening does) for one
    application. The application's own period is left out of its previous refunds: it is the refund decided."""
    case = taxpayer_case_json(
        taxpayer_id=taxpayer_id,
        application_period=application_period,
        application_date=application_date_for(application_period, received_on),
        options=options,
    )
    own = str(application_period)  # the case is the contract's JSON: periods are text there
    case["previous_refunds"] = [r for r in case["previous_refunds"] if r["application_period"] != own]
    decision = decide(case)
    return Computation(case, decision, figures_of(decision, kind=kind))


def _computed_fields(computation: Computation, *, size_fallback: str, industry_fallback: str) -> dict:
    figures, decision = computation.figures, computation.decision
    return {
        "regime": figures.regime,
        "size": (decision.get("size") or size_fallback or "")[:10],
        "industry_code": (computation.case["taxpayer"].get("industry_code") or industry_fallback or "")[:5],
        "computed_eligible": figures.eligible,
        "computed_amount": figures.amount,
        "computed_incremental": figures.incremental,
        "computed_stock": figures.stock,
        "computed_at": timezone.now(),
        "inputs_snapshot": computation.case,
        "result_snapshot": computation.decision,
    }


def _tax_period_credit(
    computation: Computation, *, taxpayer: Taxpayer, application_period: Period
) -> tuple[Period, Decimal | None]:
    """(tax period, its 期末留抵税额) of the return the application rests on, as the rules read it; the credit is
    None when that return is not in the system."""
    tax_period = tax_period_of(application_period, taxpayer.filing_frequency)
    for row in computation.case.get("returns", ()):
        if row.get("period") == str(tax_period) and row.get("end_credit") is not None:
            return tax_period, Decimal(row["end_credit"])
    return tax_period, None


def _duplicate_of(*, taxpayer: Taxpayer, application_period: Period, document_number: str | None) -> str | None:
    """The Chinese reason this arrival repeats an application already received, or None."""
    if document_number:
        other = RefundApplication.objects.filter(document_number=document_number).select_related("taxpayer").first()
        if other is not None:
            return (
                f"申请文书号“{document_number}”已受理（{other.taxpayer.name} {other.application_period}，"
                f"状态：{other.get_state_display()}），不能重复受理。"
            )
    live = (
        RefundApplication.objects.filter(taxpayer=taxpayer, application_period=application_period)
        .exclude(state=State.REJECTED)
        .first()
    )
    if live is not None:
        number = f"文书号 {live.document_number}，" if live.document_number else ""
        return (
            f"{taxpayer.name} {application_period} 所属期已有一份留抵退税申请（{number}受理日期 "
            f"{live.received_on.isoformat()}，状态：{live.get_state_display()}），同一所属期不能重复申请。"
        )
    return None


def _validate_arrival(
    *,
    taxpayer: Taxpayer,
    application_period: Period | str,
    kind: str,
    claimed_amount,
    received_on: dt.date,
    source: str,
    document_number: str | None,
) -> tuple[Period, str, Decimal, str, str | None]:
    period = period_input(application_period)
    if kind not in RefundApplication.Kind.values:
        labels = "、".join(f"{value}（{label}）" for value, label in RefundApplication.Kind.choices)
        raise ApplicationError(f"退税类型“{kind}”无效，应为：{labels}。")
    if source not in RefundApplication.Source.values:
        raise ApplicationError(f"来源“{source}”无效。")
    try:
        amount = parse_yuan(claimed_amount, "申请退税额")
    except ApplicationError as exc:
        raise ClaimRefused(exc.message) from None
    refusal = claim_refusal(amount)  # the bound of the tax period's credit once the rules have read the returns
    if refusal:
        raise ClaimRefused(refusal)
    if not isinstance(received_on, dt.date):
        raise ApplicationError("受理日期无效。")
    if received_on > timezone.localdate():
        raise ApplicationError(f"受理日期 {received_on.isoformat()} 晚于今天，不能是将来的日期。")
    if received_on < period.first_day:
        raise ApplicationError(f"受理日期 {received_on.isoformat()} 早于申请退税所属期 {period}，请核对。")
    number = (document_number or "").strip() or None
    if number is not None and len(number) > 40:
        raise ApplicationError("申请文书号过长：最多 40 个字符。")
    return period, kind, amount, source, number


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
    period, kind, amount, source, number = _validate_arrival(
        taxpayer=taxpayer,
        application_period=application_period,
        kind=kind,
        claimed_amount=claimed_amount,
        received_on=received_on,
        source=source,
        document_number=document_number,
    )
    duplicate = _duplicate_of(taxpayer=taxpayer, application_period=period, document_number=number)
    if duplicate:
        raise DuplicateApplication(duplicate)
    due_on = add_working_days(received_on, SLA_WORKING_DAYS, estimate=True)
    computation = compute_application(
        taxpayer_id=taxpayer.pk,
        application_period=period,
        received_on=received_on,
        kind=kind,
        options=_options_for(period),
    )
    tax_period, end_credit = _tax_period_credit(computation, taxpayer=taxpayer, application_period=period)
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
                credit_level_at_submission=taxpayer.credit_level or "",
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                **_computed_fields(computation, size_fallback=taxpayer.size, industry_fallback=taxpayer.industry_code),
            )
    except IntegrityError:
        duplicate = _duplicate_of(taxpayer=taxpayer, application_period=period, document_number=number)
        raise DuplicateApplication(duplicate or "该申请已被同时受理，不能重复受理。") from None
    source_label = RefundApplication.Source(source).label
    ApplicationTransition.objects.create(
        application=application,
        from_state="",
        to_state=State.RECEIVED,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
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

    The branch is copied from the taxpayer, the 10-working-day clock starts from receipt, the credit level at
    submission is kept, and the real rules decide it on the taxpayer's data (inputs and result snapshotted,
    the figures pre-filled for 一键确认). Then the arrival risk gate: a hit returns it (回退) with the evidence.
    After commit the period's candidate item moves to 已申请.
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


def _gate(*, application: RefundApplication, actor, stage: str, decision: dict) -> list[Finding]:
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


def _required_reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(f"{what}必须填写原因。")
    if len(text) > 500:
        raise ApplicationError(f"{what}原因过长：最多 500 个字符，实际 {len(text)} 个。")
    return text


def application_investigate(*, actor, application: RefundApplication, note: str = "") -> RefundApplication:
    """前置调查 / 疑点核实: an officer takes up a received or returned application."""
    with transaction.atomic():
        return _transition(application=application, action="investigate", actor=actor, reason=(note or "").strip())


def _confirmed_figures(
    application: RefundApplication, amount: Decimal | None, incremental: Decimal | None, stock: Decimal | None
) -> tuple[Decimal, Decimal, Decimal, bool]:
    """(amount, incremental, stock, corrected) from what the officer entered (None: the rules' figure)."""
    Kind = RefundApplication.Kind
    if amount is None and incremental is None and stock is None:
        if application.computed_amount is None:
            message = (application.result_snapshot or {}).get("message", "")
            raise ApplicationError(
                "规则未能计算该申请的退税额"
                + (f"（{message}）" if message else "")
                + "，不能一键确认；请填写核实后的退税额并说明原因。"
            )
        return (
            application.computed_amount,
            application.computed_incremental or Decimal("0.00"),
            application.computed_stock or Decimal("0.00"),
            False,
        )
    values = {
        "amount": None if amount is None else parse_yuan(amount, "确认退税额"),
        "incremental": None if incremental is None else parse_yuan(incremental, "确认增量退税额"),
        "stock": None if stock is None else parse_yuan(stock, "确认存量退税额"),
    }
    if application.kind == Kind.INCREMENTAL:
        if values["stock"]:
            raise ApplicationError("该申请只申请增量留抵退税，确认存量退税额应为 0。")
        values["stock"] = Decimal("0.00")
        if values["incremental"] is None:
            values["incremental"] = values["amount"]
    elif application.kind == Kind.STOCK:
        if values["incremental"]:
            raise ApplicationError("该申请只申请存量留抵退税，确认增量退税额应为 0。")
        values["incremental"] = Decimal("0.00")
        if values["stock"] is None:
            values["stock"] = values["amount"]
    if values["incremental"] is None or values["stock"] is None:
        raise ApplicationError("该申请同时申请增量和存量留抵退税，请分别填写确认的增量和存量退税额。")
    total = values["incremental"] + values["stock"]
    if values["amount"] is None:
        values["amount"] = total
    elif values["amount"] != total:
        raise ApplicationError(
            f"增量 {format_yuan(values['incremental'])} 元与存量 {format_yuan(values['stock'])} 元之和 "
            f"{format_yuan(total)} 元不等于确认退税额 {format_yuan(values['amount'])} 元。"
        )
    corrected = (values["amount"], values["incremental"], values["stock"]) != (
        application.computed_amount,
        application.computed_incremental,
        application.computed_stock,
    )
    return values["amount"], values["incremental"], values["stock"], corrected


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
    confirmed, inc, stk, corrected = _confirmed_figures(application, amount, incremental, stock)
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
                "confirmed_by": actor if getattr(actor, "is_authenticated", False) else None,
                "confirmed_at": now,
            },
        )
        ApplicationRiskHit.objects.filter(application=application, resolved_at__isnull=True).update(
            resolved_at=now,
            resolved_by=actor if getattr(actor, "is_authenticated", False) else None,
            resolution=(f"经核实，更正后确认：{reason}" if corrected else "经核实，确认规则计算结果")[:500],
        )
    return application


@dataclass(frozen=True)
class ApprovalBlock:
    """Why an application cannot be approved now. ``reason`` is the same sentence for every application blocked
    the same way, so that a batch confirmation can group them ("2 件：…")."""

    code: str  # "out_of_scope" | "state" | "open_risk_hit"
    reason: str


class ApprovalBlocked(ApplicationError):
    code = "approval_blocked"


def approval_blocks(*, actor, applications: Iterable[RefundApplication]) -> dict[int, ApprovalBlock]:
    """审批's precondition, the one check both the batch confirmation's count and every approval use: for each of
    ``applications`` that cannot be approved now, why — outside the actor's branches, not under review
    (``ALLOWED_FROM["approve"]``), or a risk finding not yet verified. An application absent from the result can
    be approved (the approval then re-runs the risk gate on the data as it stands). One query."""
    applications = list(applications)
    visible = visible_branch_ids(actor)
    open_hits = set(
        ApplicationRiskHit.objects.filter(application__in=applications, resolved_at__isnull=True).values_list(
            "application_id", flat=True
        )
    )
    reviewing = "、".join(_state_label(s) for s in ALLOWED_FROM["approve"])
    blocks = {}
    for application in applications:
        if visible is not None and application.branch_id not in visible:
            blocks[application.pk] = ApprovalBlock("out_of_scope", "不在您的管辖范围内")
        elif application.state not in ALLOWED_FROM["approve"]:
            blocks[application.pk] = ApprovalBlock(
                "state", f"当前为“{_state_label(application.state)}”，只有“{reviewing}”的申请可以审批"
            )
        elif application.pk in open_hits:
            blocks[application.pk] = ApprovalBlock("open_risk_hit", "有尚未核实的风险疑点，须核实后再审批")
    return blocks


def _approve(*, actor, application: RefundApplication) -> RefundApplication:
    block = approval_blocks(actor=actor, applications=[application]).get(application.pk)
    if block is not None and block.code != "state":
        raise ApprovalBlocked(f"{block.reason}。", code=block.code)
    if block is not None:
        # Refused before the gate: the gate would otherwise try to return an application not under review.
        current = RefundApplication.objects.filter(pk=application.pk).values_list("state", flat=True).first()
        if current is not None and current != application.state:
            raise ConflictError(
                f"该申请已被他人处理（当前状态：{_state_label(current)}），不能审批通过。请刷新页面后查看。",
                code="state_changed",
            )
        raise TransitionRefused(
            f"只有“{_state_label(State.REVIEWING)}”的申请可以审批通过，该申请当前为“{_state_label(application.state)}”。"
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
        if not findings:
            now = timezone.now()
            _transition(
                application=application,
                action="approve",
                actor=actor,
                reason=f"审批通过，退税额 {format_yuan(application.confirmed_amount)} 元",
                fields={
                    "approved_by": actor if getattr(actor, "is_authenticated", False) else None,
                    "approved_at": now,
                },
            )
    if findings:
        raise RiskHitReturned(
            f"审批前复核发现疑点：{summary_of(findings)}，申请已回退调查核实，未审批。",
            extra={"hits": [f.code for f in findings]},
        )
    return application


def application_approve(*, actor, application: RefundApplication) -> RefundApplication:
    """审批: the risk gate again on the data as it stands (stage approval); a hit returns the application and
    raises ``RiskHitReturned`` (the return is kept); otherwise approved, once — a second approver, or an
    approval after rejection, is refused by the guarded transition."""
    return _approve(actor=actor, application=application)


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


@dataclass(frozen=True)
class AssignmentBlock:
    """Why an application is not assigned to the officer (the same sentence for every one blocked the same way)."""

    code: str  # "outside" | "closed" | "already"
    reason: str


def assignment_blocks(*, applications: Iterable[RefundApplication], officer) -> dict[int, AssignmentBlock]:
    """分派's precondition, the one check both the batch confirmation's count and the assignment use: the officer
    must see the application's branch (a direct assignment of such an application is refused as a whole), a
    settled application is not reassigned, and one already with the officer stays as it is."""
    visible = visible_branch_ids(officer)
    name = officer.full_name or officer.username
    blocks = {}
    for application in applications:
        if visible is not None and application.branch_id not in visible:
            blocks[application.pk] = AssignmentBlock("outside", f"{name}看不到其所属的分局，不能分派")
        elif application.state not in OPEN_APPLICATION_STATES:
            label = _state_label(application.state)
            blocks[application.pk] = AssignmentBlock("closed", f"当前为“{label}”，已办结的申请不再分派")
        elif application.assigned_to_id == officer.pk:
            blocks[application.pk] = AssignmentBlock("already", f"已分派给{name}")
    return blocks


def application_assign(*, actor, applications: Iterable[RefundApplication], officer) -> int:
    """分派: the open applications go to ``officer``, who must work applications and see their branches."""
    if officer is None or not officer.is_active:
        raise ApplicationError("经办人无效或已停用。")
    if not officer.has_perm("refund.review_refundapplication"):
        raise ApplicationError(f"{officer.full_name or officer.username}的岗位不办理留抵退税申请，不能分派。")
    ids = [a.pk for a in applications]
    if not ids:
        raise ApplicationError("请至少选择一件申请。")
    with transaction.atomic():
        rows = list(
            RefundApplication.objects.select_for_update()
            .filter(pk__in=ids)
            .select_related("taxpayer", "branch")
            .order_by("pk")
        )
        blocks = assignment_blocks(applications=rows, officer=officer)
        outside = [a for a in rows if a.pk in blocks and blocks[a.pk].code == "outside"]
        if outside:
            names = "、".join(f"{a.taxpayer.name}（{a.branch.name}）" for a in outside[:5])
            raise ApplicationError(
                f"{officer.full_name or officer.username}看不到以下申请所属的分局，不能分派：{names}"
                + ("等" if len(outside) > 5 else "")
                + "。"
            )
        open_ids = [a.pk for a in rows if a.pk not in blocks]
        if not open_ids:
            return 0
        RefundApplication.objects.filter(pk__in=open_ids).update(assigned_to=officer, updated_at=timezone.now())
        record_event(
            actor=actor,
            verb="refund_application_assign",
            object_type="refund.refundapplication",
            object_repr="留抵退税申请",
            summary=f"{len(open_ids)} 件留抵退税申请分派给{officer.full_name or officer.username}",
            changes={"ids": open_ids, "assigned_to": officer.pk},
        )
        title = f"分派给您 {len(open_ids)} 件留抵退税申请"
        transaction.on_commit(lambda: inbox_notify(users=[officer], title=title, link=_queue_link()))
    return len(open_ids)


def _queue_link() -> str:
    try:
        return reverse("refund:my_applications")
    except NoReverseMatch:  # the queue page comes with the pages of issue 6
        return ""


@dataclass(frozen=True)
class ApprovalOutcome:
    application: RefundApplication
    reason: str = ""  # why it was not approved (Chinese); empty for an approved one


@dataclass
class BatchApprovalSummary:
    approved: list[ApprovalOutcome] = field(default_factory=list)
    refused: list[ApprovalOutcome] = field(default_factory=list)

    @property
    def approved_amount(self) -> Decimal:
        return sum((o.application.confirmed_amount or Decimal("0") for o in self.approved), Decimal("0.00"))


def applications_approve_batch(*, actor, applications: Iterable[RefundApplication]) -> BatchApprovalSummary:
    """批量审批: each application re-checked by the gate and approved in its own transaction, so that one
    refusal (a risk hit, another officer's action, a wrong state) does not stop the rest."""
    summary = BatchApprovalSummary()
    for application in applications:
        try:
            _approve(actor=actor, application=application)  # refuses by ``approval_blocks`` first
        except ApplicationError as exc:
            if not isinstance(exc, RiskHitReturned | ConflictError | TransitionRefused | ApprovalBlocked):
                logger.info("batch_approval_refused", application_id=application.pk, code=exc.code)
            summary.refused.append(ApprovalOutcome(application, exc.message))
        else:
            summary.approved.append(ApprovalOutcome(application))
    return summary


def application_recompute(*, actor, application: RefundApplication) -> RefundApplication:
    """重新计算: the rules again on the taxpayer's data as it stands; the figures and snapshots refreshed.

    Only while the application is open (an approved or paid refund keeps the figures it was decided on).
    """
    if application.state not in OPEN_APPLICATION_STATES:
        raise TransitionRefused(f"“{_state_label(application.state)}”的申请不能重新计算。")
    options = (application.inputs_snapshot or {}).get("options") or _options_for(application.application_period)
    computation = compute_application(
        taxpayer_id=application.taxpayer_id,
        application_period=application.application_period,
        received_on=application.received_on,
        kind=application.kind,
        options=options,
    )
    fields = _computed_fields(
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


RECOMPUTED_FIELDS = (
    "regime",
    "size",
    "industry_code",
    "computed_eligible",
    "computed_amount",
    "computed_incremental",
    "computed_stock",
)


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


def open_actions(application: RefundApplication) -> list[str]:
    """The actions the application's current state allows (the page shows the others disabled, with why)."""
    return [action for action, states in ALLOWED_FROM.items() if application.state in states]


def actions_refused_reason(action: str) -> str:
    allowed: Iterable[str] = ALLOWED_FROM[action]
    return "仅限“" + "、".join(_state_label(s) for s in allowed) + "”的申请"
