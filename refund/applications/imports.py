"""Importing 留抵退税申请 from the core system's (金三) export: one application a row, all rows or none.

The file (.xlsx, or .csv in UTF-8/GBK) has a header row within its first 10 rows and these columns, in any
order (the other spellings declared in ``SPEC`` are accepted too; 序号, 纳税人名称 and 主管税务机关 are
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

A sample is ``refund/tests/data/applications_import_sample.xlsx``. The file is read by the one spreadsheet
reader (``core.spreadsheets``): every error is listed with its row, column (as the file spells it), value
and a Chinese reason; when there is any error nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from core.cells import Cell, CellError, ReadContext, choice, code, money, past_date, period_cell
from core.errors import ApplicationError, FileRejected
from core.periods import Period
from core.spreadsheets import CheckedRow, Column, FileCheck, RowError, SheetSpec, Unique, read_sheet, sort_errors
from taxpayers.imports import parse_identifier, refuse_unknown_taxpayers
from taxpayers.models import Taxpayer

from ..models import RefundApplication
from .claims import claim_difference, claim_refusal
from .services import ClaimRefused, _mark_applied_after_commit, _receive

MAX_ROWS = 20_000
DOCUMENT_MAX = 40
Kind = RefundApplication.Kind


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


class ApplicationImportRejected(FileRejected):
    """The file has errors; ``errors`` lists them (row, column, value, reason); nothing was stored."""

    code = "application_import_invalid"
    message_template = "校验未通过：共 {count} 处错误，未导入任何申请。请按错误明细修改文件后重新导入。"

    def __init__(self, errors, warnings=()):
        super().__init__(errors, warnings)
        self.extra = {"errors": [e.as_dict() for e in self.errors], "warnings": self.warnings}


@dataclass
class ApplicationImportSummary:
    created: list[RefundApplication] = field(default_factory=list)
    skipped: list[ApplicationRow] = field(default_factory=list)  # already imported (same document number)
    returned: list[RefundApplication] = field(default_factory=list)  # created, and sent back by the risk gate
    warnings: list[str] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------------------


def _period(cell: Cell, context: ReadContext) -> Period:
    period = period_cell(cell)
    if period > context.current_period:
        raise CellError(f"所属期晚于本月（今天是 {context.today:%Y-%m-%d}），不能是将来的月份。")
    return period


def _amount(cell: Cell, context) -> Decimal:
    value = money(cell)
    refusal = claim_refusal(value)  # the tax period's credit is checked as each row is received
    if refusal:
        raise CellError(refusal)
    return value


def _received_after_period(row: CheckedRow, context) -> None:
    period, received_on = row.values.get("period"), row.values.get("received_on")
    if period and received_on and received_on < period.first_day:
        row.fail("received_on", received_on.isoformat(), f"受理日期早于申请退税所属期 {period}，请核对。")


_KIND = choice(
    Kind.choices,
    {
        "增量": Kind.INCREMENTAL,
        "增量留抵": Kind.INCREMENTAL,
        "存量": Kind.STOCK,
        "存量留抵": Kind.STOCK,
        "增量和存量": Kind.BOTH,
        "增量+存量": Kind.BOTH,
        "增量及存量": Kind.BOTH,
        "存量和增量": Kind.BOTH,
    },
    refusal="退税类型应为：增量、存量、增量和存量。",
)
_COLUMNS = (
    Column("document_number", "申请文书号", code(DOCUMENT_MAX), True, aliases=("文书号", "受理文书号", "申请单号")),
    Column(
        "identifier",
        "纳税人识别号",
        parse_identifier,
        True,
        aliases=("统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)"),
    ),
    Column("period", "申请退税所属期", _period, True, aliases=("申请所属期", "所属期", "申请退税纳税申报期")),
    Column("kind", "退税类型", _KIND, True, aliases=("申请退税类型", "留抵退税类型")),
    Column("amount", "申请退税额", _amount, True, aliases=("申请退税金额", "申请金额")),
    Column("received_on", "受理日期", past_date, True, aliases=("申请日期", "受理时间")),
)
HEADER_LIST = "、".join(column.header for column in _COLUMNS)
SPEC = SheetSpec(
    columns=_COLUMNS,
    marker="identifier",
    ignored=("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)", "备注"),
    not_found_hint=f"。表头应为：{HEADER_LIST}。",
    missing_hint=f"。表头应为：{HEADER_LIST}。",
    max_rows=MAX_ROWS,
    unique=(
        Unique(("document_number",), "与第 {row} 行的申请文书号重复，同一文件中不能重复。"),
        Unique(("identifier", "period"), "与第 {row} 行是同一纳税人同一所属期的申请，同一所属期只能申请一次。"),
    ),
    check_row=_received_after_period,
)


def read_applications(fh, filename: str, *, today: dt.date) -> FileCheck[ApplicationRow]:
    """Check every row of the file (form, repeats inside the file, known taxpayers); writes nothing."""
    sheet = read_sheet(fh, filename, SPEC, context=ReadContext(today))
    known = refuse_unknown_taxpayers(sheet.rows)
    rows = [_application_row(row, known[row.values["identifier"]]) for row in sheet.settle()]
    return FileCheck.of(sheet, rows)


def _application_row(row: CheckedRow, taxpayer_id: int) -> ApplicationRow:
    values = row.values
    return ApplicationRow(
        row.row,
        values["document_number"],
        taxpayer_id,
        values["identifier"],
        values["period"],
        values["kind"],
        values["amount"],
        values["received_on"],
    )


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
        sort_errors(errors)
        raise ApplicationImportRejected(errors, check.warnings) from None
    return summary
