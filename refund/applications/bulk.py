"""Backfill of past refund applications (历史申请) with their workflow, findings, coaching and payments.

Why: applications that went through the workflow before they reach this system — a county's records moved in,
the demo county's past years — arrive by the thousand with the times they happened at. the services
moves one application at a time, now; this is the bulk path for history, and it holds each application to the
same rules before writing anything:

- arrival as ``application_receive`` checks it (``arrival.validate_arrival``: kind, source, a claim above 0 and within
  the tax period's 期末留抵税额, a receipt date in the period and not in the future, the document number) and
  at most one live application per taxpayer and period, one per document number; the branch is the taxpayer's,
  the 办结期限 ten working days after receipt, the rules' figures are derived from the given decision as the
  service derives them;
- every step a move the workflow allows (``ALLOWED_FROM``), in time order, after receipt and before now, by a
  signed-in officer; a return or rejection with its reason; 一键确认 as ``application_confirm`` checks it (the
  figures add up, keep to the kind, do not exceed the claim, a correction has its reason), and it resolves the
  open findings; no approval while a finding is open, nor by the officer who confirmed (岗责分离; a 局领导签批
  of a large refund is not recorded for history: it was given on paper); an assignee who works applications of
  that branch;
- a payment as ``application_mark_paid`` checks it (called by ``ledger.bulk``, which checks it against the
  treasury's rules first);
- a coaching record as ``coaching_record_add`` checks it.

What the caller gives rather than the services computing it now: the times; the rules' case and decision (taken
with the real rules at the receipt date); the findings of the arrival gate; the wording of each step. No side
effects are sent (notifications, the candidate funnel): it is history. One audit event per backfill, as an import
records one per file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.scoping import visible_branch_ids
from core.bulk import bulk_create_as_recorded, bulk_set
from core.errors import ApplicationError
from core.periods import Period
from taxpayers.calendar import add_working_days
from taxpayers.models import Taxpayer

from ..models import ApplicationRiskHit, ApplicationTransition, CoachingRecord, RefundApplication
from ..rules import Case
from ..screening.decisions import Outcome
from .arrival import validate_arrival
from .claims import claim_refusal
from .computation import Computation, computed_fields, confirmed_figures, tax_period_credit
from .risk import figures_of
from .services import SLA_WORKING_DAYS, _required_reason
from .workflow import ALLOWED_FROM, TARGET

State = RefundApplication.State
WORKFLOW_ACTIONS = ("investigate", "submit_for_review", "approve", "return", "reject")  # payments: ledger.bulk
BATCH = 500


@dataclass
class Step:
    """One move of the workflow: ``action`` is a key of ``ALLOWED_FROM`` (a payment is ``ledger.bulk``'s)."""

    action: str
    at: dt.datetime
    actor: object  # accounts.User
    reason: str = ""
    evidence: dict = field(default_factory=dict)


@dataclass
class Confirmation:
    """一键确认 at the ``submit_for_review`` step: the confirmed figures, with the reason of a correction."""

    amount: Decimal
    incremental: Decimal
    stock: Decimal
    reason: str = ""


@dataclass
class Finding:
    """A finding of the arrival risk gate; resolved (with ``resolution``) when the application is confirmed."""

    code: str
    title: str
    evidence: dict
    found_at: dt.datetime
    resolution: str = ""


@dataclass
class PastApplication:
    taxpayer_id: int
    application_period: Period
    kind: str
    source: str
    document_number: str
    received_on: dt.date
    received_at: dt.datetime
    received_by: object  # accounts.User: who received it (the arrival transition's actor)
    arrival_reason: str
    claimed_amount: Decimal
    credit_level_at_submission: str
    case: Case  # the rules' case and their typed decision at receipt (``compute_application``)
    decision: Outcome
    computed_at: dt.datetime
    risk_checked_at: dt.datetime
    steps: list[Step] = field(default_factory=list)
    confirmation: Confirmation | None = None
    finding: Finding | None = None
    assigned_to: object | None = None  # accounts.User


@dataclass
class PastPaymentMark:
    """A treasury payment as the application records it (``ledger.bulk`` checks the payment itself)."""

    application: RefundApplication
    amount: Decimal
    incremental: Decimal
    stock: Decimal
    paid_on: dt.date
    at: dt.datetime
    actor: object  # accounts.User
    reason: str


@dataclass
class PastCoaching:
    taxpayer_id: int
    application: RefundApplication | None
    topic: str
    notes: str
    coached_on: dt.date
    officer: object  # accounts.User
    at: dt.datetime


class BackfillRefused(ApplicationError):
    """A past record the services would not have written; nothing was written."""

    code = "backfill_refused"


def _refuse(past: PastApplication, message: str) -> BackfillRefused:
    return BackfillRefused(f"{past.document_number}（{past.application_period}）：{message}")


# --- applications ----------------------------------------------------------------------------------------------


def applications_backfill(*, applications: list[PastApplication]) -> list[RefundApplication]:
    """Write past applications with their transitions and findings, in the order given; the applications."""
    taxpayers = Taxpayer.objects.in_bulk({past.taxpayer_id for past in applications})
    _check_unique(applications)
    now = timezone.now()
    rows, transitions, hits = [], [], []
    for past in applications:
        taxpayer = taxpayers.get(past.taxpayer_id)
        if taxpayer is None:
            raise _refuse(past, "纳税人不存在。")
        app = _arrival(past, taxpayer, now)
        chain, resolved = _workflow(past, app, now)
        rows.append(app)
        transitions.append(chain)
        hits.append(_finding_row(past, resolved))
    with transaction.atomic():
        created = bulk_create_as_recorded(RefundApplication, rows, batch_size=BATCH)
        for app, chain, hit in zip(created, transitions, hits, strict=True):
            for row in chain:
                row.application = app
            if hit is not None:
                hit.application = app
        bulk_create_as_recorded(
            ApplicationTransition, [row for chain in transitions for row in chain], batch_size=BATCH
        )
        bulk_create_as_recorded(ApplicationRiskHit, [hit for hit in hits if hit is not None], batch_size=BATCH)
        record_event(
            actor=None,
            verb="refund_applications_import",
            object_type="refund.refundapplication",
            object_repr="历史留抵退税申请",
            summary=(
                f"导入历史留抵退税申请 {len(created):,} 件（流转记录 {sum(map(len, transitions)):,} 条，"
                f"风险疑点 {sum(hit is not None for hit in hits):,} 条）"
            ),
            changes={"created": len(created)},
        )
    return created


def _check_unique(applications: list[PastApplication]) -> None:
    numbers = [past.document_number for past in applications]
    if len(set(numbers)) != len(numbers) or RefundApplication.objects.filter(document_number__in=numbers).exists():
        raise BackfillRefused("申请文书号重复或已受理，不能重复受理。")
    live = [
        (past.taxpayer_id, past.application_period) for past in applications if _final_state(past) != State.REJECTED
    ]
    taken = RefundApplication.objects.exclude(state=State.REJECTED).filter(
        taxpayer_id__in={taxpayer for taxpayer, _ in live}
    )
    if len(set(live)) != len(live) or set(live) & set(taken.values_list("taxpayer_id", "application_period")):
        raise BackfillRefused("同一纳税人同一所属期已有一份留抵退税申请，不能重复申请。")


def _final_state(past: PastApplication) -> str:
    return TARGET[past.steps[-1].action] if past.steps else State.RECEIVED


def _arrival(past: PastApplication, taxpayer: Taxpayer, now: dt.datetime) -> RefundApplication:
    try:
        period, kind, amount, source, number = validate_arrival(
            taxpayer=taxpayer,
            application_period=past.application_period,
            kind=past.kind,
            claimed_amount=past.claimed_amount,
            received_on=past.received_on,
            source=past.source,
            document_number=past.document_number,
        )
    except ApplicationError as exc:
        raise _refuse(past, exc.message) from None
    computation = Computation(past.case, past.decision, figures_of(past.decision, kind=kind))
    tax_period, end_credit = tax_period_credit(computation, taxpayer=taxpayer, application_period=period)
    refusal = claim_refusal(amount, end_credit=end_credit, tax_period=tax_period)
    if refusal:
        raise _refuse(past, refusal)
    if timezone.localdate(past.received_at) != past.received_on or past.received_at >= now:
        raise _refuse(past, "登记时间应在受理日期当天，且不能是将来的时间。")
    fields = computed_fields(computation, size_fallback=taxpayer.size, industry_fallback=taxpayer.industry_code)
    fields["computed_at"] = past.computed_at
    return RefundApplication(
        taxpayer=taxpayer,
        branch_id=taxpayer.branch_id,
        application_period=period,
        kind=kind,
        source=source,
        document_number=number,
        received_on=past.received_on,
        received_at=past.received_at,
        due_on=add_working_days(past.received_on, SLA_WORKING_DAYS, estimate=True),
        claimed_amount=amount,
        credit_level_at_submission=past.credit_level_at_submission,
        created_by=_officer(past, past.received_by),
        risk_checked_at=past.risk_checked_at,
        **fields,
    )


def _officer(past: PastApplication, user):
    if not getattr(user, "is_authenticated", False):
        raise _refuse(past, "每一步都必须由登录的税务人员办理。")
    return user


def _workflow(past: PastApplication, app: RefundApplication, now: dt.datetime) -> tuple[list, tuple | None]:
    """Apply the steps to ``app`` as the services would: (the transition rows, without their application; when and
    by whom the findings were resolved, or None)."""
    chain = [
        ApplicationTransition(
            from_state="", to_state=State.RECEIVED, actor=app.created_by, reason=past.arrival_reason[:500],
            created_at=past.received_at,
        )
    ]  # fmt: skip
    state, last = State.RECEIVED, past.received_at
    resolved = None
    for step in past.steps:
        if step.action not in WORKFLOW_ACTIONS or state not in ALLOWED_FROM[step.action]:
            raise _refuse(past, f"不能从“{State(state).label}”执行“{step.action}”。")
        if not last < step.at < now:
            raise _refuse(past, "流转时间应晚于上一步且不能是将来的时间。")
        actor = _officer(past, step.actor)
        _apply(past, app, step, actor)
        if step.action == "submit_for_review":
            resolved = (step.at, actor)
        target = TARGET[step.action]
        chain.append(
            ApplicationTransition(
                from_state=state, to_state=target, actor=actor, reason=step.reason[:500], evidence=step.evidence,
                created_at=step.at,
            )
        )  # fmt: skip
        state, last = target, step.at
    app.state, app.state_changed_at, app.updated_at = state, last, last
    open_finding = past.finding is not None and resolved is None
    app.risk_status = RefundApplication.Risk.HIT if open_finding else RefundApplication.Risk.CLEAR
    _assign(past, app)
    return chain, resolved


def _apply(past: PastApplication, app: RefundApplication, step: Step, actor) -> None:
    """The fields a step sets, checked as its service checks them."""
    if step.action in ("return", "reject"):
        try:
            app.decision_reason = _required_reason(step.reason, "回退" if step.action == "return" else "不予退税")
        except ApplicationError as exc:
            raise _refuse(past, exc.message) from None
    elif step.action == "submit_for_review":
        _confirm(past, app, actor, step.at)
    elif step.action == "approve":  # under review, so confirmed: no finding is open (as approval_blocks asks)
        if app.confirmed_by is not None and app.confirmed_by.pk == actor.pk:
            raise _refuse(past, "确认人不能审批自己确认的申请（岗责分离）。")
        app.approved_by, app.approved_at = actor, step.at


def _confirm(past: PastApplication, app: RefundApplication, actor, at: dt.datetime) -> None:
    given = past.confirmation
    if given is None:
        raise _refuse(past, "提交审核须有确认的退税额。")
    try:
        amount, incremental, stock, corrected = confirmed_figures(app, given.amount, given.incremental, given.stock)
        reason = _required_reason(given.reason, "更正规则计算的退税额") if corrected else ""
    except ApplicationError as exc:
        raise _refuse(past, exc.message) from None
    if amount > app.claimed_amount:
        raise _refuse(past, "确认退税额超过申请退税额，不能多退。")
    app.confirmed_amount, app.confirmed_incremental, app.confirmed_stock = amount, incremental, stock
    app.correction_reason = reason[:500]
    app.confirmed_by, app.confirmed_at = actor, at


def _assign(past: PastApplication, app: RefundApplication) -> None:
    officer = past.assigned_to
    if officer is None:
        return
    visible = visible_branch_ids(officer)
    if not officer.has_perm("refund.review_refundapplication") or (
        visible is not None and app.branch_id not in visible
    ):
        raise _refuse(past, f"{officer}不办理该分局的留抵退税申请，不能分派。")
    app.assigned_to = officer


def _finding_row(past: PastApplication, resolved: tuple | None) -> ApplicationRiskHit | None:
    finding = past.finding
    if finding is None:
        return None
    if not finding.code or not finding.title or finding.found_at < past.received_at:
        raise _refuse(past, "风险疑点须有代码、名称，且发现时间不早于登记时间。")
    hit = ApplicationRiskHit(
        stage=ApplicationRiskHit.Stage.ARRIVAL,
        code=finding.code,
        title=finding.title,
        evidence=finding.evidence,
        created_at=finding.found_at,
    )
    if resolved is not None:
        hit.resolved_at, hit.resolved_by = resolved
        hit.resolution = finding.resolution[:500]
    return hit


# --- payments (called by ledger.bulk) ---------------------------------------------------------------------------


def applications_paid_backfill(*, payments: list[PastPaymentMark]) -> None:
    """Record past treasury payments on their (approved) applications, as ``application_mark_paid`` does: the sums
    paid grow, the application is 已退库 once they reach the confirmed amount (部分退库 until then). Runs in the
    caller's transaction (``ledger.bulk.payments_backfill``), which writes the payments themselves."""
    transitions, changed = [], {}
    for payment in payments:
        app = payment.application
        before = app.state
        action = _mark_paid(payment)
        transitions.append(
            ApplicationTransition(
                application=app, from_state=before, to_state=TARGET[action], actor=payment.actor,
                reason=payment.reason[:500], created_at=payment.at,
            )
        )  # fmt: skip
        changed[app.pk] = app
    fields = ["state", "state_changed_at", "updated_at", "paid_on", "paid_amount", "paid_incremental", "paid_stock"]
    bulk_set(RefundApplication, list(changed.values()), fields)
    bulk_create_as_recorded(ApplicationTransition, transitions, batch_size=BATCH)


def _mark_paid(payment: PastPaymentMark) -> str:
    app = payment.application
    if payment.incremental + payment.stock != payment.amount:
        raise BackfillRefused(f"{app.document_number}：增量与存量之和不等于退库金额。")
    paid = (app.paid_amount or Decimal("0.00")) + payment.amount
    if app.state not in ALLOWED_FROM["mark_paid"] or app.confirmed_amount is None or paid > app.confirmed_amount:
        raise BackfillRefused(f"{app.document_number}：只有已审批的申请可以退库，累计退库不能超过确认退税额。")
    if not getattr(payment.actor, "is_authenticated", False) or payment.at <= app.state_changed_at:
        raise BackfillRefused(f"{app.document_number}：退库须由登录的税务人员录入，且晚于上一步。")
    action = "mark_paid" if paid == app.confirmed_amount else "mark_partly_paid"
    app.paid_on = max(payment.paid_on, app.paid_on) if app.paid_on else payment.paid_on
    app.paid_amount = paid
    app.paid_incremental = (app.paid_incremental or Decimal("0.00")) + payment.incremental
    app.paid_stock = (app.paid_stock or Decimal("0.00")) + payment.stock
    app.state, app.state_changed_at, app.updated_at = TARGET[action], payment.at, payment.at
    return action


# --- coaching -------------------------------------------------------------------------------------------------


def coaching_records_backfill(*, records: Iterable[PastCoaching], today: dt.date) -> list[CoachingRecord]:
    """Write past 一对一辅导 records, each checked as ``coaching_record_add`` checks it."""
    rows = []
    for record in records:
        if record.topic not in CoachingRecord.Topic.values or not (record.notes or "").strip():
            raise BackfillRefused(f"辅导记录（{record.coached_on}）的主题无效或未填写辅导情况。")
        if record.coached_on > today or not getattr(record.officer, "is_authenticated", False):
            raise BackfillRefused(f"辅导记录（{record.coached_on}）晚于今天，或不是由登录的税务人员登记。")
        if record.application is not None and record.application.taxpayer_id != record.taxpayer_id:
            raise BackfillRefused(f"辅导记录（{record.coached_on}）的申请不属于这户纳税人。")
        rows.append(
            CoachingRecord(
                taxpayer_id=record.taxpayer_id, application=record.application, topic=record.topic,
                notes=record.notes.strip(), coached_on=record.coached_on, officer=record.officer, created_at=record.at,
            )
        )  # fmt: skip
    with transaction.atomic():
        created = bulk_create_as_recorded(CoachingRecord, rows, batch_size=BATCH)
        record_event(
            actor=None,
            verb="refund_coaching_add",
            object_type="refund.coachingrecord",
            object_repr="历史辅导记录",
            summary=f"导入历史一对一辅导记录 {len(created):,} 条",
            changes={"created": len(created)},
        )
    return created
