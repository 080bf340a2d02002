"""Reading the treasury's receipt file (国库退库回执): one payment a row (an application paid in parts has a row per
part). Writes nothing.

Columns (the header row may be anywhere in the first rows; headers compare without spaces and trailing
hints such as ``(元)``; "序号", "纳税人名称" and "主管税务机关" are ignored):

=================  ==========  ============================================================================
column             required    meaning
=================  ==========  ============================================================================
退库凭证号         yes         the treasury's voucher number (收入退还书号), unique: a voucher pays once
申请文书号         one of      the application's document number in the core system (受理文书号), or
纳税人识别号 +     the two     the taxpayer's identifier and the application period (YYYY-MM) of its
申请退税所属期                 live application
退库金额           yes         yuan, two decimals at most, not above what the application still has unpaid
退库日期           yes         YYYY-MM-DD (or an Excel date), not in the future
增量 / 存量        no          the split in yuan; needed only for a part payment of a "both" application
=================  ==========  ============================================================================

A sample is ``ledger/tests/data/treasury_receipts_sample.xlsx``. The cell readers and the error shape (row,
column as the file spells it, value, Chinese reason) are the taxpayers imports', as in
``refund.upper_lists``, so officers meet the same messages everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from core.periods import Period, PeriodError
from refund.models import RefundApplication
from taxpayers.imports import (
    HEADER_SEARCH_ROWS,
    Cell,
    CellError,
    FileFormatError,
    Formula,
    ImportContext,
    RowError,
    RowSource,
    cell_text,
    find_header_row,
    normalise_header,
    parse_identifier,
    parse_money,
    parse_past_date,
    text_cell,
)

MAX_ROWS = 20_000
_HEADERS = {
    "voucher": ("退库凭证号", "凭证号", "收入退还书号", "退还书号"),
    "document": ("申请文书号", "文书号", "受理文书号"),
    "identifier": ("纳税人识别号", "统一社会信用代码", "社会信用代码"),
    "period": ("申请退税所属期", "所属期", "申请所属期"),
    "amount": ("退库金额", "退税金额", "退还金额", "金额"),
    "paid_on": ("退库日期", "退还日期", "日期"),
    "incremental": ("增量", "增量退税额", "其中增量", "其中：增量"),
    "stock": ("存量", "存量退税额", "其中存量", "其中：存量"),
}
_KNOWN = {normalise_header(text): attr for attr, texts in _HEADERS.items() for text in texts}
IGNORED = {normalise_header(text) for text in ("序号", "纳税人名称", "主管税务机关", "退税类型", "备注")}
REQUIRED = ("voucher", "amount", "paid_on")


@dataclass(frozen=True)
class ReceiptRow:
    row: int
    voucher_number: str
    application_id: int
    application_text: str  # the document number, or "identifier period", as the file gave it
    amount: Decimal
    paid_on: dt.date
    incremental: Decimal | None
    stock: Decimal | None
    headers: dict  # attr -> header as the file spells it ("application": the column that named the application)


@dataclass
class ReceiptCheck:
    rows: list[ReceiptRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _find_header(rows):
    message = (
        f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有“退库凭证号”列。表头应为：退库凭证号、申请文书号"
        "（或纳税人识别号和申请退税所属期）、退库金额、退库日期，以及可选的增量、存量。"
    )
    number, positions, headers, errors, warnings = find_header_row(
        rows, known=_KNOWN, marker="voucher", ignored=IGNORED, not_found=RowError(1, "退库凭证号", "", message)
    )
    if number:
        for attr in REQUIRED:
            if attr not in positions:
                errors.append(RowError(number, _HEADERS[attr][0], "", f"缺少必填列“{_HEADERS[attr][0]}”。"))
        if "document" not in positions and not {"identifier", "period"} <= positions.keys():
            errors.append(
                RowError(
                    number, "申请文书号", "", "缺少申请列：需要“申请文书号”，或“纳税人识别号”和“申请退税所属期”两列。"
                )
            )
    return number, positions, headers, errors, warnings


FORMULA_REFUSED = "单元格是公式：回执中的凭证号、金额和日期须为录入的数值，请复制后“选择性粘贴为数值”再导入。"


def _cell(row: list, index: int | None) -> Cell:
    raw = row[index] if index is not None and index < len(row) else None
    return Cell(cell_text(raw), raw)


def _period(cell: Cell) -> Period:
    raw = cell.raw
    if isinstance(raw, (dt.date, dt.datetime)):
        return Period.of(raw)
    if isinstance(raw, float):
        raise CellError("所属期是数值格式，月份可能已丢失（2024.10 会变成 2024.1）。请将该列设置为文本，填写 YYYY-MM。")
    try:
        return Period.typed(cell.text)
    except PeriodError as exc:
        raise CellError(str(exc)) from None


@dataclass
class _Parsed:
    row: int
    voucher: str
    document: str = ""
    identifier: str = ""
    period: Period | str = ""  # "" when the row names its application by document number
    amount: Decimal | None = None
    paid_on: dt.date | None = None
    incremental: Decimal | None = None
    stock: Decimal | None = None


def read_receipts(fh, filename: str, *, today: dt.date | None = None) -> ReceiptCheck:
    """Check every row (cells, repeats within the file, the application it names); see the module docstring."""
    result = ReceiptCheck()
    ctx = ImportContext(today=today or timezone.localdate())
    try:
        rows = iter(RowSource(fh, filename, formulas=True))
        header_row, positions, headers, errors, warnings = _find_header(rows)
        result.errors.extend(errors)
        result.warnings.extend(warnings)
        if errors:
            return result
        parsed: list[_Parsed] = []
        seen: dict[str, int] = {}
        for number, row in rows:
            if all(cell_text(raw) == "" for raw in row):
                continue
            if len(parsed) + len(result.errors) >= MAX_ROWS:
                result.errors.append(RowError(number, "", "", f"超过 {MAX_ROWS} 行，请拆分后分批导入。"))
                break
            row_errors: list[RowError] = []

            def read(attr, parse, required=False, *, number=number, row=row, row_errors=row_errors):
                if attr not in positions:
                    return None
                cell = _cell(row, positions[attr])
                if isinstance(cell.raw, Formula):
                    row_errors.append(RowError(number, headers[attr], cell.text, FORMULA_REFUSED))
                    return None
                if not cell.text:
                    if required:
                        row_errors.append(RowError(number, headers[attr], "", "必填项不能为空。"))
                    return None
                try:
                    return parse(cell)
                except CellError as exc:
                    row_errors.append(RowError(number, headers[attr], cell.text, str(exc)))
                    return None

            item = _Parsed(row=number, voucher=read("voucher", text_cell, True) or "")
            item.document = read("document", text_cell) or ""
            if not item.document:
                required = "document" not in positions
                item.identifier = read("identifier", lambda c: parse_identifier(c, ctx), required) or ""
                item.period = read("period", _period, required) or ""
                if not required and not (item.identifier and item.period) and not row_errors:
                    row_errors.append(
                        RowError(number, headers["document"], "", "请填写申请文书号，或纳税人识别号和申请退税所属期。")
                    )
            item.amount = read("amount", lambda c: parse_money(c, ctx), True)
            item.paid_on = read("paid_on", lambda c: parse_past_date(c, ctx), True)
            item.incremental = read("incremental", lambda c: parse_money(c, ctx))
            item.stock = read("stock", lambda c: parse_money(c, ctx))
            if item.voucher and len(item.voucher) > 40:
                row_errors.append(
                    RowError(number, headers["voucher"], item.voucher, "退库凭证号过长：最多 40 个字符。")
                )
            elif item.voucher in seen:
                row_errors.append(
                    RowError(
                        number,
                        headers["voucher"],
                        item.voucher,
                        f"与第 {seen[item.voucher]} 行的退库凭证号重复，同一文件中不能重复。",
                    )
                )
            elif item.voucher:
                seen[item.voucher] = number
            result.errors.extend(row_errors)
            if not row_errors:
                parsed.append(item)
        if not parsed and not result.errors:
            result.errors.append(RowError(header_row + 1, "", "", "文件中没有数据行。"))
            return result
        _resolve_applications(parsed, headers, result)
    except FileFormatError as exc:
        result.errors.append(RowError(0, "", "", exc.message))
    result.errors.sort(key=lambda error: (error.row, error.column))
    return result


def _resolve_applications(parsed: list[_Parsed], headers: dict, result: ReceiptCheck) -> None:
    documents = {item.document for item in parsed if item.document}
    by_document = dict(
        RefundApplication.objects.filter(document_number__in=documents).values_list("document_number", "id")
    )
    pairs = {(item.identifier, item.period) for item in parsed if not item.document}
    by_pair = {}
    if pairs:
        live = RefundApplication.objects.exclude(state=RefundApplication.State.REJECTED).filter(
            taxpayer__identifier__in={i for i, _ in pairs}, application_period__in={p for _, p in pairs}
        )
        by_pair = {(i, p): pk for i, p, pk in live.values_list("taxpayer__identifier", "application_period", "id")}
    for item in parsed:
        if item.document:
            column, text = headers["document"], item.document
            application_id = by_document.get(item.document)
            missing = f"申请文书号“{item.document}”在系统中不存在，请核对，或先登记该申请。"
        else:
            column, text = headers["identifier"], f"{item.identifier} {item.period}"
            application_id = by_pair.get((item.identifier, item.period))
            missing = f"纳税人“{item.identifier}”没有 {item.period} 所属期的留抵退税申请，请核对识别号和所属期。"
        if application_id is None:
            result.errors.append(RowError(item.row, column, text, missing))
            continue
        row_headers = {**headers, "application": column}
        result.rows.append(
            ReceiptRow(
                item.row,
                item.voucher,
                application_id,
                text,
                item.amount,
                item.paid_on,
                item.incremental,
                item.stock,
                row_headers,
            )
        )
