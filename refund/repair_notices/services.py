"""Writes of the 信用修复提示 (refund → credit): list the taxpayers of the latest screening whose only failed
condition is the rating, with what a B rating would unlock, and send each one repair notice by SMS.

Listing runs after every ratings import (``credit.signals.ratings_imported``, a worker) and when the refund officer
asks; it adds the run's new rows only, so a second listing adds nothing. The service section sends the notices
through the outbox: one row and one outbox key per run and taxpayer, so a taxpayer is never told twice about the
same screening, however often the button is clicked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from accounts.roles import RoleCode
from core.errors import ApplicationError
from core.masking import mask_identifier
from core.money import format_yuan
from core.periods import format_period_cn
from credit.selectors import with_rating_in_force
from notify.models import MessageTemplate
from notify.selectors import sendable_template
from notify.services import SmsRejected, inbox_notify, sms_enqueue
from taxpayers.models import Taxpayer

from ..candidates.notices import officers
from ..candidates.reminders import taxpayer_target
from ..models import RepairNotice, ScreeningRun
from ..rules.conditions import CONDITION_BITS
from ..rules.errors import CaseError
from ..rules.regimes import cents
from ..screening.explanation import what_if_rated_in_run
from .selectors import latest_screening

logger = structlog.get_logger(__name__)

RATING_ONLY = CONDITION_BITS["credit_a_or_b"]
"""The failed-condition mask of a taxpayer that fails nothing but 纳税信用级别为A级或B级."""
PASSING_LEVELS = ("A", "B")
TEMPLATE_CODE = "refund_repair_notice"
TEMPLATE_NAME = "留抵退税信用修复提示"
AUDIT_IDS_KEPT = 500


@dataclass(frozen=True)
class ListOutcome:
    run: ScreeningRun | None
    added: int
    listed: int  # the run's rows after the listing


def _rating_only(run: ScreeningRun) -> dict[int, str]:
    """taxpayer id → level in force on the run's date, of the run's taxpayers failing only on their rating and
    still rated below B (a rating imported since may already have lifted them); unrated taxpayers are left out,
    as there is no rating to repair."""
    ids = list(
        run.results.filter(eligible=False, error_code="", failed_mask=RATING_ONLY).values_list("taxpayer_id", flat=True)
    )
    taken = set(RepairNotice.objects.filter(run=run).values_list("taxpayer_id", flat=True))
    ids = [pk for pk in ids if pk not in taken]
    rows = with_rating_in_force(Taxpayer.objects.filter(pk__in=ids), run.application_date).values("pk", "rating_level")
    return {
        row["pk"]: row["rating_level"]
        for row in rows
        if row["rating_level"] and row["rating_level"] not in PASSING_LEVELS
    }


def repair_notices_list(*, actor, run: ScreeningRun | None = None) -> ListOutcome:
    """Add the run's (default: the latest screening's) taxpayers failing only on their rating whose what-if at B
    is eligible with an amount; tell the service section when there are new ones."""
    run = run or latest_screening()
    if run is None:
        raise ApplicationError(
            "尚无已完成的留抵退税筛查，无法生成信用修复提示名单；请先发起筛查。", code="no_screening"
        )
    rows = []
    for taxpayer_id, level in _rating_only(run).items():
        outcome = what_if_rated_in_run(run=run, taxpayer_id=taxpayer_id, credit_level="B")
        if isinstance(outcome, CaseError) or not outcome.eligible or not outcome.refundable_total:
            continue
        rows.append(
            RepairNotice(
                run=run,
                taxpayer_id=taxpayer_id,
                level=level,
                regime_if_b=outcome.regime or "",
                refundable_if_b=cents(outcome.refundable_total),
                listed_by=signed_in(actor),
            )
        )
    with transaction.atomic():
        # ignore_conflicts: a listing racing this one wrote the same rows (one per run and taxpayer).
        created = RepairNotice.objects.bulk_create(rows, ignore_conflicts=True)
        listed = RepairNotice.objects.filter(run=run).count()
        record_event(
            actor=actor,
            verb="repair_notices_list",
            target=run,
            summary=(
                f"生成信用修复提示名单（依据筛查 #{run.pk}，{format_period_cn(run.application_period)}）："
                f"新增 {len(rows)} 户，共 {listed} 户"
            ),
            changes={"run": run.pk, "added": [row.taxpayer_id for row in rows][:AUDIT_IDS_KEPT], "listed": listed},
        )
        if rows:
            users = officers(RoleCode.SERVICE_OFFICER)
            amount = sum((row.refundable_if_b for row in rows), Decimal("0"))
            inbox_notify(
                users=users,
                title=f"信用修复提示名单：新增 {len(rows)} 户",
                body=(
                    f"{len(rows)} 户纳税人{format_period_cn(run.application_period)}留抵退税仅因纳税信用级别不符合，"
                    f"修复至B级后预计可退税合计 {format_yuan(amount)} 元。请向其发送信用修复提示。"
                ),
                link=reverse("refund:repair_notices"),
            )
    logger.info("repair_notices_listed", run_id=run.pk, added=len(created), listed=listed)
    return ListOutcome(run=run, added=len(rows), listed=listed)


def notice_template() -> MessageTemplate:
    return sendable_template(TEMPLATE_CODE, name=TEMPLATE_NAME)


@dataclass(frozen=True)
class SendOutcome:
    enqueued: int
    unreachable: int
    skipped: int  # already sent or tried


def _send_one(notice: RepairNotice, *, template: MessageTemplate, actor, now) -> None:
    """Put the notice's SMS in the outbox and record on the row what became of it."""
    taxpayer = notice.taxpayer
    target = taxpayer_target(taxpayer, opted_out=())
    if not target.mobile:
        notice.send_error = target.reason
        return
    try:
        message = sms_enqueue(
            to=target.mobile,
            idempotency_key=f"refund-repair-notice:{notice.run_id}:{notice.taxpayer_id}",
            template=template,
            variables={
                "taxpayer_name": taxpayer.name,
                "period": format_period_cn(notice.run.application_period),
                "level": notice.level,
                "amount": format_yuan(notice.refundable_if_b),
                "branch_name": taxpayer.branch.name,
            },
            related_object=notice,
            related=f"信用修复提示 {mask_identifier(taxpayer.identifier)}",
            actor=signed_in(actor),
            now=now,
            branch_id=taxpayer.branch_id,
        )
    except SmsRejected as exc:
        notice.send_error = exc.message[:200]
        return
    notice.sms = message
    if message.status in ("failed", "cancelled"):
        notice.send_error = (message.error_message or "短信未能发出")[:200]
    else:
        notice.sent_at, notice.send_error = now, ""


