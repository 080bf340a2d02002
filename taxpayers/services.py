"""Writes of the taxpayers app: the all-or-nothing imports of taxpayers, VAT returns, compliance records and the
invoice system's 发票汇总 and 供应商进项明细.

An import is an ``ImportJob``: the uploaded file is stored first (so a failed import can
be inspected), then ``import_job_run`` checks the whole file and, only if every row is
right, applies every row in one transaction with an upsert on the natural key. Rows whose
values are already in the database are counted as unchanged and not written, so importing
the same file again changes nothing, not even ``updated_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import record_event
from accounts.request_context import current
from core.errors import ApplicationError

from . import imports
from .models import ImportJob
from .signals import import_applied

logger = structlog.get_logger(__name__)

# Rows per INSERT/UPDATE statement; a chunk of the file (imports.CHUNK_ROWS) is written in a few of these.
WRITE_BATCH = 500
# Any id; every import takes this PostgreSQL advisory lock for its write transaction, so two imports
# (say taxpayers and their returns) never interleave and never race to create the same row.
_IMPORT_LOCK_ID = 7_310_452_001
ANALYZE_AFTER_CREATED = 10_000
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportProgress:
    """Writes ``processed_rows`` where the UI's poll can see it at once, at most every half second.

    While the file is checked the caller's connection is in autocommit and a plain UPDATE shows
    at once. While rows are applied, the import's own transaction would hide that UPDATE until
    commit, so progress goes through a second, autocommit connection. That connection skips the
    row if someone holds its lock (the caller's own outer transaction in tests) rather than wait.
    SQLite (the embedded demo) has a single writer, so there the apply phase reports only its end.
    """

    MIN_INTERVAL = 0.5

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._side = None
        self._last = 0.0

    def __call__(self, processed: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.MIN_INTERVAL:
            return
        self._last = now
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(processed_rows=processed, total_rows=total)
            return
        if connection.vendor != "postgresql":
            return
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = self._side.ops.quote_name(ImportJob._meta.db_table)
        with self._side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET processed_rows = %s, total_rows = %s "  # noqa: S608 - table name from _meta
                f"WHERE id = (SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                [processed, total, self.job_id],
            )

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


# --- creating and running jobs ------------------------------------------------------------------------------------


def import_job_create(*, actor, kind: str, uploaded_file) -> ImportJob:
    """Store the upload and its SHA-256 as a pending job; nothing is read or checked yet but the name and size."""
    if kind not in ImportJob.Kind.values:
        raise ApplicationError(f"请选择导入类型：{'、'.join(ImportJob.Kind.labels)}。")
    original_name = Path(uploaded_file.name or "").name
    try:
        extension = "." + imports.file_format(original_name)
    except imports.FileFormatError as exc:
        raise ApplicationError(exc.message) from exc
    size = uploaded_file.size or 0
    if size == 0:
        raise ApplicationError("上传的文件是空的。")
    if size > imports.MAX_UPLOAD_BYTES:
        raise ApplicationError(f"文件超过 {imports.MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    sha256 = digest.hexdigest()
    job = ImportJob(
        kind=kind,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        original_name=original_name[:255],
        sha256=sha256,
        size_bytes=size,
    )
    job.file.save(f"{kind}-{sha256[:16]}{extension}", uploaded_file, save=False)
    job.save()
    logger.info("import_job_created", job_id=job.pk, kind=kind, size=size, sha256=sha256)
    return job


def import_job_submit(*, actor, kind: str, uploaded_file) -> ImportJob:
    """Create the job, then run it in this request when the file is small, else hand it to a worker after commit."""
    job = import_job_create(actor=actor, kind=kind, uploaded_file=uploaded_file)
    if job.size_bytes <= settings.IMPORT_INLINE_MAX_BYTES:
        return import_job_run(job_id=job.pk) or job
    from .tasks import run_import_job  # tasks import this module

    request_id = current().request_id
    # Robust: with the broker down the upload is kept all the same; the sweep hands the pending job to a worker.
    transaction.on_commit(lambda: run_import_job.delay(job.pk, request_id=request_id), robust=True)
    logger.info("import_job_enqueued", job_id=job.pk)
    return job


def _stale_before() -> dt.datetime:
    """A job still running past TASK_STALE_SECONDS (the task's hard time limit and a margin) lost its worker; its
    transaction was rolled back."""
    return timezone.now() - dt.timedelta(seconds=settings.TASK_STALE_SECONDS)


PENDING_GRACE_SECONDS = 120
"""A worker's job still waiting after this long has lost its message (a broker restart, the demo's file broker)."""


def import_jobs_sweep() -> list[int]:
    """Hand again to a worker the jobs left in flight: pending past the grace (the message was lost), or
    validating/applying past the task's hard time limit (the worker died; the import's one transaction was
    rolled back with its connection, so nothing of the file was written). The claim in ``import_job_run``
    decides: a job that another worker is really running is not claimed twice. Returns the job ids."""
    lost = ImportJob.objects.filter(
        status=ImportJob.Status.PENDING,
        created_at__lt=timezone.now() - dt.timedelta(seconds=PENDING_GRACE_SECONDS),
        size_bytes__gt=settings.IMPORT_INLINE_MAX_BYTES,
    )
    stale = ImportJob.objects.filter(
        status__in=[ImportJob.Status.VALIDATING, ImportJob.Status.APPLYING], started_at__lt=_stale_before()
    )
    ids = sorted({*lost.values_list("pk", flat=True), *stale.values_list("pk", flat=True)})
    if ids:
        from .tasks import run_import_job  # tasks import this module

        for job_id in ids:
            run_import_job.delay(job_id)
        logger.warning("import_jobs_swept", job_ids=ids)
    return ids


def import_job_run(*, job_id: int, today: dt.date | None = None) -> ImportJob | None:
    """Check the whole file, then apply every row or none. Safe to call twice: only one caller claims the job."""
    claimable = Q(status=ImportJob.Status.PENDING) | Q(
        status__in=[ImportJob.Status.VALIDATING, ImportJob.Status.APPLYING], started_at__lt=_stale_before()
    )
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportJob.Status.VALIDATING, started_at=timezone.now(), processed_rows=0
    )
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("import_job_missing", job_id=job_id)
        return None
    if not claimed:
        logger.info("import_job_not_claimed", job_id=job_id, status=job.status)
        return job
    progress = ImportProgress(job.pk)
    try:
        _run_claimed(job, today=today or timezone.localdate(), progress=progress)
    except Exception:
        logger.exception("import_job_crashed", job_id=job.pk)
        _mark_failed(job.pk, message="导入时发生系统错误，未写入任何数据。请稍后重试，或联系信息中心。")
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def _run_claimed(job: ImportJob, *, today: dt.date, progress: ImportProgress) -> None:
    with job.file.open("rb") as fh:
        check = imports.check_file(job.kind, fh, job.original_name, today=today, progress=progress)
    warnings = "；".join(check.warnings)
    if not check.ok:
        shown = "" if check.error_count <= len(check.errors) else f"（仅保存前 {len(check.errors)} 条）"
        _mark_failed(
            job.pk,
            errors=check.errors,
            error_count=check.error_count,
            total_rows=check.total_rows,
            message=(
                f"校验未通过：共 {check.error_count} 处错误{shown}，未写入任何数据。请按错误明细修改文件后重新导入。"
            ),
        )
        logger.info("import_job_rejected", job_id=job.pk, errors=check.error_count, rows=check.total_rows)
        return
    total = check.total_rows
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.APPLYING, total_rows=total, processed_rows=0)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_ID])
            with job.file.open("rb") as fh:
                counts = _apply_file(job, fh, today=today, progress=progress, total=total)
            record_event(
                actor=job.created_by,
                verb="import",
                target=job,
                summary=(
                    f"导入{job.get_kind_display()}“{job.original_name}”：共 {total} 行，新增 {counts.created}，"
                    f"更新 {counts.updated}，未变化 {counts.unchanged}"
                ),
                changes={
                    "kind": job.kind,
                    "rows": total,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "sha256": job.sha256,
                },
            )
            # The job row is written only here, at the end: the progress connection never waits on our lock.
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.SUCCEEDED,
                finished_at=timezone.now(),
                processed_rows=total,
                created_count=counts.created,
                updated_count=counts.updated,
                unchanged_count=counts.unchanged,
                error_count=0,
                errors=[],
                message=warnings,
            )
    except imports.RowsChangedError as exc:
        _mark_failed(
            job.pk,
            errors=exc.errors[: imports.MAX_STORED_ERRORS],
            error_count=len(exc.errors),
            message="校验通过后系统中的数据发生了变化（如纳税人被删除），本次未写入任何数据，请重新导入。",
        )
        return
    if connection.vendor == "postgresql" and counts.created >= ANALYZE_AFTER_CREATED:
        # Fresh statistics now, not at autovacuum's leisure: with the old ones the planner scans the whole
        # table for every chunk of the next import (seconds per chunk on a returns table of a few 100,000 rows).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(imports.get_spec(job.kind).model._meta.db_table)}")
    import_applied.send(sender=ImportJob, kind=job.kind, job_id=job.pk)
    logger.info("import_job_succeeded", job_id=job.pk, rows=total, **counts.__dict__)


def _mark_failed(
    job_id: int,
    *,
    message: str,
    errors: list[imports.RowError] | None = None,
    error_count: int | None = None,
    total_rows: int | None = None,
) -> None:
    fields: dict[str, Any] = {
        "status": ImportJob.Status.FAILED,
        "finished_at": timezone.now(),
        "message": message[:500],
        "errors": [error.as_dict() for error in errors or []],
        "error_count": error_count if error_count is not None else len(errors or []),
    }
    if total_rows is not None:
        fields["total_rows"] = total_rows
    ImportJob.objects.filter(pk=job_id).update(**fields)


def import_errors_export(*, actor, job: ImportJob, mask_mobiles: bool = False) -> bytes:
    """The job's error report as xlsx; downloading it is audited like every export."""
    errors = job.errors
    if mask_mobiles:
        errors = [mask_error_mobiles(error) for error in errors]
    content = imports.build_error_report(job, errors=errors)
    with transaction.atomic():
        record_event(
            actor=actor,
            verb="export",
            target=job,
            summary=f"下载导入错误明细“{job.original_name}”（{len(errors)} 条）",
        )
    return content


