"""The one xlsx writer and the download helpers every export goes through (notify's too).

Every download is named in Chinese (``短信记录-20261117-0930.xlsx``, sent as RFC 5987 ``filename*`` with an
ASCII fallback by ``content_disposition``) and its sheet is named after the export's title, never "Sheet1".

XlsxWriter in constant-memory mode writes row by row, so an export of a whole province's
list does not hold the sheet in memory. Every text cell is written as text: identifiers
and phone numbers stay strings (Excel would turn them into numbers), and a value that
starts with ``=``, ``+``, ``-`` or ``@`` is never taken for a formula.

Auditing an export is the business of ``accounts.exports``; this module knows nothing of users.
"""

import io
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import xlsxwriter
from django.http import FileResponse, HttpResponse
from django.utils import timezone

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str) -> str:
    """The export's title as an Excel sheet name: no ``[]:*?/\\``, at most 31 characters, never empty."""
    name = _SHEET_FORBIDDEN.sub("-", str(title or "")).strip().strip("'")
    return name[:SHEET_NAME_MAX] or "导出数据"


def ascii_fallback(filename: str) -> str:
    """The ``filename=`` for a client that cannot read RFC 5987: the name's ASCII parts (``export-20261117.xlsx``)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    kept = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", stem)).strip("-._")
    stem = f"export-{kept}" if kept and not re.search(r"[A-Za-z]", kept) else (kept or "export")
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """``attachment; filename="export-20261117.xlsx"; filename*=UTF-8''%E7%9F%AD…`` (RFC 6266 / RFC 5987):
    every browser shows the Chinese name, an old client the ASCII one."""
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_download(content, filename: str, *, content_type: str | None = None) -> HttpResponse:
    """A download (bytes, or an open binary file streamed) named ``filename`` — the one place downloads get their
    name. The content type follows the name's extension (xlsx, csv) unless given."""
    if content_type is None:
        guessed = XLSX_CONTENT_TYPE if filename.lower().endswith(".xlsx") else mimetypes.guess_type(filename)[0]
        content_type = guessed or "application/octet-stream"
    if isinstance(content, bytes | bytearray):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = FileResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    return response


def write_xlsx(
    output, headers: Sequence[str], rows: Iterable[Sequence], *, title: str, widths: Mapping[int, int] | None = None
) -> int:
    """Write one sheet named after ``title`` to ``output`` (a path or binary file); returns the number of data rows.

    Columns are as wide as their header asks; ``widths`` (column index -> width) widens those holding long text."""
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
    sheet = workbook.add_worksheet(sheet_name(title))
    sheet.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, str(header), header_format)
        width = (widths or {}).get(col) or max(10, min(40, len(str(header)) * 2 + 2))
        sheet.set_column(col, col, width)
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


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str) -> FileResponse:
    """An attachment response holding ``rows`` under ``headers`` on a sheet named ``title``; ``filename`` Chinese.

    The response carries the row count in ``response.row_count`` for the audit event.
    """
    buffer = io.BytesIO()
    row_count = write_xlsx(buffer, headers, rows, title=title)
    buffer.seek(0)
    response = file_download(buffer, filename)
    response.row_count = row_count
    return response


def export_filename(stem: str) -> str:
    """``纳税人列表-20250105-0930.xlsx``: the local time makes repeated exports distinguishable."""
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
