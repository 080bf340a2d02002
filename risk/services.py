"""Writes of the risk app: scans (all taxpayers, one application, a candidate list, the refunds paid in a month)
and the edits risk officers make to indicator parameters and grade rules. Each write is one transaction with its
audit event.

A scan reads all taxpayers, one application's, a candidate list's, or those paid a refund in a month (事后复核: the
ledger's entries paid in it). It runs every indicator set-based (one statement each), stores the hits in bulk (COPY
on PostgreSQL), grades each subject from its hits by the rules in force on the scan's day, and records the
parameter versions and rules it used. Running a scan again (``risk_scan_execute`` with the same scan, e.g. a
retried task) replaces its hits and grades: a scan's results are those of its latest run, never doubled.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError
from core.periods import Period
from ledger.models import LedgerEntry
from refund.candidates.selectors import items_of_list
from refund.models import CandidateList, RefundApplication
from taxpayers.models import Taxpayer

from .grading import HitCounts, grade_of
from .indicators import INDICATORS, Scope
from .models import GradeRule, IndicatorParameterVersion, RiskGrade, RiskHit, Scan, ScanResult
from .selectors import grade_rules_in_force, library, parameters_in_force

BATCH = 20_000
HIT_COLUMNS = (
    "scan_id",
    "taxpayer_id",
    "application_id",
    "candidate_item_id",
    "indicator_code",
    "severity",
    "evidence",
)
RESULT_COLUMNS = (
    "scan_id", "taxpayer_id", "application_id", "candidate_item_id", "grade", "high_hits", "medium_hits", "low_hits",
)  # fmt: skip
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    """One value in PostgreSQL's COPY text format (the evidence as JSON)."""
    if value is None:
        return "\\N"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).translate(_COPY_ESCAPES)


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """``rows`` (values of ``columns``, attribute names) into ``model``'s table; how many. COPY on PostgreSQL: at a
    million taxpayers, building a model instance per hit and Django's per-field preparation cost more than the
    indicators' statements; ``bulk_create`` elsewhere."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=5000)
        return len(rows)
    buffer = io.StringIO("".join("\t".join(map(_copy_value, row)) + "\n" for row in rows))
    with connection.cursor() as cursor:  # the attribute names are the columns' names
        cursor.cursor.copy_expert(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN", buffer)
    return len(rows)


def _subjects(scan: Scan) -> tuple[tuple[int, ...] | None, dict[int, tuple[int | None, int | None]]]:
    """The taxpayers a scan reads (None: all) and, per taxpayer, the application or candidate scanned for it."""
    if scan.kind == Scan.Kind.APPLICATION:
        taxpayer_id = RefundApplication.objects.values_list("taxpayer_id", flat=True).get(pk=scan.application_id)
        return (taxpayer_id,), {taxpayer_id: (scan.application_id, None)}
    if scan.kind == Scan.Kind.CANDIDATES:
        candidate_list = CandidateList.objects.get(pk=scan.candidate_list_id)
        items = dict(items_of_list(candidate_list).order_by("id").values_list("taxpayer_id", "id"))
        return tuple(sorted(items)), {taxpayer: (None, item) for taxpayer, item in items.items()}
    if scan.kind == Scan.Kind.PAID:
        paid = paid_applications(Period.typed(scan.period))
        return tuple(sorted(paid)), {taxpayer: (application, None) for taxpayer, application in paid.items()}
    return None, {}


def paid_applications(period: Period) -> dict[int, int]:
    """The taxpayers paid a refund in ``period`` (ledger entries by 退库日期) and, for each, the application paid
    the most in it (ties: the later one) — the one its hits and grade name."""
    entries = (
        LedgerEntry.objects.filter(paid_on__gte=period.first_day, paid_on__lte=period.last_day)
        .values("taxpayer_id", "application_id")
        .annotate(paid=Sum("amount"))
        .order_by("taxpayer_id", "paid", "application_id")
    )
    return {row["taxpayer_id"]: row["application_id"] for row in entries}


@transaction.atomic
def risk_scan_execute(*, scan: Scan) -> Scan:
    """Run (or run again) ``scan``: every indicator over its taxpayers, hits and grades stored in bulk."""
    scan = Scan.objects.select_for_update().get(pk=scan.pk)  # a second worker on the same scan waits, then redoes
    RiskHit.objects.filter(scan=scan).delete()
    ScanResult.objects.filter(scan=scan).delete()
    taxpayer_ids, subjects = _subjects(scan)
    scope = Scope(as_of=scan.as_of, taxpayer_ids=taxpayer_ids)
    in_force = parameters_in_force(scan.as_of)
    rules = grade_rules_in_force(scan.as_of)
    severities: dict[int, list[str]] = defaultdict(list)
    batch: list[tuple] = []
    hit_count = 0
    for code, indicator in INDICATORS.items():
        values = {name: value.value for name, value in in_force[code].items()}
        for taxpayer_id, evidence in indicator.run(scope, values):
            application_id, item_id = subjects.get(taxpayer_id, (None, None))
            severities[taxpayer_id].append(indicator.severity)
            batch.append((scan.pk, taxpayer_id, application_id, item_id, code, indicator.severity, evidence))
            if len(batch) >= BATCH:
                hit_count += _insert(RiskHit, HIT_COLUMNS, batch)
                batch = []
    hit_count += _insert(RiskHit, HIT_COLUMNS, batch)
    # A scan of all taxpayers keeps a grade only where it found something (the rest are 低); a scan of
    # applications or candidates keeps one for every subject, so the gate and the list can read it.
    graded = set(severities) | set(subjects)
    results, grades = [], []
    for taxpayer_id in sorted(graded):
        counts = HitCounts.of(severities.get(taxpayer_id, ()))
        application_id, item_id = subjects.get(taxpayer_id, (None, None))
        grade = grade_of(counts, rules)
        grades.append(grade)
        results.append((scan.pk, taxpayer_id, application_id, item_id, grade, counts.high, counts.medium, counts.low))
        if len(results) >= BATCH:
            _insert(ScanResult, RESULT_COLUMNS, results)
            results = []
    _insert(ScanResult, RESULT_COLUMNS, results)
    scan.parameters_used = {
        code: {name: value.as_json() for name, value in params.items()} for code, params in in_force.items()
    }
    scan.grade_rules_used = {grade: rule.as_json() for grade, rule in rules.items()}
    scan.taxpayer_count = len(taxpayer_ids) if taxpayer_ids is not None else Taxpayer.objects.count()
    scan.hit_count = hit_count
    scan.high_count = grades.count(RiskGrade.HIGH)
    scan.medium_count = grades.count(RiskGrade.MEDIUM)
    scan.status = Scan.Status.SUCCEEDED
    scan.finished_at = timezone.now()
    scan.save()
    return scan


def _start(*, actor, kind: str, as_of: dt.date, **subject) -> Scan:
    with transaction.atomic():
        scan = Scan.objects.create(kind=kind, as_of=as_of, started_by=signed_in(actor), **subject)
        record_event(actor=actor, verb="risk.scan", target=scan, summary=f"发起风险扫描：{scan}")
    return risk_scan_execute(scan=scan)


def risk_scan_all(*, actor, as_of: dt.date | None = None) -> Scan:
    """Scan every taxpayer as of ``as_of`` (today by default)."""
    return _start(actor=actor, kind=Scan.Kind.ALL, as_of=as_of or timezone.localdate())


def risk_scan_all_start(*, actor, as_of: dt.date | None = None) -> tuple[Scan, bool]:
    """A scan of every taxpayer, run by a worker after commit (a long job, as screening runs are). While one is
    still running, that one is returned instead: (scan, started)."""
    running = Scan.objects.filter(kind=Scan.Kind.ALL, status=Scan.Status.RUNNING).order_by("-started_at").first()
    if running is not None:
        return running, False
    with transaction.atomic():
        scan = Scan.objects.create(kind=Scan.Kind.ALL, as_of=as_of or timezone.localdate(), started_by=signed_in(actor))
        record_event(actor=actor, verb="risk.scan", target=scan, summary=f"发起风险扫描：{scan}")
        # Robust: with the broker down the scan is kept, shown as running, and can be started again by hand.
        transaction.on_commit(lambda: _enqueue(scan.pk), robust=True)
    return scan, True


def _enqueue(scan_id: int) -> None:
    from .jobs import execute_scan

    execute_scan.delay(scan_id)


def risk_scan_run(*, scan_id: int) -> Scan | None:
    """The worker's part of ``risk_scan_all_start``: run the scan; when it fails, mark it failed (its hits are rolled
    back with it) so that it does not stay "running". None for a scan that no longer exists."""
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None or scan.status == Scan.Status.SUCCEEDED:
        return scan  # a second delivery of a finished scan does nothing
    try:
        return risk_scan_execute(scan=scan)
    except Exception:
        Scan.objects.filter(pk=scan_id).update(
            status=Scan.Status.FAILED, finished_at=timezone.now(), message="扫描失败，请重新发起。"
        )
        raise


def risk_scan_application(
    *, actor, application: RefundApplication, as_of: dt.date | None = None, message: str = ""
) -> Scan:
    """Scan one application's taxpayer on demand, as of its receipt unless told; hits and grade name it.
    ``message``: why it ran (受理时扫描, 审批前复核), shown with the scan."""
    return _start(
        actor=actor,
        kind=Scan.Kind.APPLICATION,
        as_of=as_of or application.received_on,
        application_id=application.pk,
        message=message,
    )


def risk_scan_candidates(*, actor, candidate_list: CandidateList, as_of: dt.date | None = None) -> Scan:
    """Scan the taxpayers of a candidate list before it is pushed; hits and grades name each item."""
    return _start(
        actor=actor,
        kind=Scan.Kind.CANDIDATES,
        as_of=as_of or timezone.localdate(),
        candidate_list_id=candidate_list.pk,
    )


def risk_scan_paid(*, actor, period: Period, as_of: dt.date | None = None) -> Scan:
    """Scan the taxpayers paid a refund in ``period`` (事后复核), as of the first day after it unless told: the
    month's returns are then the latest the indicators read. Hits and grades name the application paid."""
    period = Period.typed(period)
    return _start(
        actor=actor,
        kind=Scan.Kind.PAID,
        as_of=as_of or period.last_day + dt.timedelta(days=1),
        period=str(period),
    )