def import_file_open(*, actor, job: ImportJob):
    """The uploaded file, opened for download (to inspect a failed import); the download is audited."""
    with transaction.atomic():
        record_event(actor=actor, verb="export", target=job, summary=f"下载导入原文件“{job.original_name}”")
    return job.file.open("rb")


def mask_error_mobiles(error: dict) -> dict:
    """An error row as a user without ``view_taxpayer_contacts`` may see it: mobiles masked in value and reason."""
    return {
        **error,
        "value": mask_mobile_text(str(error.get("value", ""))),
        "reason": mask_mobile_text(str(error.get("reason", ""))),
    }


def mask_mobile_text(text: str) -> str:
    """``13800138000`` → ``138****8000`` wherever a mainland mobile number appears in ``text``."""
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


# --- applying checked rows ----------------------------------------------------------------------------------------


def _apply_file(job: ImportJob, fh, *, today: dt.date, progress: ImportProgress, total: int) -> ImportCounts:
    spec = imports.get_spec(job.kind)
    counts = ImportCounts()
    processed = 0
    now = timezone.now()
    for chunk in imports.iter_valid_chunks(job.kind, fh, job.original_name, today=today):
        _apply_chunk(spec, [checked.values for checked in chunk], counts=counts, now=now)
        processed += len(chunk)
        progress(processed, total)
    return counts


