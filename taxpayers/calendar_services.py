"""Writes for the filing calendar: an administrator enters a year's published table (or a regional override)."""

from datetime import date

from django.db import transaction

from accounts.audit import record_event
from core.errors import ApplicationError

from .models import FilingDeadline


@transaction.atomic
def filing_table_save(*, actor, year: int, region: str, source_document: str, deadlines: dict[int, date]) -> int:
    """Create or update the given months of ``year`` for ``region`` ("" = national); returns how many changed.

    Months not in ``deadlines`` are left as they are. One audit event records every change.
    """
    region = region.strip()
    source_document = source_document.strip()
    if not source_document:
        raise ApplicationError("请填写文件依据（文号）。")
    for month, deadline in deadlines.items():
        if not 1 <= month <= 12 or (deadline.year, deadline.month) != (year, month):
            raise ApplicationError(f"{year}年{month}月的申报期限应在该月内。")
    existing = {
        row.month: row
        for row in FilingDeadline.objects.select_for_update().filter(year=year, region=region, month__in=deadlines)
    }
    changes = {}
    for month, deadline in sorted(deadlines.items()):
        row = existing.get(month)
        if row is None:
            FilingDeadline.objects.create(
                year=year, month=month, region=region, deadline=deadline, source_document=source_document,
                entered_by=actor,
            )
            changes[f"{month:02d}"] = [None, deadline.isoformat()]
        elif row.deadline != deadline or row.source_document != source_document:
            changes[f"{month:02d}"] = [row.deadline.isoformat(), deadline.isoformat()]
            row.deadline, row.source_document, row.entered_by = deadline, source_document, actor
            row.save(update_fields=["deadline", "source_document", "entered_by", "updated_at"])
    if changes:
        where = region or "全国"
        record_event(
            actor=actor,
            verb="update",
            object_type=FilingDeadline._meta.label_lower,
            object_id=f"{year}/{region}",
            object_repr=f"{year}年申报期限（{where}）",
            summary=f"录入{year}年申报期限（{where}，{source_document}）：{len(changes)} 个月有变化",
            changes=changes,
        )
    return len(changes)
