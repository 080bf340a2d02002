"""Writes of the post-refund review (事后复核): the monthly sample of the refunds paid, and the risk officer's edits
of its parameters. Each write is one transaction with its audit event.

A month's sample is drawn once. Drawing it again — the beat job retried, an officer's click after the job — gives
back the sample already drawn; two draws racing meet the unique month and the loser returns the winner's. Before
drawing, the month's paid refunds are scanned with the indicator library (``risk_scan_paid``; a scan already
made for the month is reused), which is where the 即征即退 history comes from.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError
from core.money import format_yuan
from core.periods import Period, format_period_cn

from ..models import MonthlySample, SampledRefund, SampleParameterVersion, Scan, TaskSource
from ..services import risk_scan_paid
from ..tasks.services import risk_task_create
from .draw import draw, population_digest
from .parameters import PARAMETERS, normalised, parameter_get, rules_of
from .selectors import paid_population, reason_labels, sample_parameters_in_force

logger = structlog.get_logger(__name__)
SEED_LIMIT = 2**31


def parameters_day(period: Period) -> dt.date:
    """The day whose parameters draw a month's sample: the first day after it, whenever the draw runs."""
    return period.last_day + dt.timedelta(days=1)


def _paid_scan(*, actor, period: Period) -> Scan:
    """The month's scan of paid refunds: the latest that succeeded, else a new one."""
    scan = (
        Scan.objects.filter(kind=Scan.Kind.PAID, period=str(period), status=Scan.Status.SUCCEEDED)
        .order_by("-started_at", "-id")
        .first()
    )
    return scan or risk_scan_paid(actor=actor, period=period)


def monthly_sample_draw(*, actor, period: Period | str, seed: int | None = None, today: dt.date | None = None):
    """Draw the sample of the refunds paid in ``period`` (a month already over), or give back the one drawn.
    ``seed``: the random part's seed (a fresh one by default), recorded with the sample."""
    period = Period.typed(period)
    if period >= Period.of(today or timezone.localdate()):
        raise ApplicationError(f"{format_period_cn(period)}尚未结束，月份结束后才能抽取事后复核样本。")
    existing = MonthlySample.objects.filter(period=str(period)).first()
    if existing is not None:
        return existing
    scan = _paid_scan(actor=actor, period=period)
    population = paid_population(period, scan=scan)
    in_force = sample_parameters_in_force(parameters_day(period))
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    drawn = draw([row.refund for row in population], rules_of({k: v.value for k, v in in_force.items()}), seed)
    by_application = {row.refund.application_id: row for row in population}
    try:
        with transaction.atomic():
            sample = MonthlySample.objects.create(
                period=str(period),
                seed=seed,
                parameters_used={name: value.as_json() for name, value in in_force.items()},
                scan=scan,
                population_count=len(population),
                population_amount=sum((row.refund.amount for row in population), Decimal("0.00")),
                population_digest=population_digest(row.refund for row in population),
                sampled_count=len(drawn),
                sampled_amount=sum((by_application[d.application_id].refund.amount for d in drawn), Decimal("0.00")),
                drawn_by=signed_in(actor),
            )
            rows = SampledRefund.objects.bulk_create(
                [
                    _row(sample, position, by_application[d.application_id], d.reasons)
                    for position, d in enumerate(drawn, 1)
                ]
            )
            _review_tasks(actor=actor, sample=sample, rows=rows)
            _audit_draw(actor=actor, sample=sample, drawn=drawn)
    except IntegrityError:
        logger.info("monthly_sample_lost_race", period=str(period))
        return MonthlySample.objects.get(period=str(period))
    logger.info("monthly_sample_drawn", period=str(period), population=len(population), sampled=len(drawn))
    return sample


