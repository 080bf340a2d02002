"""The batch writes on 留抵退税申请: 批量审批 (each application approved in its own transaction, so one refusal
does not stop the rest) and 分派 (the open applications to one officer). The preconditions they share with the
confirmation pages are ``workflow.approval_blocks`` and ``workflow.assignment_blocks``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError, ConflictError
from notify.services import inbox_notify

from ..models import RefundApplication
from .risk import GradeRefused
from .services import RiskHitReturned, application_approve
from .workflow import ApprovalBlocked, TransitionRefused, assignment_blocks

logger = structlog.get_logger(__name__)


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
    refusal (a risk hit, a risk grade above 低, another officer's action, a wrong state) does not stop the rest."""
    summary = BatchApprovalSummary()
    for application in applications:
        try:
            application_approve(actor=actor, application=application, batch=True)  # ``approval_blocks`` first
        except ApplicationError as exc:
            expected = RiskHitReturned | GradeRefused | ConflictError | TransitionRefused | ApprovalBlocked
            if not isinstance(exc, expected):
                logger.info("batch_approval_refused", application_id=application.pk, code=exc.code)
            summary.refused.append(ApprovalOutcome(application, exc.message))
        else:
            summary.approved.append(ApprovalOutcome(application))
    return summary
