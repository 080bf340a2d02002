"""A small xlsx export of outbox rows (notify cannot use accounts.exports). Numbers stay masked."""

import io

import xlsxwriter

from .text import mask_mobile

COLUMNS = (
    "编号", "手机号码", "内容", "模板", "批次", "状态", "发送次数", "网关批次号", "错误代码", "错误说明", "创建时间",
)


def messages_xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet("短信")
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, COLUMNS, bold)
    for i, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        sheet.write_row(i, 0, (
            row.pk, mask_mobile(row.recipient), row.text, row.template.name if row.template else "",
            row.batch.name if row.batch else "", row.get_status_display(), row.attempts, row.msg_group,
            row.error_code, row.error_message,
        ))
        sheet.write_datetime(i, 10, row.created_at, when)
    sheet.set_column(2, 2, 50)
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
