"""即时名单: a taxpayer a credit repair, 复核 or 复评 has just brought to A or B is screened again at once and, if
it is now eligible, put on the day's 即时名单, which the refund officer pushes the same day (应退尽退).

The worker's step (``candidate_adhoc_after_rating``, after ``credit.signals.rating_changed``) screens the taxpayer
in the application period's latest run with the run's own set-based statement (``screening_result_refresh``), so
the list rests on the same decision a run would make. The run must be dated on or after the day the new rating
took effect; when it is older, a run is started and the step waits for it (``RunPending``: the task retries).
The item is made as the push dates' items are (``building``), with its funnel carried from earlier items.
Every automatic step is audited with the scheduler as actor; every step is safe to repeat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.audit import record_event
from accounts.roles import RoleCode
from core.errors import ApplicationError
from core.money import format_yuan
from core.periods import Period
from notify.services import inbox_notify
from taxpayers.models import Taxpayer

from ..labels import condition_titles
from ..models import CandidateItem, CandidateList, ScreeningResult, ScreeningRun
from ..screening.return_states import refresh_stale_aggregates
from ..screening.services import screening_result_refresh, screening_run_start
from .building import make_item, read_adhoc_sources
from .notices import list_link, officers
from .risk import candidate_list_scan

logger = structlog.get_logger(__name__)

ZERO = Decimal("0")


class RunPending(Exception):
    """No finished run of the period yet sees the new rating; one is running. Try again shortly."""


@dataclass(frozen=True)
class AdhocOutcome:
    result: ScreeningResult | None
    item: CandidateItem | None


def _run_seeing(effective_on: dt.date) -> ScreeningRun:
    """The period's latest finished run if it is dated on or after ``effective_on`` (the rating in force on its
    date is the new one); otherwise start one dated ``effective_on`` (or find the one running) and say to wait."""
    period = Period.of(effective_on)
    run = ScreeningRun.latest_succeeded(period)
    if run is not None and run.application_date >= effective_on:
        return run
    pending = screening_run_start(
        actor=None,
        application_period=period,
        application_date=effective_on,
        triggered_by=ScreeningRun.Trigger.SCHEDULE,
    )
    raise RunPending(f"run {pending.pk} of {period}")


def candidate_adhoc_after_rating(*, taxpayer_id: int, level: str, effective_on: dt.date) -> AdhocOutcome:
    """Screen the taxpayer again now that its rating is ``level`` from ``effective_on``; if eligible with an
    amount, put it on today's 即时名单. Raises ``RunPending`` while the run it needs is being made."""
    run = _run_seeing(effective_on)
    refresh_stale_aggregates()
    with transaction.atomic():
        result = screening_result_refresh(run=run, taxpayer_id=taxpayer_id)
        taxpayer = Taxpayer.objects.filter(pk=taxpayer_id).only("name").first()
        if taxpayer is None:
            return AdhocOutcome(None, None)
        _audit_rescreen(run, taxpayer, result, level=level, effective_on=effective_on)
    item = None
    if result is not None and result.eligible and result.refundable_total > 0:
        item = candidate_adhoc_add(run=run, taxpayer_id=taxpayer_id, push_date=timezone.localdate())
    return AdhocOutcome(result, item)


def _audit_rescreen(run, taxpayer, result, *, level: str, effective_on: dt.date) -> None:
    if result is not None and result.eligible:
        verdict = f"符合条件，可退税额 {format_yuan(result.refundable_total)} 元"
    elif result is not None:
        failed = "、".join(condition_titles(result.failed_conditions))
        verdict = "仍不符合条件" + (f"（{failed}）" if failed else "")
    else:
        verdict = "不在筛查范围内"
    record_event(
        actor=None,
        verb="screening_rescreen_rating",
        target=run,
        summary=f"{taxpayer.name} 纳税信用级别自 {effective_on.isoformat()} 起为{level}级，重新筛查：{verdict}",
        changes={"taxpayer": taxpayer.pk, "level": level, "effective_on": effective_on.isoformat()},
    )


def _adhoc_list(*, push_date: dt.date, run: ScreeningRun) -> CandidateList:
    """The day's 即时名单, locked; created by the first taxpayer of the day (a racing creator meets the unique
    constraint and takes the winner's)."""
    try:
        with transaction.atomic():
            CandidateList.objects.get_or_create(
                push_date=push_date,
                kind=CandidateList.Kind.ADHOC,
                defaults={
                    "audience": CandidateList.Audience.SERVICE,
                    "application_period": run.application_period,
                    "screening_run": run,
                },
            )
    except IntegrityError:
        pass
    return CandidateList.objects.select_for_update().get(push_date=push_date, kind=CandidateList.Kind.ADHOC)


