"""The xlsx templates of the credit files: the headers (required ones in red), one example row, identifier and
code columns in text format, and a sheet of notes."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from core.spreadsheets import SheetSpec

NOTES = (
    "第 2 行是示例，导入前请删除或改为真实数据。",
    "红色表头为必填列；识别号、指标代码等列请保持“文本”格式，否则 Excel 会去掉开头的 0 或截断数字。",
    "整个文件校验通过后才会写入；任何一行有误，全部不写入，并列出每个错误的行、列、值和原因。",
    "重复导入同一文件不会产生变化：评价结果按识别号+评价年度+生效日期，失信行为按识别号+指标+税种+记录日期更新。",
)


def build_template(spec: SheetSpec, hints: dict, *, title: str) -> bytes:
    """``hints``: attribute → an object with ``hint`` and ``example``."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    required = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(title[:31])
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(spec.columns):
        sheet.set_column(index, index, max(12, len(column.header) * 2 + 2), text if column.text else None)
        sheet.write_string(0, index, column.header, required if column.required else header)
        example = hints[column.attr].example
        if isinstance(example, dt.date):
            sheet.write_datetime(1, index, dt.datetime.combine(example, dt.time()), date)
        elif isinstance(example, Decimal | int) and not column.text:
            sheet.write_number(1, index, float(example))
        elif example != "":
            sheet.write_string(1, index, str(example), text if column.text else None)
    notes = workbook.add_worksheet("填写说明")
    notes.set_column(0, 0, 20)
    notes.set_column(1, 1, 10)
    notes.set_column(2, 2, 90)
    notes.write_row(0, 0, ["列名", "是否必填", "填写要求"], bold)
    for index, column in enumerate(spec.columns, start=1):
        notes.write_row(index, 0, [column.header, "必填" if column.required else "可选", hints[column.attr].hint])
    last = len(spec.columns) + 2
    notes.write_string(last, 0, "说明", bold)
    for offset, line in enumerate(NOTES, start=1):
        notes.write_string(last + offset, 0, line)
    workbook.close()
    return output.getvalue()
