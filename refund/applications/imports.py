"""Importing 留抵退税申请 from the core system's (金三) export: one application a row, all rows or none.

The file (.xlsx, or .csv in UTF-8/GBK) has a header row within its first 10 rows and these columns, in any
order (the alternative spellings in ``_HEADERS`` are accepted too; 序号, 纳税人名称 and 主管税务机关 are
ignored, any other column is ignored with a warning):

=============== ========================================================================================
申请文书号       the core system's acceptance document number; unique — a row whose number was already
                 imported for the same taxpayer and period is skipped, so importing a file again creates
                 nothing twice. Text (an Excel number cell must still hold the exact digits).
纳税人识别号     the taxpayer's identifier, read as text; the taxpayer must be in the registry.
申请退税所属期   YYYY-MM (text, or a date cell): the filing period in which the refund is applied for; not
                 a future month.
退税类型         增量 / 存量 / 增量和存量 (or 增量留抵退税, 存量留抵退税, incremental, stock, both).
申请退税额       yuan, at most two decimals, more than 0, not above the taxpayer's 期末留抵税额 of
                 the tax period (``application_claims``); a claim that differs from the rules' amount
                 is imported with a warning stating the difference.
受理日期         the day the bureau accepted it (YYYY-MM-DD, a date cell, 2026/3/10 …); not in the future,
                 not before the period.
=============== ========================================================================================

A sample is ``refund/tests/data/applications_import_sample.xlsx``. Every error is listed with its row,
column (as the file spells it), value and a Chinese reason, in the taxpayers imports' shape and with their
cell readers; when there is any error nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError
from core.periods import Period, PeriodError
from taxpayers.imports import (
    HEADER_SEARCH_ROWS,
    Cell,
    CellError,
    FileFormatError,
    ImportContext,
    RowError,
    RowSource,
    cell_text,
    find_header_row,
    normalise_header,
    parse_money,
    parse_past_date,
    taxpayer_ids_by_identifier,
    text_cell,
)
from taxpayers.models import Taxpayer
from taxpayers.validators import validate_taxpayer_id

from ..models import RefundApplication
from .claims import claim_difference, claim_refusal
from .services import ClaimRefused, _mark_applied_after_commit, _receive

MAX_ROWS = 20_000
DOCUMENT_MAX = 40
_HEADERS: dict[str, tuple[str, ...]] = {
    "document_number": ("申请文书号", "文书号", "受理文书号", "申请单号"),
    "identifier": ("纳税人识别号", "统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)"),
    "period": ("申请退税所属期", "申请所属期", "所属期", "申请退税纳税申报期"),
    "kind": ("退税类型", "申请退税类型", "留抵退税类型"),
    "amount": ("申请退税额", "申请退税金额", "申请金额"),
    "received_on": ("受理日期", "申请日期", "受理时间"),
}
_KNOWN = {normalise_header(text): attr for attr, texts in _HEADERS.items() for text in texts}
IGNORED = {normalise_header(text) for text in ("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)", "备注")}
HEADER_LIST = "、".join(texts[0] for texts in _HEADERS.values())

Kind = RefundApplication.Kind
_KINDS = {
    normalise_header(text): kind
    for kind, texts in {
        Kind.INCREMENTAL: ("增量", "增量留抵退税", "增量留抵", "incremental"),
        Kind.STOCK: ("存量", "存量留抵退税", "存量留抵", "stock"),
        Kind.BOTH: ("增量和存量", "增量和存量留抵退税", "增量+存量", "增量及存量", "存量和增量", "both"),
    }.items()
    for text in texts
}


@dataclass(frozen=True)
class ApplicationRow:
    row: int
    document_number: str
    taxpayer_id: int
    identifier: str
    application_period: Period
    kind: str
    claimed_amount: Decimal
    received_on: dt.date


@dataclass
class ApplicationFileCheck:
    rows: list[ApplicationRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class ApplicationImportRejected(ApplicationError):
    """The file has errors; ``errors`` lists them (row, column, value, reason); nothing was stored."""

    code = "application_import_invalid"

    def __init__(self, errors, warnings=()):
        super().__init__(f"校验未通过：共 {len(errors)} 处错误，未导入任何申请。请按错误明细修改文件后重新导入。")
        self.errors = list(errors)
        self.warnings = list(warnings)
        self.extra = {"errors": [e.as_dict() for e in self.errors], "warnings": self.warnings}


@dataclass
class ApplicationImportSummary:
    created: list[RefundApplication] = field(default_factory=list)
    skipped: list[ApplicationRow] = field(default_factory=list)  # already imported (same document number)
    returned: list[RefundApplication] = field(default_factory=list)  # created, and sent back by the risk gate
    warnings: list[str] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------------------


def _find_header(rows) -> tuple[int, dict[str, int], dict[str, str], list[RowError], list[str]]:
    message = f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有“纳税人识别号”列。表头应为：{HEADER_LIST}。"
    number, positions, headers, errors, warnings = find_header_row(
        rows, known=_KNOWN, marker="identifier", ignored=IGNORED, not_found=RowError(1, "纳税人识别号", "", message)
    )
    if number:
        for attr, texts in _HEADERS.items():
            if attr not in positions:
                errors.append(RowError(number, texts[0], "", f"缺少必填列“{texts[0]}”。表头应为：{HEADER_LIST}。"))
    return number, positions, headers, errors, warnings


def _cell(row: list, index: int) -> Cell:
    raw = row[index] if index < len(row) else None
    return Cell(cell_text(raw), raw)


def _document_number(cell: Cell, ctx) -> str:
    text = text_cell(cell)
    if len(text) > DOCUMENT_MAX:
        raise CellError(f"内容过长：最多 {DOCUMENT_MAX} 个字符，实际 {len(text)} 个。")
    return text


def _identifier(cell: Cell, ctx) -> str:
    try:
        return validate_taxpayer_id(text_cell(cell))
    except ValidationError as exc:
        raise CellError(exc.messages[0] if exc.messages else "格式不正确。") from exc


def _period(cell: Cell, ctx: ImportContext) -> Period:
    raw = cell.raw
    if isinstance(raw, dt.date | dt.datetime):
        period = Period.of(raw)
    elif isinstance(raw, float):
        raise CellError("所属期是数值格式，月份可能已丢失（2026.10 会变成 2026.1）。请将该列设置为文本，填写 YYYY-MM。")
    else:
        try:
            period = Period.typed(cell.text)
        except PeriodError as exc:
            raise CellError(str(exc)) from None
    if period > ctx.current_period:
        raise CellError(f"所属期晚于本月（今天是 {ctx.today:%Y-%m-%d}），不能是将来的月份。")
    return period


def _kind(cell: Cell, ctx) -> str:
    kind = _KINDS.get(normalise_header(cell.text))
    if kind is None:
        raise CellError("退税类型应为：增量、存量、增量和存量。")
    return kind


def _amount(cell: Cell, ctx) -> Decimal:
    value = parse_money(cell, ctx)
    refusal = claim_refusal(value)  # the tax period's credit is checked as each row is received
    if refusal:
        raise CellError(refusal)
    return value


_PARSERS = {
    "document_number": _document_number,
    "identifier": _identifier,
    "period": _period,
    "kind": _kind,
    "amount": _amount,
    "received_on": parse_past_date,
}


def read_applications(fh, filename: str, *, today: dt.date) -> ApplicationFileCheck:
    """Check every row of the file (form, repeats inside the file, known taxpayers); writes nothing."""
    result = ApplicationFileCheck()
    ctx = ImportContext(today=today)
    try:
        rows = iter(RowSource(fh, filename))
        header_row, positions, headers, errors, warnings = _find_header(rows)
        result.errors.extend(errors)
        result.warnings.extend(warnings)
        result.headers = headers
        if errors:
            return result
        parsed: list[tuple[int, dict]] = []
        documents: dict[str, int] = {}
        periods: dict[tuple[str, Period], int] = {}
        for number, row in rows:
            if all(cell_text(raw) == "" for raw in row):
                continue
            if len(parsed) + len(result.errors) >= MAX_ROWS:
                result.errors.append(RowError(number, "", "", f"超过 {MAX_ROWS} 行，请拆分后分批导入。"))
                break
            values, row_errors = {}, []
            for attr, parse in _PARSERS.items():
                cell = _cell(row, positions[attr])
                if not cell.text:
                    row_errors.append(RowError(number, headers[attr], "", "必填项不能为空。"))
                    continue
                try:
                    values[attr] = parse(cell, ctx)
                except CellError as exc:
                    row_errors.append(RowError(number, headers[attr], cell.text, str(exc)))
            if (
                "period" in values
                and "received_on" in values
                and values["received_on"] < values["period"].first_day
            ):
                row_errors.append(
                    RowError(
                        number,
                        headers["received_on"],
                        values["received_on"].isoformat(),
                        f"受理日期早于申请退税所属期 {values['period']}，请核对。",
                    )
                )
            document = values.get("document_number")
            if document and document in documents:
                row_errors.append(
                    RowError(
                        number,
                        headers["document_number"],
                        document,
                        f"与第 {documents[document]} 行的申请文书号重复，同一文件中不能重复。",
                    )
                )
            elif document:
                documents[document] = number
            key = (values.get("identifier"), values.get("period"))
            if all(key) and key in periods:
                row_errors.append(
                    RowError(
                        number,
                        headers["identifier"],
                        key[0],
                        f"与第 {periods[key]} 行是同一纳税人同一所属期的申请，同一所属期只能申请一次。",
                    )
                )
            elif all(key):
                periods[key] = number
            result.errors.extend(row_errors)
            if not row_errors:
                parsed.append((number, values))
        if not parsed and not result.errors:
            result.errors.append(RowError(header_row + 1, "", "", "文件中没有数据行。"))
            return result
        known = taxpayer_ids_by_identifier([values["identifier"] for _, values in parsed])
        for number, values in parsed:
            taxpayer_id = known.get(values["identifier"])
            if taxpayer_id is None:
                result.errors.append(
                    RowError(
                        number,
                        headers["identifier"],
                        values["identifier"],
                        f"纳税人识别号“{values['identifier']}”在系统中不存在，请核对，或先导入该纳税人的登记信息。",
                    )
                )
                continue
            result.rows.append(
                ApplicationRow(
                    number,
                    values["document_number"],
                    taxpayer_id,
                    values["identifier"],
                    values["period"],
                    values["kind"],
                    values["amount"],
                    values["received_on"],
                )
            )
    except FileFormatError as exc:
        result.errors.append(RowError(0, "", "", exc.message))
    result.errors.sort(key=lambda error: (error.row, error.column))
    return result


# --- storing -------------------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def applications_import_xlsx(*, actor, file) -> ApplicationImportSummary:
    """Receive every application of the core system's export, all or none (``ApplicationImportRejected``).

    Each row is received as ``application_receive`` does (rules, snapshot, arrival risk gate); a row whose
    document number was already imported for the same taxpayer and period is skipped; after commit the
    candidate funnel moves once per period.
    """
    today = timezone.localdate()
    file.seek(0)
    check = read_applications(file, getattr(file, "name", "") or "", today=today)
    if not check.ok:
        raise ApplicationImportRejected(check.errors, check.warnings)
    summary = ApplicationImportSummary(warnings=list(check.warnings))
    headers = check.headers
    existing = {
        number: (taxpayer_id, period)
        for number, taxpayer_id, period in RefundApplication.objects.filter(
            document_number__in=[r.document_number for r in check.rows]
        ).values_list("document_number", "taxpayer_id", "application_period")
    }
    errors: list[RowError] = []
    taxpayers = Taxpayer.objects.in_bulk([r.taxpayer_id for r in check.rows])
    try:
        with transaction.atomic():
            for row in check.rows:
                if row.document_number in existing:
                    if existing[row.document_number] == (row.taxpayer_id, row.application_period):
                        summary.skipped.append(row)
                    else:
                        errors.append(
                            RowError(
                                row.row,
                                headers["document_number"],
                                row.document_number,
                                "该申请文书号已被另一户纳税人或另一所属期的申请使用，请核对。",
                            )
                        )
                    continue
                try:
                    application = _receive(
                        actor=actor,
                        taxpayer=taxpayers[row.taxpayer_id],
                        application_period=row.application_period,
                        kind=row.kind,
                        claimed_amount=row.claimed_amount,
                        received_on=row.received_on,
                        source=RefundApplication.Source.IMPORT,
                        document_number=row.document_number,
                    )
                except ClaimRefused as exc:
                    errors.append(RowError(row.row, headers["amount"], str(row.claimed_amount), exc.message))
                    continue
                except ApplicationError as exc:
                    errors.append(RowError(row.row, "", row.document_number, exc.message))
                    continue
                summary.created.append(application)
                difference = claim_difference(application.claimed_amount, application.computed_amount)
                if difference:
                    summary.warnings.append(
                        f"第 {row.row} 行（{application.taxpayer.name}）：{difference}，确认前请核实。"
                    )
                if application.state == RefundApplication.State.RETURNED:
                    summary.returned.append(application)
            if errors:
                raise _Rollback
            if summary.created or summary.skipped:
                record_event(
                    actor=actor,
                    verb="refund_applications_import",
                    object_type="refund.refundapplication",
                    object_repr="留抵退税申请导入",
                    summary=(
                        f"导入留抵退税申请“{getattr(file, 'name', '')}”：新受理 {len(summary.created)} 件，"
                        f"已导入跳过 {len(summary.skipped)} 件，受理时发现疑点回退 {len(summary.returned)} 件"
                    ),
                    changes={"created": [a.pk for a in summary.created], "skipped": len(summary.skipped)},
                )
            by_period: dict[Period, list[int]] = {}
            for application in summary.created:
                by_period.setdefault(application.application_period, []).append(application.taxpayer_id)
            if by_period:
                _mark_applied_after_commit(taxpayer_ids_by_period=by_period, actor=actor)
    except _Rollback:
        errors.sort(key=lambda error: (error.row, error.column))
        raise ApplicationImportRejected(errors, check.warnings) from None
    return summary
