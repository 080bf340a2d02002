"""xlsx exports of the outbox and the batches, written by ``core.xlsx`` like every export. Numbers stay masked.

Named like every export of the product: a Chinese file name (``短信记录-20261117-0930.xlsx``, the header
``core.xlsx.content_disposition`` builds) and a sheet named after the export's title. The views audit each
export through ``services.sms_export_record``.
"""

import io
from itertools import islice

from core.xlsx import write_xlsx

from .labels import error_text
from .models import progress_from_counts
from .text import mask_mobile

MESSAGES_TITLE = "短信记录"
BATCHES_TITLE = "短信批次"
MESSAGE_COLUMNS = (
    "编号", "手机号码", "内容", "模板", "批次", "状态", "发送次数", "网关批次号", "失败原因", "创建时间", "分局",
)
BATCH_COLUMNS = ("编号", "批次名称", "模板", "分局", "状态", "总数", "已送达", "失败", "已取消", "进度%", "创建人",
                 "创建时间")


def messages_xlsx(rows, *, branch_names: dict[int, str] | None = None) -> tuple[bytes, int]:
    """The outbox rows as xlsx; returns the file and the number of data rows (for the audit event)."""
    names = branch_names or {}
    lines = (
        (
            row.pk, mask_mobile(row.recipient), row.text, row.template.name if row.template else "",
            row.batch.name if row.batch else "", row.get_status_display(), row.attempts, row.msg_group,
            error_text(row.error_code, row.error_message), row.created_at, names.get(row.branch_id, ""),
        )
        for row in rows.iterator(chunk_size=2000)
    )
    buffer = io.BytesIO()
    count = write_xlsx(buffer, MESSAGE_COLUMNS, lines, title=MESSAGES_TITLE, widths={2: 50})
    return buffer.getvalue(), count


def _batch_lines(batches, names: dict[int, str]):
    """The batches' rows with their counts, one aggregate query per 500 batches."""
    from .selectors import attach_progress

    rows = batches.iterator(chunk_size=500)
    while chunk := list(islice(rows, 500)):
        attach_progress(chunk)
        for batch in chunk:
            shown = getattr(batch, "shown", None) or progress_from_counts({}, total=batch.total)
            counts = shown["counts"]
            yield (
                batch.pk, batch.name, batch.template.name if batch.template else "", names.get(batch.branch_id, ""),
                batch.get_status_display(), batch.total, counts.get("delivered", 0), counts.get("failed", 0),
                counts.get("cancelled", 0), shown["percent"], str(batch.created_by or "系统"), batch.created_at,
            )


def batches_xlsx(batches, *, branch_names: dict[int, str] | None = None) -> tuple[bytes, int]:
    """The batches with their counts as xlsx; returns the file and the number of data rows."""
    buffer = io.BytesIO()
    count = write_xlsx(
        buffer, BATCH_COLUMNS, _batch_lines(batches, branch_names or {}), title=BATCHES_TITLE, widths={1: 30}
    )
    return buffer.getvalue(), count