def _recount(candidate_list: CandidateList) -> None:
    totals = candidate_list.items.aggregate(
        n=Count("pk"), new=Count("pk", filter=Q(previously_listed=False)), amount=Sum("refundable_total")
    )
    candidate_list.item_count, candidate_list.new_count = totals["n"], totals["new"]
    candidate_list.refundable_total = totals["amount"] or ZERO
    candidate_list.save(update_fields=["item_count", "new_count", "refundable_total"])


def candidate_adhoc_add(*, run: ScreeningRun, taxpayer_id: int, push_date: dt.date) -> CandidateItem | None:
    """Put the taxpayer's eligible result of ``run`` on the 即时名单 of ``push_date``. None when it is not eligible
    in the run, is already on a list of that date, or is done with in the period (applied, refunded, declined)."""
    with transaction.atomic():
        candidate_list = _adhoc_list(push_date=push_date, run=run)
        sources = read_adhoc_sources(run=run, push_date=push_date, taxpayer_ids=[taxpayer_id])
        if taxpayer_id not in sources.chosen or taxpayer_id not in sources.taxpayers:
            return None
        item = make_item(
            taxpayer_id, sources=sources, candidate_list=candidate_list, push_date=push_date, now=timezone.now()
        )
        item.save()
        _recount(candidate_list)
        name = Taxpayer.objects.values_list("name", flat=True).get(pk=taxpayer_id)
        record_event(
            actor=None,
            verb="candidate_adhoc_add",
            target=candidate_list,
            summary=(
                f"信用修复后重新筛查符合条件，{name} 列入{candidate_list}，"
                f"可退税额 {format_yuan(item.refundable_total)} 元"
            ),
            changes={"taxpayer": taxpayer_id, "run": run.pk, "item": item.pk},
        )
    logger.info("candidate_adhoc_added", taxpayer_id=taxpayer_id, push_date=push_date.isoformat())
    return item


def candidate_adhoc_push(*, actor, candidate_list: CandidateList) -> int:
    """推送即时名单: tell the service section and the taxpayers' branches about the taxpayers added since the last
    push, any day (not only on push dates). Returns how many taxpayers were pushed; a second click pushes none."""
    if not candidate_list.is_adhoc:
        raise ApplicationError("只有即时名单可以随时推送；推送日名单在推送日生成时即已推送。")
    with transaction.atomic():
        locked = CandidateList.objects.select_for_update().get(pk=candidate_list.pk)
        count = locked.unpushed_count
        if count == 0:
            raise ApplicationError("即时名单中没有尚未推送的纳税人。")
        candidate_list_scan(candidate_list=locked, actor=actor)  # flagged before anyone is told
        items = list(locked.items.select_related("branch", "taxpayer").order_by("-pk")[:count])
        amount = sum((item.refundable_total for item in items), ZERO)
        title = f"{locked.push_date.isoformat()} 即时名单：信用修复后符合条件 {count} 户"
        body = (
            f"纳税信用修复（复核、复评）后重新筛查符合留抵退税条件的纳税人 {count} 户，可退税额合计 "
            f"{format_yuan(amount)} 元。请尽快提醒、辅导纳税人申请。"
        )
        users = {user.pk: user for user in officers(RoleCode.SERVICE_OFFICER)}
        for branch_id in sorted({item.branch_id for item in items}):
            users.update({user.pk: user for user in officers(RoleCode.BRANCH_OFFICER, branch_id=branch_id)})
        if users:
            inbox_notify(users=list(users.values()), title=title, body=body, link=list_link(locked))
        locked.pushed_count, locked.notified_at = locked.item_count, timezone.now()
        locked.built_by = locked.built_by or (actor if getattr(actor, "is_authenticated", False) else None)
        locked.save(update_fields=["pushed_count", "notified_at", "built_by"])
        record_event(
            actor=actor,
            verb="candidate_adhoc_push",
            target=locked,
            summary=f"推送{locked}：{count} 户，可退税额合计 {format_yuan(amount)} 元，站内通知 {len(users)} 人",
            changes={"taxpayers": [item.taxpayer_id for item in items], "users": sorted(users)},
        )
    return count
