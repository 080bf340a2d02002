"""Writes of the credit data: the all-or-nothing imports of ratings, dishonesty events and taxpayer flags, annual
ratings written in bulk for large loads, and the late-return events derived from the VAT returns held.

A file is read whole first (``credit.imports``); only when every row is right is it applied, in one transaction
with its ``CreditImport`` row and its audit event; after a ratings file commits, ``credit.signals.ratings_imported``
tells the apps above. Rows are matched on their natural key: what is new is
created, what differs is updated, identical rows are left alone — importing the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError
from core.periods import Period, period_range
from core.spreadsheets import RowError
from taxpayers.calendar import CalendarUnavailable, deadline_for
from taxpayers.flags import read_flags, taxpayer_flags_apply
from taxpayers.models import Taxpayer, VatReturn

from .imports import read_events, read_ratings
from .locks import credit_data_lock
from .models import CreditImport, CreditRating, DishonestyEvent, RatingBasis, RuleSet
from .rules.indicators import LATE_FILING
from .signals import ratings_imported

RATING_VALUES = ("level", "score", "basis", "rule_set", "note")
EVENT_VALUES = ("period", "amount", "corrected_on", "no_penalty", "note")
VAT = "增值税"
FIRST_DERIVED_PERIOD = Period(2019, 1)


class CreditImportRejected(ApplicationError):
    """The file has errors (``errors``: row, column, value, reason); nothing was stored."""

    code = "credit_import_invalid"

    def __init__(self, errors: list[RowError], warnings: Iterable[str] = ()):
        super().__init__(f"校验未通过：共 {len(errors)} 处错误，未导入任何数据。请按错误明细修改文件后重新导入。")
        self.errors = list(errors)
        self.warnings = list(warnings)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# --- imports -------------------------------------------------------------------------------------------------


def credit_file_import(*, actor, kind: str, file, today: dt.date | None = None) -> CreditImport:
    """Import one credit file of ``kind`` (``CreditImport.Kind``), all rows or none (``CreditImportRejected``)."""
    readers = {
        CreditImport.Kind.RATINGS: read_ratings,
        CreditImport.Kind.EVENTS: read_events,
        CreditImport.Kind.FLAGS: read_flags,
    }
    if kind not in readers:
        raise ApplicationError("未知的导入类型。")
    today = today or timezone.localdate()
    name = Path(getattr(file, "name", "") or "").name
    file.seek(0)
    check = readers[kind](file, name, today=today)
    if not check.ok:
        raise CreditImportRejected(check.errors, check.warnings)
    with transaction.atomic():
        credit_data_lock()
        record = CreditImport.objects.create(
            kind=kind,
            original_name=name[:255],
            sha256=_sha256(file),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            total_rows=len(check.rows),
        )
        if kind == CreditImport.Kind.RATINGS:
            counts = _apply_ratings(check.rows, record)
        elif kind == CreditImport.Kind.EVENTS:
            counts = _apply_events(check.rows, record)
        else:
            updated, unchanged = taxpayer_flags_apply(rows=check.rows)
            counts = Counts(updated=updated, unchanged=unchanged)
        record.created_count, record.updated_count, record.unchanged_count = (
            counts.created,
            counts.updated,
            counts.unchanged,
        )
        record.save(update_fields=["created_count", "updated_count", "unchanged_count"])
        record_event(
            actor=actor,
            verb="import",
            target=record,
            summary=(
                f"导入{record.get_kind_display()}“{name}”：共 {record.total_rows} 行，新增 {counts.created}，"
                f"更新 {counts.updated}，未变化 {counts.unchanged}"
            ),
            changes={
                "kind": kind,
                "rows": record.total_rows,
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "sha256": record.sha256,
            },
        )
        if kind == CreditImport.Kind.RATINGS:
            import_id = record.pk
            transaction.on_commit(lambda: ratings_imported.send(sender=CreditImport, import_id=import_id))
    record.warnings = check.warnings
    return record


def _upsert(model, rows: list[dict], existing: dict, key, values: tuple[str, ...], extra: dict) -> Counts:
    """Create rows whose key is new, update those whose ``values`` differ, count the rest as unchanged. A column
    the file leaves out is not compared and keeps its value (a new row takes the field's default)."""
    counts = Counts()
    to_create, to_update = [], []
    now = timezone.now()
    values = tuple(name for name in values if rows and name in rows[0])
    for row in rows:
        wanted = {name: row[name] for name in values}
        current = existing.get(key(row))
        if current is None:
            to_create.append(model(**row["_key"], **wanted, **extra))
        elif any(getattr(current, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(current, name, value)
            for name, value in extra.items():
                setattr(current, name, value)
            current.updated_at = now
            to_update.append(current)
        else:
            counts.unchanged += 1
    model.objects.bulk_create(to_create, batch_size=1000)
    model.objects.bulk_update(to_update, [*values, *extra, "updated_at"], batch_size=1000)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def _apply_ratings(rows: list[dict], record: CreditImport) -> Counts:
    for row in rows:
        row["rule_set"] = RuleSet.for_year(row["year"])
        row["_key"] = {"taxpayer_id": row["taxpayer_id"], "year": row["year"], "evaluated_on": row["evaluated_on"]}
    existing = {
        (r.taxpayer_id, r.year, r.evaluated_on): r
        for r in CreditRating.objects.filter(taxpayer_id__in={row["taxpayer_id"] for row in rows})
    }

    def key(row):
        return row["taxpayer_id"], row["year"], row["evaluated_on"]

    return _upsert(CreditRating, rows, existing, key, RATING_VALUES, {"source_import": record})


def _apply_events(rows: list[dict], record: CreditImport) -> Counts:
    for row in rows:
        row["_key"] = {
            "taxpayer_id": row["taxpayer_id"],
            "indicator": row["indicator"],
            "tax": row["tax"],
            "recorded_on": row["recorded_on"],
            "source": DishonestyEvent.Source.IMPORTED,
        }
    existing = {
        (e.taxpayer_id, e.indicator, e.tax, e.recorded_on): e
        for e in DishonestyEvent.objects.filter(
            source=DishonestyEvent.Source.IMPORTED, taxpayer_id__in={row["taxpayer_id"] for row in rows}
        )
    }

    def key(row):
        return row["taxpayer_id"], row["indicator"], row["tax"], row["recorded_on"]

    return _upsert(DishonestyEvent, rows, existing, key, EVENT_VALUES, {"source_import": record})


# --- ratings written in bulk ----------------------------------------------------------------------------------

RatingTuple = tuple[int, int, str, dt.date, Decimal | None]
"""Taxpayer id, evaluation year, level, the day it took effect, and the score (None for a direct level or M)."""


def credit_ratings_bulk_write(*, ratings: Iterable[RatingTuple], note: str = "", batch_size: int = 5000) -> int:
    """Write annual evaluations in bulk — ``RatingTuple`` each — and return how many
    were given. For loads of many taxpayers at once (the demo county, the benchmarks): no import file, no audit
    event of its own (the caller records one for its whole load). A rating already held for the same taxpayer,
    year and day is left as it is, so writing the same rows again adds nothing."""
    written = 0
    rows = iter(ratings)
    while batch := list(islice(rows, batch_size)):
        CreditRating.objects.bulk_create(
            [
                CreditRating(
                    taxpayer_id=taxpayer_id,
                    year=year,
                    level=level,
                    score=score,
                    evaluated_on=evaluated_on,
                    basis=RatingBasis.EVALUATED,
                    rule_set=RuleSet.for_year(year),
                    note=note,
                )
                for taxpayer_id, year, level, evaluated_on, score in batch
            ],
            ignore_conflicts=True,
        )
        written += len(batch)
    return written


# --- late returns derived from the returns held ----------------------------------------------------------------


class _Deadlines:
    """The filing deadline of each tax period (that of the month after it), looked up once per month."""

    def __init__(self):
        self._cache: dict[Period, dt.date | None] = {}

    def of(self, period: Period) -> dt.date | None:
        """None when the calendar cannot say (a year without holiday data)."""
        if period not in self._cache:
            month = period.plus(1)
            try:
                self._cache[period] = deadline_for(month.year, month.month)[0]
            except CalendarUnavailable:
                self._cache[period] = None
        return self._cache[period]


@dataclass(frozen=True)
class LateReturn:
    """A late or missing VAT return: recorded the day after the deadline, corrected on the filing date (None: open)."""

    period: Period
    recorded_on: dt.date
    corrected_on: dt.date | None
    amount: object = None


def late_returns_for(
    *,
    held: dict[Period, tuple[dt.date | None, object]],
    quarterly: bool,
    still_filing: bool,
    today: dt.date,
    deadlines: _Deadlines,
    since: Period = FIRST_DERIVED_PERIOD,
) -> list[LateReturn]:
    """One taxpayer's late returns from the returns it has filed (``held``: period → (filed_on, tax payable)).

    The periods due run from its first return held to the last period whose deadline has passed (for a taxpayer
    no longer filing — deregistered — to its last return held); a quarterly filer owes the quarter's last month.
    A return filed after the deadline is late and corrected on its filing date; a period due without a return is
    open; a return without a filing date is not judged."""
    periods = sorted(p for p in held if p >= since)
    if not periods:
        return []
    last = max(periods)
    if still_filing:
        probe = Period.of(today).minus(1)
        while probe > last and not (deadlines.of(probe) and deadlines.of(probe) < today):
            probe = probe.minus(1)
        last = max(last, probe)
    due = {p for p in period_range(periods[0], last) if not quarterly or p.is_quarter_end} | set(periods)
    found = []
    for period in sorted(due):
        deadline = deadlines.of(period)
        if deadline is None or deadline >= today:
            continue
        filed_on, amount = held.get(period, (None, None))
        if period not in held:
            found.append(LateReturn(period, deadline + dt.timedelta(days=1), None))
        elif filed_on is not None and filed_on > deadline:
            found.append(LateReturn(period, deadline + dt.timedelta(days=1), filed_on, amount))
    return found


def late_returns_derive(
    *, actor=None, today: dt.date | None = None, taxpayer_ids: Iterable[int] | None = None, chunk: int = 1000
) -> Counts:
    """Derive the late-return events (指标 010101, 增值税) of the taxpayers (all by default) from their returns and
    the filing calendar; idempotent: a second run changes nothing, an event that no longer holds (a return
    imported since, a deadline corrected) is removed."""
    today = today or timezone.localdate()
    queryset = Taxpayer.objects.order_by("pk")
    if taxpayer_ids is not None:
        queryset = queryset.filter(pk__in=list(taxpayer_ids))
    ids = list(queryset.values_list("pk", flat=True))
    deadlines = _Deadlines()
    counts = Counts()
    with transaction.atomic():
        credit_data_lock()
        for start in range(0, len(ids), chunk):
            _derive_chunk(ids[start : start + chunk], today=today, deadlines=deadlines, counts=counts)
        if counts.created or counts.updated or counts.removed:
            record_event(
                actor=actor,
                verb="late_returns_derive",
                object_type="credit.dishonestyevent",
                object_repr="逾期申报推算",
                summary=(
                    f"由增值税申报表推算逾期申报：新增 {counts.created}，更新 {counts.updated}，"
                    f"未变化 {counts.unchanged}，撤销 {counts.removed}"
                ),
                changes={"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged},
            )
    return counts


def _derive_chunk(ids: list[int], *, today: dt.date, deadlines: _Deadlines, counts: Counts) -> None:
    held: dict[int, dict[Period, tuple]] = {pk: {} for pk in ids}
    for taxpayer_id, period, filed_on, payable in VatReturn.objects.filter(
        taxpayer_id__in=ids, period__gte=str(FIRST_DERIVED_PERIOD)
    ).values_list("taxpayer_id", "period", "filed_on", "tax_payable"):
        held[taxpayer_id][period] = (filed_on, payable)
    wanted: dict[tuple[int, Period], LateReturn] = {}
    for taxpayer_id, frequency, status in Taxpayer.objects.filter(pk__in=ids).values_list(
        "pk", "filing_frequency", "status"
    ):
        for late in late_returns_for(
            held=held[taxpayer_id],
            quarterly=frequency == Taxpayer.FilingFrequency.QUARTERLY,
            still_filing=status != Taxpayer.Status.DEREGISTERED,
            today=today,
            deadlines=deadlines,
        ):
            wanted[(taxpayer_id, late.period)] = late
    existing = {
        (e.taxpayer_id, e.period): e
        for e in DishonestyEvent.objects.filter(
            taxpayer_id__in=ids, source=DishonestyEvent.Source.DERIVED, indicator=LATE_FILING, tax=VAT
        )
    }
    stale = [e.pk for key, e in existing.items() if key not in wanted]
    if stale:
        DishonestyEvent.objects.filter(pk__in=stale).delete()
        counts.removed += len(stale)
    rows = [
        {
            "_key": {
                "taxpayer_id": taxpayer_id,
                "indicator": LATE_FILING,
                "tax": VAT,
                "period": period,
                "source": DishonestyEvent.Source.DERIVED,
            },
            "recorded_on": late.recorded_on,
            "corrected_on": late.corrected_on,
            "amount": late.amount,
        }
        for (taxpayer_id, period), late in wanted.items()
    ]
    done = _upsert(
        DishonestyEvent,
        rows,
        existing,
        lambda row: (row["_key"]["taxpayer_id"], row["_key"]["period"]),
        ("recorded_on", "corrected_on", "amount"),
        {},
    )
    counts.created += done.created
    counts.updated += done.updated
    counts.unchanged += done.unchanged
