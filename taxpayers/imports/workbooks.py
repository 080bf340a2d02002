"""The xlsx files of the taxpayers' imports the officer downloads: a template to fill in and a failed import's
error report (row, column, value, reason of every error)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from ..models import ImportJob
from .specs import TemplateColumn, get_spec

TEMPLATE_NOTES = (
    "第 2 行是示例，导入前请删除或改为真实数据。",
    "红色表头为必填列；可选列整列不存在时，系统中已有的值保持不变；列存在而单元格为空表示清空。",
    "识别号、手机号码等长数字列请保持“文本”格式，否则 Excel 会截断数字。",
    "整个文件校验通过后才会写入；任何一行有误，全部不写入，并列出每个错误的行、列、值和原因。",
    "按识别号（申报表、发票汇总：识别号+所属期；合规记录：识别号+类型+文书号；供应商进项明细：识别号+所属期+"
    "供应商识别号）更新，重复导入同一文件不会产生变化。",
)


def _example(column: TemplateColumn, *, branch_example: str, today: dt.date | None):
    if column.attr == "branch_id":
        return branch_example
    if column.attr == "period" and today is not None:  # last month: the latest period that can be filed
        return f"{today.replace(day=1) - dt.timedelta(days=1):%Y-%m}"
    if column.attr == "filed_on" and today is not None:
        return today.replace(day=1)
    return column.example


class _Formats:
    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
        self.required = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        self.text = workbook.add_format({"num_format": "@"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.money = workbook.add_format({"num_format": "#,##0.00"})
        self.bold = workbook.add_format({"bold": True})

    def of(self, column: TemplateColumn):
        """The column's cell format: text for identifiers, a date, money, or none."""
        if column.cell_format == "money":
            return self.money
        return self.text if column.text else self.date if column.cell_format == "date" else None


def _write_column(sheet, index: int, column: TemplateColumn, example, formats: _Formats) -> None:
    sheet.set_column(index, index, max(12, len(column.header) * 2 + 2), formats.of(column))
    sheet.write_string(0, index, column.header, formats.required if column.required else formats.header)
    if isinstance(example, dt.date):
        sheet.write_datetime(1, index, dt.datetime.combine(example, dt.time()), formats.date)
    elif isinstance(example, Decimal | int) and not column.text:
        sheet.write_number(1, index, float(example), formats.money if column.cell_format == "money" else None)
    elif example != "":
        sheet.write_string(1, index, str(example), formats.text if column.text else None)


def build_template(kind: str, *, branch_example: str = "城东税务分局", today: dt.date | None = None) -> bytes:
    """An xlsx template: the headers, one example row, text format on identifier columns, and a sheet of notes."""
    spec = get_spec(kind)
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    formats = _Formats(workbook)
    sheet = workbook.add_worksheet(spec.label)
    notes = workbook.add_worksheet("填写说明")
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(spec.columns):
        _write_column(sheet, index, column, _example(column, branch_example=branch_example, today=today), formats)
    notes.set_column(0, 0, 28)
    notes.set_column(1, 1, 10)
    notes.set_column(2, 2, 80)
    notes.write_row(0, 0, ["列名", "是否必填", "填写要求"], formats.bold)
    for index, column in enumerate(spec.columns, start=1):
        notes.write_row(index, 0, [column.header, "必填" if column.required else "可选", column.hint])
    last = len(spec.columns) + 2
    notes.write_string(last, 0, "说明", formats.bold)
    for offset, line in enumerate(TEMPLATE_NOTES, start=1):
        notes.write_string(last + offset, 0, line)
    workbook.close()
    return output.getvalue()


def build_error_report(job: ImportJob, *, errors: list[dict] | None = None) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    text_fmt = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet("错误明细")
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 2, 30, text_fmt)
    sheet.set_column(3, 3, 90)
    sheet.write_row(0, 0, ["行号", "列名", "值", "错误原因"], bold)
    errors = job.errors if errors is None else errors
    for index, error in enumerate(errors, start=1):
        sheet.write_number(index, 0, error.get("row") or 0)
        sheet.write_string(index, 1, str(error.get("column", "")))
        sheet.write_string(index, 2, str(error.get("value", "")), text_fmt)
        sheet.write_string(index, 3, str(error.get("reason", "")))
    info = workbook.add_worksheet("导入信息")
    info.set_column(0, 0, 14)
    info.set_column(1, 1, 70)
    rows = [
        ("文件名", job.original_name),
        ("导入类型", job.get_kind_display()),
        ("文件哈希", job.sha256),
        ("错误总数", str(job.error_count)),
    ]
    if job.error_count > len(errors):
        rows.append(("说明", f"仅列出前 {len(errors)} 条错误。"))
    for index, (label, value) in enumerate(rows):
        info.write_string(index, 0, label, bold)
        info.write_string(index, 1, value)
    workbook.close()
    return output.getvalue()