@transaction.atomic
def indicator_parameter_change(
    *, actor, code: str, parameter: str, value: str, effective_from: dt.date, reason: str
) -> IndicatorParameterVersion:
    """Record a new value of an indicator's parameter from ``effective_from`` on; earlier versions stay."""
    indicator = library().get(code)
    if indicator is None or parameter not in {p.name for p in indicator.parameters}:
        raise ApplicationError("没有这个指标参数。")
    spec = indicator.parameter(parameter)
    try:
        stored = spec.normalised(value)
    except ValueError as exc:
        raise ApplicationError(str(exc)) from None
    if not reason.strip():
        raise ApplicationError("请填写修改原因。")
    before = parameters_in_force(effective_from)[code][parameter].text
    version = IndicatorParameterVersion.objects.create(
        indicator_code=code,
        parameter=parameter,
        value=stored,
        effective_from=effective_from,
        changed_by=signed_in(actor),
        reason=reason.strip(),
    )
    record_event(
        actor=actor,
        verb="risk.parameter_change",
        target=version,
        summary=f"修改指标参数：{indicator.title} {spec.label} {before} → {stored}（{effective_from.isoformat()}起）",
        changes={"value": [before, stored], "effective_from": effective_from.isoformat(), "reason": reason.strip()},
    )
    return version