def _apply_chunk(spec: imports.ImportSpec, rows: list[dict], *, counts: ImportCounts, now: dt.datetime) -> None:
    """Upsert one chunk on the natural key: create what is new, update what differs, leave identical rows alone."""
    model = spec.model
    attrs = sorted({attr for values in rows for attr in values} | set(spec.key_attrs))
    lookup = {f"{attr}__in": {values[attr] for values in rows} for attr in spec.key_attrs}
    # Plain dicts, not model instances: a re-import compares 300,000 rows and writes none of them.
    existing = {
        tuple(current[attr] for attr in spec.key_attrs): current
        for current in model.objects.filter(**lookup).values("pk", *attrs)
    }
    to_create, to_update, changed_attrs = [], [], set()
    for values in rows:
        current = existing.get(tuple(values[attr] for attr in spec.key_attrs))
        if current is None:
            to_create.append(values)
            continue
        changed = [attr for attr, value in values.items() if not _same_value(current[attr], value)]
        if not changed:
            counts.unchanged += 1
            continue
        obj = model(pk=current["pk"], **values)
        obj.updated_at = now  # bulk updates skip auto_now
        changed_attrs.update(changed)
        to_update.append(obj)
    if to_create:
        _bulk_insert(model, to_create, now=now)
        counts.created += len(to_create)
    if to_update:
        _bulk_update(model, to_update, [*sorted(changed_attrs), "updated_at"])
        counts.updated += len(to_update)


