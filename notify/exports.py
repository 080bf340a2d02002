"""xlsx exports of the outbox and the batches (notify cannot use accounts.exports). Numbers stay masked.

Named like every export of the product: a Chinese file name (``短信记录-20261117-0930.xlsx``, RFC 5987
``filename*`` with an ASCII fallback, the header ``accounts.exports.content_disposition`` builds) and a sheet
named after the export's title.

Written row by row in constant-memory mode; every text is written as text (a number column of Excel
would turn 13800138000 into 1.38E+10, and a text starting with ``=`` is never a formula). The views
audit each export through ``services.sms_export_record``.
"""

import io
import re
from urllib.parse import quote

import xlsxwriter
from django.utils import timezone

from .labels import error_text
from .models import progress_from_counts
from .text import mask_mobile

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MESSAGES_TITLE = "短信记录"
BATCHES_TITLE = "短信批次"
MESSAGE_COLUMNS = (
    "编号", "手机号码", "内容", "模板", "批次", "状态", "发送次数", "网关批次号", "失败原因", "创建时间", "分局",
)
BATCH_COLUMNS = ("编号", "批次名称", "模板", "分局", "状态", "总数", "已送达", "失败", "已取消", "进度%", "创建人",
                 "创建时间")


def export_filename(title: str) -> str:
    """``短信记录-20261117-0930.xlsx``: the local time makes repeated exports distinguishable."""
    return f"{title}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


def content_disposition(filename: str) -> str:
    """``attachment; filename="export-20261117-0930.xlsx"; filename*=UTF-8''%E7%9F%AD…`` — the same header as
    ``accounts.exports.content_disposition`` (notify imports no other app; a test holds the two equal)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    kept = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", stem)).strip("-._")
    stem = f"export-{kept}" if kept and not re.search(r"[A-Za-z]", kept) else (kept or "export")
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)
    fallback = f"{stem}.{ext}" if ext else stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _book(buffer):
    return xlsxwriter.Workbook(buffer, {
        "in_memory": False, "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _write(sheet, row: int, values) -> None:
    for col, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool):
            sheet.write_number(row, col, value)
        elif value not in (None, ""):
            sheet.write_string(row, col, str(value))


def messages_xlsx(rows, *, branch_names: dict[int, str] | None = None) -> tuple[bytes, int]:
    """The outbox rows as xlsx; returns the file and the number of data rows (for the audit event)."""
    names = branch_names or {}
    buffer = io.BytesIO()
    book = _book(buffer)
    sheet = book.add_worksheet(MESSAGES_TITLE)
    bold = book.add_format({"bold": True})
    sheet.freeze_panes(1, 0)
    sheet.set_column(2, 2, 50)
    sheet.write_row(0, 0, MESSAGE_COLUMNS, bold)
    count = 0
    for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        _write(sheet, count, (
            row.pk, mask_mobile(row.recipient), row.text, row.template.name if row.template else "",
            row.batch.name if row.batch else "", row.get_status_display(), row.attempts, row.msg_group,
            error_text(row.error_code, row.error_message), _local(row.created_at), names.get(row.branch_id, ""),
        ))
    book.close()
    return buffer.getvalue(), count


def batches_xlsx(batches, *, branch_names: dict[int, str] | None = None) -> tuple[bytes, int]:
    """The batches with their counts (one aggregate query per 500 batches)."""
    from .selectors import attach_progress

    names = branch_names or {}
    buffer = io.BytesIO()
    book = _book(buffer)
    sheet = book.add_worksheet(BATCHES_TITLE)
    bold = book.add_format({"bold": True})
    sheet.freeze_panes(1, 0)
    sheet.set_column(1, 1, 30)
    sheet.write_row(0, 0, BATCH_COLUMNS, bold)
    count = 0
    chunk: list = []

    def flush():
        nonlocal count
        attach_progress(chunk)
        for batch in chunk:
            count += 1
            shown = getattr(batch, "shown", None) or progress_from_counts({}, total=batch.total)
            counts = shown["counts"]
            _write(sheet, count, (
                batch.pk, batch.name, batch.template.name if batch.template else "", names.get(batch.branch_id, ""),
                batch.get_status_display(), batch.total, counts.get("delivered", 0), counts.get("failed", 0),
                counts.get("cancelled", 0), shown["percent"], str(batch.created_by or "系统"),
                _local(batch.created_at),
            ))
        chunk.clear()

    for batch in batches.iterator(chunk_size=500):
        chunk.append(batch)
        if len(chunk) == 500:
            flush()
    flush()
    book.close()
    return buffer.getvalue(), count