@transaction.atomic
def grade_rule_change(
    *,
    actor,
    grade: str,
    effective_from: dt.date,
    reason: str,
    min_high_hits: int | None = None,
    min_medium_hits: int | None = None,
    min_total_hits: int | None = None,
) -> GradeRule:
    """Record a new rule for grade 中 or 高 from ``effective_from`` on; earlier rules stay."""
    if grade not in (RiskGrade.MEDIUM, RiskGrade.HIGH):
        raise ApplicationError("只能设置中风险和高风险的判定规则。")
    thresholds = (min_high_hits, min_medium_hits, min_total_hits)
    if all(t is None for t in thresholds) or any(t is not None and t < 1 for t in thresholds):
        raise ApplicationError("请至少设置一个不小于 1 的疑点数。")
    if not reason.strip():
        raise ApplicationError("请填写修改原因。")
    rule = GradeRule.objects.create(
        grade=grade,
        min_high_hits=min_high_hits,
        min_medium_hits=min_medium_hits,
        min_total_hits=min_total_hits,
        effective_from=effective_from,
        changed_by=signed_in(actor),
        reason=reason.strip(),
    )
    record_event(
        actor=actor,
        verb="risk.grade_rule_change",
        target=rule,
        summary=f"修改风险等级规则：{rule}",
        changes={
            "min_high_hits": min_high_hits,
            "min_medium_hits": min_medium_hits,
            "min_total_hits": min_total_hits,
            "effective_from": effective_from.isoformat(),
            "reason": reason.strip(),
        },
    )
    return rule
