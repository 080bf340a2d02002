"""Reading the higher bureau's risk tasks (上级下发风险任务): one task a row — 纳税人识别号, 任务名称, 任务说明,
应对期限 and 来源文号.

Writes nothing: the file is checked whole by the one spreadsheet reader (``core.spreadsheets``), and
``risk.tasks.imports.risk_tasks_import`` stores it only when every row is right. The header row may sit below a
title; 序号, 纳税人名称 and 主管税务机关 are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.cells import Cell, CellError, code, date_cell, text
from core.spreadsheets import CheckedRow, Column, FileCheck, SheetSpec, Unique, read_sheet
from taxpayers.imports import parse_identifier, refuse_unknown_taxpayers

MAX_ROWS = 5_000  # a higher bureau's batch for one county is tens or hundreds of tasks


@dataclass(frozen=True)
class UpperContext:
    today: dt.date


def _due_date(cell: Cell, context: UpperContext) -> dt.date:
    value = date_cell(cell)
    if value < context.today:
        raise CellError(f"应对期限早于今天（{context.today:%Y-%m-%d}），请核对。")
    return value


SPEC = SheetSpec(
    columns=(
        Column(
            "identifier",
            "纳税人识别号",
            parse_identifier,
            required=True,
            text=True,
            aliases=("统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)"),
        ),
        Column("title", "任务名称", text(200), required=True, aliases=("风险任务名称", "疑点名称", "任务标题")),
        Column("description", "任务说明", text(2000), aliases=("疑点描述", "风险描述", "说明")),
        Column("due_on", "应对期限", _due_date, required=True, aliases=("完成期限", "反馈期限", "办结期限")),
        Column("document", "来源文号", code(100), required=True, text=True, aliases=("文号", "下发文号", "任务编号")),
    ),
    ignored=("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)"),
    not_found_hint="。表头应为：纳税人识别号、任务名称、任务说明（可选）、应对期限、来源文号。",
    max_rows=MAX_ROWS,
    unique=(
        Unique(
            ("identifier", "document"),
            "与第 {row} 行的纳税人识别号和来源文号相同，同一文件中不能重复。",
            column="document",
        ),
    ),
)


@dataclass(frozen=True)
class UpperTaskRow:
    row: int
    taxpayer_id: int
    identifier: str
    title: str
    description: str
    due_on: dt.date
    document: str


def read_upper_tasks(fh, filename: str, *, today: dt.date) -> FileCheck[UpperTaskRow]:
    """Check every row: identifier valid and registered, a title, a due date from today on, a document number,
    and no taxpayer twice under the same document number."""
    sheet = read_sheet(fh, filename, SPEC, context=UpperContext(today))
    known = refuse_unknown_taxpayers(sheet.rows)
    rows = [_row(row, known[row.values["identifier"]]) for row in sheet.settle()]
    return FileCheck.of(sheet, rows)


def _row(row: CheckedRow, taxpayer_id: int) -> UpperTaskRow:
    v = row.values
    return UpperTaskRow(
        row.row, taxpayer_id, v["identifier"], v["title"], v.get("description", ""), v["due_on"], v["document"]
    )
