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

A sample is ``ledger/tests/data/treasury_receipts_sample.xlsx``. The file is read by the one spreadsheet reader
(``core.spreadsheets``), with the error shape (row, column as the file spells it, value, Chinese reason) and the
cell readers of every import, so officers meet the same messages everywhere. Formula cells are refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core.cells import ReadContext, code, money, past_date, period_cell, text_cell
from core.spreadsheets import (
    CheckedRow,
    Column,
    FileCheck,
    HeaderMap,
    RowError,
    SheetSpec,
    Unique,
    read_sheet,
)
from refund.models import RefundApplication
from taxpayers.imports import parse_identifier

MAX_ROWS = 20_000
VOUCHER_MAX = 40
FORMULA_REFUSED = "单元格是公式：回执中的凭证号、金额和日期须为录入的数值，请复制后“选择性粘贴为数值”再导入。"


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


def _application_columns(header: HeaderMap) -> None:
    """The application is named by its document number, or by the taxpayer's identifier and the period."""
    if "document" not in header.positions and not {"identifier", "period"} <= header.positions.keys():
        reason = "缺少申请列：需要“申请文书号”，或“纳税人识别号”和“申请退税所属期”两列。"
        header.errors.append(RowError(header.row, "申请文书号", "", reason))


def _application_cells(row: CheckedRow, context) -> None:
    """The identifier and period are read only in a row without a document number (then both are needed)."""
    if row.values.get("document"):
        return
    by_pair, errors = not row.has_column("document"), len(row.errors)
    identifier = row.read("identifier", parse_identifier, required=by_pair)
    period = row.read("period", period_cell, required=by_pair)
    if not by_pair and not (identifier and period) and len(row.errors) == errors:
        row.fail("document", "", "请填写申请文书号，或纳税人识别号和申请退税所属期。")


SPEC = SheetSpec(
    columns=(
        Column(
            "voucher",
            "退库凭证号",
            code(VOUCHER_MAX, too_long=f"退库凭证号过长：最多 {VOUCHER_MAX} 个字符。"),
            required=True,
            aliases=("凭证号", "收入退还书号", "退还书号"),
        ),
        Column("document", "申请文书号", text_cell, aliases=("文书号", "受理文书号")),
        Column("identifier", "纳税人识别号", None, aliases=("统一社会信用代码", "社会信用代码")),
        Column("period", "申请退税所属期", None, aliases=("所属期", "申请所属期")),
        Column("amount", "退库金额", money, True, aliases=("退税金额", "退还金额", "金额")),
        Column("paid_on", "退库日期", past_date, True, aliases=("退还日期", "日期")),
        Column("incremental", "增量", money, blank=None, aliases=("增量退税额", "其中增量", "其中：增量")),
        Column("stock", "存量", money, blank=None, aliases=("存量退税额", "其中存量", "其中：存量")),
    ),
    ignored=("序号", "纳税人名称", "主管税务机关", "退税类型", "备注"),
    not_found_hint=(
        "。表头应为：退库凭证号、申请文书号（或纳税人识别号和申请退税所属期）、退库金额、退库日期，以及可选的增量、存量。"
    ),
    max_rows=MAX_ROWS,
    unique=(Unique(("voucher",), "与第 {row} 行的退库凭证号重复，同一文件中不能重复。"),),
    check_header=_application_columns,
    check_row=_application_cells,
    refuse_formulas=FORMULA_REFUSED,
)


def read_receipts(fh, filename: str, *, today: dt.date | None = None) -> FileCheck[ReceiptRow]:
    """Check every row (cells, repeats within the file, the application it names); see the module docstring."""
    sheet = read_sheet(fh, filename, SPEC, context=ReadContext(today or timezone.localdate()))
    _name_applications(sheet.rows)
    rows = [_receipt_row(row, sheet.headers) for row in sheet.settle()]
    return FileCheck.of(sheet, rows)


def _name_applications(rows: list[CheckedRow]) -> None:
    """Each row's application (``values["application"]``: its id, the column and text that named it); a row
    naming none gets its error."""
    documents = {row.values["document"] for row in rows if row.values.get("document")}
    by_document = dict(
        RefundApplication.objects.filter(document_number__in=documents).values_list("document_number", "id")
    )
    pairs = {(row.values["identifier"], row.values["period"]) for row in rows if not row.values.get("document")}
    by_pair = {}
    if pairs:
        live = RefundApplication.objects.exclude(state=RefundApplication.State.REJECTED).filter(
            taxpayer__identifier__in={i for i, _ in pairs}, application_period__in={p for _, p in pairs}
        )
        by_pair = {(i, p): pk for i, p, pk in live.values_list("taxpayer__identifier", "application_period", "id")}
    for row in rows:
        values = row.values
        if values.get("document"):
            attr, text = "document", values["document"]
            application_id = by_document.get(text)
            missing = f"申请文书号“{text}”在系统中不存在，请核对，或先登记该申请。"
        else:
            identifier, period = values["identifier"], values["period"]
            attr, text = "identifier", f"{identifier} {period}"
            application_id = by_pair.get((identifier, period))
            missing = f"纳税人“{identifier}”没有 {period} 所属期的留抵退税申请，请核对识别号和所属期。"
        if application_id is None:
            row.fail(attr, text, missing)
        values["application"] = (application_id, attr, text)


def _receipt_row(row: CheckedRow, headers: dict) -> ReceiptRow:
    values = row.values
    application_id, attr, text = values["application"]
    return ReceiptRow(
        row.row,
        values["voucher"],
        application_id,
        text,
        values["amount"],
        values["paid_on"],
        values.get("incremental"),
        values.get("stock"),
        {**headers, "application": headers[attr]},
    )