def repair_notices_send(*, actor, notices: Iterable[RepairNotice]) -> SendOutcome:
    """Send the repair notice to each taxpayer not yet sent or tried (the caller's filtered, scoped rows); locked,
    so two officers clicking at once send each notice once."""
    template = notice_template()
    now = timezone.now()
    ids = [notice.pk for notice in notices]
    with transaction.atomic():
        rows = list(
            RepairNotice.objects.filter(pk__in=ids)
            .select_related("taxpayer", "taxpayer__branch", "run")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        pending = [row for row in rows if row.sms_id is None and row.sent_at is None and not row.send_error]
        for notice in pending:
            _send_one(notice, template=template, actor=actor, now=now)
        RepairNotice.objects.bulk_update(pending, ["sms", "sent_at", "send_error"], batch_size=500)
        enqueued = sum(1 for row in pending if row.sent_at is not None)
        outcome = SendOutcome(enqueued=enqueued, unreachable=len(pending) - enqueued, skipped=len(rows) - len(pending))
        if pending:
            record_event(
                actor=actor,
                verb="repair_notices_send",
                object_type="refund.repairnotice",
                object_repr="信用修复提示",
                summary=f"发送信用修复提示短信：{outcome.enqueued} 户已进入发件箱，{outcome.unreachable} 户无法发送",
                changes={
                    "enqueued": outcome.enqueued,
                    "unreachable": outcome.unreachable,
                    "items": [row.pk for row in pending][:AUDIT_IDS_KEPT],
                    "count": len(pending),
                },
            )
    return outcome
