"""Reading a higher bureau's list (上级下发名单): 纳税人识别号, optional 金额 and 备注, one taxpayer a row.

Writes nothing: the file is checked whole by the one spreadsheet reader (``core.spreadsheets``), and
``refund.candidates.services.upper_list_import`` stores it only when every row is right. The header row may
sit below a title; 序号, 纳税人名称 and 主管税务机关 are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.cells import Cell, CellError, money
from core.spreadsheets import CheckedRow, Column, FileCheck, SheetSpec, Unique, read_sheet
from taxpayers.imports import parse_identifier, refuse_unknown_taxpayers

MAX_ROWS = 20_000  # a higher bureau's list for one county is hundreds of rows
NOTE_MAX = 500
IDENTIFIER_HEADER = "纳税人识别号"
AMOUNT_HEADER = "金额"
NOTE_HEADER = "备注"


def _note(cell: Cell, context=None) -> str:
    if len(cell.text) > NOTE_MAX:
        raise CellError(f"内容过长：最多 {NOTE_MAX} 个字符，实际 {len(cell.text)} 个。", shown=cell.text[:30] + "…")
    return cell.text


SPEC = SheetSpec(
    columns=(
        Column(
            "identifier",
            IDENTIFIER_HEADER,
            parse_identifier,
            required=True,
            aliases=("统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)"),
        ),
        Column(
            "amount",
            AMOUNT_HEADER,
            money,
            blank=None,
            aliases=("可退税额", "预计退税额", "留抵退税额", "退税额", "测算金额"),
        ),
        Column("note", NOTE_HEADER, _note, aliases=("说明", "备注说明")),
    ),
    ignored=("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)"),
    not_found_hint="。表头应为：纳税人识别号、金额（可选）、备注（可选）。",
    max_rows=MAX_ROWS,
    unique=(Unique(("identifier",), "与第 {row} 行的纳税人识别号重复，同一文件中不能重复。"),),
)


@dataclass(frozen=True)
class UpperRow:
    row: int
    taxpayer_id: int
    identifier: str
    amount: Decimal | None
    note: str


def read_upper_list(fh, filename: str) -> FileCheck[UpperRow]:
    """Check every row: identifier valid and known, no repeats, amount a non-negative yuan figure, short note."""
    sheet = read_sheet(fh, filename, SPEC)
    known = refuse_unknown_taxpayers(sheet.rows)
    rows = [_upper_row(row, known[row.values["identifier"]]) for row in sheet.settle()]
    return FileCheck.of(sheet, rows)


def _upper_row(row: CheckedRow, taxpayer_id: int) -> UpperRow:
    values = row.values
    return UpperRow(row.row, taxpayer_id, values["identifier"], values.get("amount"), values.get("note", ""))
