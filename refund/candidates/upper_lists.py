"""Reading a higher bureau's list (上级下发名单): 纳税人识别号, optional 金额 and 备注, one taxpayer a row.

Writes nothing: the file is checked whole, and ``refund.candidate_services.upper_list_import`` stores it only
when every row is right. The cell readers and the error shape (row, column as the file spells it, value,
Chinese reason) are the taxpayers imports', so officers meet the same messages everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError

from taxpayers.imports import (
    HEADER_SEARCH_ROWS,
    Cell,
    CellError,
    FileFormatError,
    RowError,
    RowSource,
    cell_text,
    find_header_row,
    normalise_header,
    parse_money,
    taxpayer_ids_by_identifier,
    text_cell,
)
from taxpayers.validators import validate_taxpayer_id

MAX_ROWS = 20_000  # a higher bureau's list for one county is hundreds of rows
NOTE_MAX = 500
IDENTIFIER_HEADER = "纳税人识别号"
AMOUNT_HEADER = "金额"
NOTE_HEADER = "备注"
_HEADERS = {
    "identifier": (IDENTIFIER_HEADER, "统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)"),
    "amount": (AMOUNT_HEADER, "可退税额", "预计退税额", "留抵退税额", "退税额", "测算金额"),
    "note": (NOTE_HEADER, "说明", "备注说明"),
}
_KNOWN = {normalise_header(text): attr for attr, texts in _HEADERS.items() for text in texts}
IGNORED = {normalise_header(text) for text in ("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)")}


@dataclass(frozen=True)
class UpperRow:
    row: int
    taxpayer_id: int
    identifier: str
    amount: Decimal | None
    note: str


@dataclass
class UpperListCheck:
    rows: list[UpperRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _find_header(rows) -> tuple[int, dict[str, int], dict[str, str], list[RowError], list[str]]:
    message = (
        f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有“{IDENTIFIER_HEADER}”列。"
        "表头应为：纳税人识别号、金额（可选）、备注（可选）。"
    )
    return find_header_row(
        rows, known=_KNOWN, marker="identifier", ignored=IGNORED, not_found=RowError(1, IDENTIFIER_HEADER, "", message)
    )


def _cell(row: list, index: int | None) -> Cell:
    raw = row[index] if index is not None and index < len(row) else None
    return Cell(cell_text(raw), raw)


def read_upper_list(fh, filename: str) -> UpperListCheck:
    """Check every row: identifier valid and known, no repeats, amount a non-negative yuan figure, short note."""
    result = UpperListCheck()
    try:
        rows = iter(RowSource(fh, filename))
        header_row, positions, headers, errors, warnings = _find_header(rows)
        result.errors.extend(errors)
        result.warnings.extend(warnings)
        if errors:
            return result
        parsed: list[tuple[int, str, Decimal | None, str]] = []
        seen: dict[str, int] = {}
        for number, row in rows:
            if all(cell_text(raw) == "" for raw in row):
                continue
            if len(parsed) + len(result.errors) >= MAX_ROWS:
                result.errors.append(RowError(number, "", "", f"超过 {MAX_ROWS} 行，请拆分后分批导入。"))
                break
            row_errors = []
            identifier_cell = _cell(row, positions["identifier"])
            identifier = ""
            if not identifier_cell.text:
                row_errors.append(RowError(number, headers["identifier"], "", "必填项不能为空。"))
            else:
                try:
                    identifier = validate_taxpayer_id(text_cell(identifier_cell))
                except CellError as exc:
                    row_errors.append(RowError(number, headers["identifier"], identifier_cell.text, str(exc)))
                except ValidationError as exc:
                    reason = exc.messages[0] if exc.messages else "格式不正确。"
                    row_errors.append(RowError(number, headers["identifier"], identifier_cell.text, reason))
            if identifier and identifier in seen:
                row_errors.append(
                    RowError(
                        number,
                        headers["identifier"],
                        identifier,
                        f"与第 {seen[identifier]} 行的纳税人识别号重复，同一文件中不能重复。",
                    )
                )
            elif identifier:
                seen[identifier] = number
            amount = None
            if "amount" in positions:
                amount_cell = _cell(row, positions["amount"])
                if amount_cell.text:
                    try:
                        amount = parse_money(amount_cell, None)
                    except CellError as exc:
                        row_errors.append(RowError(number, headers["amount"], amount_cell.text, str(exc)))
            note = ""
            if "note" in positions:
                note = _cell(row, positions["note"]).text
                if len(note) > NOTE_MAX:
                    row_errors.append(
                        RowError(
                            number,
                            headers["note"],
                            note[:30] + "…",
                            f"内容过长：最多 {NOTE_MAX} 个字符，实际 {len(note)} 个。",
                        )
                    )
            result.errors.extend(row_errors)
            if not row_errors:
                parsed.append((number, identifier, amount, note))
        if not parsed and not result.errors:
            result.errors.append(RowError(header_row + 1, "", "", "文件中没有数据行。"))
            return result
        known = taxpayer_ids_by_identifier([identifier for _, identifier, _, _ in parsed])
        for number, identifier, amount, note in parsed:
            taxpayer_id = known.get(identifier)
            if taxpayer_id is None:
                result.errors.append(
                    RowError(
                        number,
                        headers["identifier"],
                        identifier,
                        f"纳税人识别号“{identifier}”在系统中不存在，请核对，或先导入该纳税人的登记信息。",
                    )
                )
                continue
            result.rows.append(UpperRow(number, taxpayer_id, identifier, amount, note))
    except FileFormatError as exc:
        result.errors.append(RowError(0, "", "", exc.message))
    result.errors.sort(key=lambda error: (error.row, error.column))
    return result