def _bulk_insert(model, rows: list[dict], *, now: dt.datetime) -> None:
    """``bulk_create``, but on PostgreSQL a ``COPY … FROM STDIN`` of the checked values.

    Building model instances and Django's per-field preparation cost about as much as the rest
    of an import together; the values here are already checked Python values of the right type.
    """
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**values) for values in rows], batch_size=WRITE_BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamp = now.isoformat()
    plan = [
        (
            f.attname,
            getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False),
            f.get_default,
            _COPY_CONVERTERS.get(f.get_internal_type(), _copy_text),
        )
        for f in fields
    ]
    buffer = io.StringIO()
    for values in rows:
        line = []
        for name, stamped, default, convert in plan:
            if stamped:
                line.append(stamp)
                continue
            value = values[name] if name in values else default()
            line.append("\\N" if value is None else convert(value))
        buffer.write("\t".join(line))
        buffer.write("\n")
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN", buffer)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)


def _copy_bool(value: Any) -> str:
    return "t" if value else "f"


def _copy_iso(value: Any) -> str:
    return value.isoformat()


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


# Values are already checked Python values of the field's type, so each field needs one conversion only.
_COPY_CONVERTERS = {
    **dict.fromkeys(
        (
            "DecimalField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
            "ForeignKey",
        ),
        str,
    ),
    "BooleanField": _copy_bool,
    "DateField": _copy_iso,
    "DateTimeField": _copy_iso,
    "JSONField": _copy_json,
}


def _bulk_update(model, objs: list, attrs: list[str]) -> None:
    """``bulk_update``, but on PostgreSQL one ``UPDATE … FROM (VALUES …)`` per batch instead of a CASE per field.

    Django's CASE WHEN statement grows with rows × fields and costs seconds per thousand returns; a returns
    file that corrects a whole year (hundreds of thousands of rows) must not take an hour.
    """
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, attrs, batch_size=WRITE_BATCH)
        return
    from psycopg2.extras import execute_values

    meta = model._meta
    fields = [meta.get_field(attr) for attr in attrs]
    quote = connection.ops.quote_name
    pk = quote(meta.pk.column)
    columns = [quote(f.column) for f in fields]
    assignments = ", ".join(
        f"{column} = v.{column}::{f.db_type(connection)}" for column, f in zip(columns, fields, strict=True)
    )
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from _meta, values bound
        f"FROM (VALUES %s) AS v({pk}, {', '.join(columns)}) WHERE t.{pk} = v.{pk}"
    )
    rows = [(obj.pk, *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)) for obj in objs]
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, page_size=WRITE_BATCH)


def _same_value(old: Any, new: Any) -> bool:
    if isinstance(new, dict) or isinstance(old, dict):
        return _json_amounts(old) == _json_amounts(new)
    return old == new


def _json_amounts(value: Any) -> Any:
    """``{"C3411": "6000000"}`` and ``{"C3411": "6000000.00"}`` are the same sales by industry."""
    if not isinstance(value, dict):
        return value or {}
    result = {}
    for key, amount in value.items():
        try:
            result[key] = Decimal(str(amount))
        except InvalidOperation:
            result[key] = amount
    return result