def _row(sample: MonthlySample, position: int, paid, reasons: tuple[str, ...]) -> SampledRefund:
    return SampledRefund(
        sample=sample,
        position=position,
        application_id=paid.refund.application_id,
        taxpayer_id=paid.taxpayer_id,
        branch_id=paid.branch_id,
        identifier=paid.identifier,
        name=paid.name,
        industry_code=paid.refund.industry_code,
        amount=paid.refund.amount,
        paid_on=paid.paid_on,
        reasons=list(reasons),
    )


REVIEW_DAYS = 30
"""Days a sampled refund's review task has from the draw (应对期限)."""


def _review_tasks(*, actor, sample: MonthlySample, rows: list[SampledRefund]) -> None:
    """Each sampled refund becomes a review task (来源：事后抽样) for the risk section to analyse and push down, in
    the draw's transaction: a sample is drawn once, so its tasks are made once."""
    due_on = timezone.localdate() + dt.timedelta(days=REVIEW_DAYS)
    for row in rows:
        row.task = risk_task_create(
            actor=actor,
            taxpayer=row.taxpayer,
            source=TaskSource.SAMPLING,
            title=f"事后复核：{format_period_cn(Period.typed(sample.period))}退税 {format_yuan(row.amount)} 元",
            description=f"{sample}第 {row.position} 笔，抽中原因：{'、'.join(reason_labels(row.reasons))}。",
            application=row.application,
            evidence={
                "lines": [
                    ["抽中原因", "、".join(reason_labels(row.reasons))],
                    ["当月退税额（元）", format_yuan(row.amount)],
                    ["退库日期", row.paid_on.isoformat()],
                    ["随机种子", str(sample.seed)],
                ]
            },
            due_on=due_on,
        )
    SampledRefund.objects.bulk_update(rows, ["task"])


def _audit_draw(*, actor, sample: MonthlySample, drawn) -> None:
    counts: dict[str, int] = {}
    for found in drawn:
        for label in reason_labels(list(found.reasons)):
            counts[label] = counts.get(label, 0) + 1
    by_reason = "，".join(f"{label} {n} 笔" for label, n in counts.items()) or "无"
    record_event(
        actor=actor,
        verb="risk.sample_draw",
        target=sample,
        summary=(
            f"抽取{sample}：当月已退税 {sample.population_count} 笔（{format_yuan(sample.population_amount)} 元），"
            f"抽中 {sample.sampled_count} 笔（{by_reason}），随机种子 {sample.seed}"
        ),
        changes={
            "seed": sample.seed,
            "population": sample.population_count,
            "sampled": sample.sampled_count,
            "parameters": sample.parameters_used,
            "scan": sample.scan_id,
        },
    )


def monthly_sample_previous_month(*, today: dt.date | None = None) -> MonthlySample:
    """The beat job: the sample of last month's paid refunds (drawn once; a second run gives it back)."""
    today = today or timezone.localdate()
    return monthly_sample_draw(actor=None, period=Period.of(today).minus(1), today=today)


@transaction.atomic
def sample_parameter_change(
    *, actor, parameter: str, value: str, effective_from: dt.date, reason: str
) -> SampleParameterVersion:
    """Record a new value of a sample parameter from ``effective_from`` on; earlier versions stay."""
    if parameter not in {p.name for p in PARAMETERS}:
        raise ApplicationError("没有这个抽样参数。")
    spec = parameter_get(parameter)
    try:
        stored = normalised(parameter, value)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from None
    if not reason.strip():
        raise ApplicationError("请填写修改原因。")
    before = sample_parameters_in_force(effective_from)[parameter].text
    version = SampleParameterVersion.objects.create(
        parameter=parameter,
        value=stored,
        effective_from=effective_from,
        changed_by=signed_in(actor),
        reason=reason.strip(),
    )
    record_event(
        actor=actor,
        verb="risk.sample_parameter_change",
        target=version,
        summary=f"修改事后复核抽样参数：{spec.label} {before} → {stored}（{effective_from.isoformat()}起）",
        changes={"value": [before, stored], "effective_from": effective_from.isoformat(), "reason": reason.strip()},
    )
    return version
