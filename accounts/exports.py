"""Audited xlsx exports: every list's "导出" goes through ``audited_xlsx_export``, which writes the file with
``core.xlsx`` and records who exported what, how many rows, with which filters (``record_export``)."""

from collections.abc import Iterable, Sequence

from django.db import transaction

from core.xlsx import export_filename, xlsx_response

from .audit import record_event


def record_export(*, actor, object_type: str, description: str, row_count: int, query: str = "") -> None:
    """Audit an export (verb ``export``): what was exported, how many rows, with which filters."""
    summary = f"导出{description}（{row_count} 条）"
    if query:
        summary += f"；筛选条件：{query}"
    with transaction.atomic():
        record_event(actor=actor, verb="export", object_type=object_type, object_repr=description, summary=summary)


def audited_xlsx_export(request, *, title: str, object_type: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """The whole "导出 xlsx" of a list page: the file named after ``title`` and its audit event,
    recording the list's filters (the query string without the page number)."""
    response = xlsx_response(export_filename(title), headers, rows, title=title)
    query = request.GET.copy()
    query.pop("page", None)
    record_export(
        actor=request.user,
        object_type=object_type,
        description=title,
        row_count=response.row_count,
        query=query.urlencode(),
    )
    return response
