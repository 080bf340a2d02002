"""xlsx exports: every list's "导出" goes through ``xlsx_response`` and is audited with ``record_export``.

XlsxWriter in constant-memory mode writes row by row, so an export of a whole province's
list does not hold the sheet in memory. Every text cell is written as text: identifiers
and phone numbers stay strings (Excel would turn them into numbers), and a value that
starts with ``=`` is never taken for a formula.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone

from .audit import record_event

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_xlsx(output, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write one sheet to ``output`` (a path or binary file); returns the number of data rows."""
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    header_format = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.freeze_panes(1, 0)
    for col, title in enumerate(headers):
        sheet.write_string(0, col, str(title), header_format)
        sheet.set_column(col, col, max(10, min(40, len(str(title)) * 2 + 2)))
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(count, col, "是" if value else "否")
            elif isinstance(value, Decimal):
                sheet.write_number(count, col, value, money_format)
            elif isinstance(value, int):
                sheet.write_number(count, col, value)
            elif isinstance(value, datetime):
                sheet.write_string(count, col, timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S"))
            elif isinstance(value, date):
                sheet.write_datetime(count, col, datetime(value.year, value.month, value.day), date_format)
            else:
                sheet.write_string(count, col, str(value))
    workbook.close()
    return count


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> FileResponse:
    """An attachment response holding ``rows`` under ``headers``; ``filename`` may be Chinese.

    The response carries the row count in ``response.row_count`` for the audit event.
    """
    buffer = io.BytesIO()
    row_count = write_xlsx(buffer, headers, rows)
    buffer.seek(0)
    response = FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
    response.row_count = row_count
    return response


def export_filename(stem: str) -> str:
    """``纳税人列表-20250105-0930.xlsx``: the local time makes repeated exports distinguishable."""
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


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
    response = xlsx_response(export_filename(title), headers, rows)
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
