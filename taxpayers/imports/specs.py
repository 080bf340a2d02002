"""The kinds of file the core tax system (金三) exports — taxpayers, VAT returns, compliance records, and the
invoice system's monthly 发票汇总 and 供应商进项明细 — as columns the one spreadsheet reader
(``core.spreadsheets``) reads.

Column headers come from the models' ``verbose_name`` so the screens, the templates and the import agree; each
column also says what its downloadable template shows (hint, example, format). A file is keyed by its natural
key (identifier; identifier + period; identifier + kind + document number; identifier + period + supplier
identifier): a row repeating an earlier row's
key is refused, and applying the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.cells import boolean, choice, integer, money, past_date, text
from core.spreadsheets import CheckedRow, Column, FileFormatError, SheetSpec, Unique

from ..models import (
    RETURN_AMOUNT_FIELDS,
    ComplianceRecord,
    EnterpriseSize,
    ImportJob,
    InvoiceSummary,
    SizeIndustry,
    SupplierInput,
    SupplierStatus,
    Taxpayer,
    VatReturn,
)
from ..validators import uscc_check_char
from .cells import (
    EARLIEST_PERIOD,
    ImportContext,
    parse_branch,
    parse_identifier,
    parse_industry,
    parse_mobile,
    parse_period,
    parse_sales_by_industry,
    parse_taxpayer_ref,
)

# Columns the core system's exports carry that an import of that kind does not need.
IGNORED_HEADERS = ("序号", "纳税人名称")


@dataclass(frozen=True)
class TemplateColumn(Column):
    """A column of a taxpayers' import, with what its downloadable template says of it."""

    hint: str = ""  # what to write; shown in the template's notes
    example: Any = ""  # the example row's value
    cell_format: str = ""  # "date" or "money" in the template


def _vn(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _column(model, name: str, parse, **options) -> TemplateColumn:
    """The column of the model field ``name``, headed by its ``verbose_name``."""
    return TemplateColumn(name, _vn(model, name), parse, **options)


def _example_uscc(body: str = "91330106MA0000001") -> str:
    return body + uscc_check_char(body)


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    label: str
    model: type
    sheet: SheetSpec
    key_attrs: tuple[str, ...]  # the natural key a row is created or updated by

    @property
    def columns(self) -> tuple[TemplateColumn, ...]:
        return self.sheet.columns


def _money_column(model, name: str, *, blank: Any = Decimal("0.00"), example: Any = "") -> TemplateColumn:
    hint = "单位：元，最多两位小数，不能为负数"
    return _column(model, name, money, blank=blank, hint=hint, example=example, cell_format="money")


def _date_column(
    model, name: str, example: dt.date, *, required: bool = False, aliases=(), hint: str = "YYYY-MM-DD"
) -> TemplateColumn:
    """A day up to today; an optional one is blank (None) when its cell is empty."""
    return _column(
        model,
        name,
        past_date,
        required=required,
        blank=None,
        aliases=aliases,
        hint=hint,
        example=example,
        cell_format="date",
    )


def _yes_no_column(model, name: str) -> TemplateColumn:
    """是/否, blank for 否; the header says how to fill it in."""
    header = f"{_vn(model, name)}(是/否)"
    return TemplateColumn(name, header, boolean, blank=False, hint="是 或 否；留空为否", example="否")


def _contact_columns(role: str, name: str, mobile: str) -> tuple[TemplateColumn, TemplateColumn]:
    """A contact's name and mobile (法定代表人, 财务负责人, 办税人员): ``{role}_name`` and ``{role}_mobile``."""
    return (
        _column(Taxpayer, f"{role}_name", text(50), example=name),
        _column(
            Taxpayer, f"{role}_mobile", parse_mobile, text=True, hint="11 位手机号码，请设置为文本格式", example=mobile
        ),
    )


def _taxpayer_columns() -> tuple[TemplateColumn, ...]:
    T = Taxpayer
    return (
        _column(
            T,
            "identifier",
            parse_identifier,
            required=True,
            text=True,
            hint="18 位统一社会信用代码（或 15、20 位旧版识别号），请设置为文本格式",
            example=_example_uscc(),
        ),
        _column(T, "name", text(200), required=True, example="示范精密机械有限公司"),
        TemplateColumn(
            "branch_id",
            _vn(T, "branch"),
            parse_branch,
            required=True,
            aliases=("主管税务所（科、分局）",),
            hint="机构编码或机构全称",
        ),
        _column(
            T,
            "industry_code",
            parse_industry,
            required=True,
            text=True,
            hint="GB/T 4754-2017 国民经济行业分类代码，如 C3411",
            example="C3411",
        ),
        _date_column(T, "registered_on", dt.date(2015, 3, 1), required=True, aliases=("税务登记日期",)),
        _date_column(
            T,
            "general_taxpayer_since",
            dt.date(2015, 6, 1),
            aliases=("一般纳税人认定日期",),
            hint="YYYY-MM-DD；小规模纳税人留空",
        ),
        _column(
            T,
            "filing_frequency",
            choice(
                T.FilingFrequency.choices,
                {"按月": "monthly", "月": "monthly", "按季": "quarterly", "季": "quarterly", "按季度申报": "quarterly"},
            ),
            blank=T.FilingFrequency.MONTHLY,
            hint="按月申报 或 按季申报；留空为按月",
            example="按月申报",
        ),
        _column(
            T,
            "status",
            choice(T.Status.choices, {"非正常": "abnormal", "已注销": "deregistered", "正常户": "normal"}),
            blank=T.Status.NORMAL,
            aliases=("纳税人状态",),
            hint="正常、非正常户、注销；留空为正常",
            example="正常",
        ),
        *_contact_columns("legal_rep", "张三", "13800138000"),
        *_contact_columns("finance_contact", "李四", "13912345678"),
        *_contact_columns("tax_handler", "王五", "13700137000"),
        _column(
            T,
            "size",
            choice(EnterpriseSize.choices, {f"{label}企业": value for value, label in EnterpriseSize.choices}),
            hint="微型、小型、中型、大型",
            example="小型",
        ),
        _column(
            T,
            "size_industry",
            choice(SizeIndustry.choices),
            hint="工信部联企业〔2011〕300号的行业，如 工业",
            example="工业",
        ),
        _column(T, "employees", integer(0, 10_000_000), blank=None, hint="人", example=85),
        _money_column(T, "prev_year_vat_sales", blank=None, example=Decimal("12000000.00")),
        _column(T, "prev_year_months_operated", integer(0, 12), blank=None, hint="0–12", example=12),
        _money_column(T, "total_assets_prev_year_end", blank=None, example=Decimal("30000000.00")),
        _yes_no_column(T, "is_export_enterprise"),
        _yes_no_column(T, "is_key_taxpayer"),
    )


def _check_taxpayer_row(row: CheckedRow, ctx: ImportContext) -> None:
    since, registered = row.values.get("general_taxpayer_since"), row.values.get("registered_on")
    if not row.errors and since and registered and since < registered:
        row.fail("general_taxpayer_since", f"{since:%Y-%m-%d}", f"早于登记日期（{registered:%Y-%m-%d}），请核对。")


def _taxpayer_ref_column() -> TemplateColumn:
    return TemplateColumn(
        "taxpayer_id",
        _vn(Taxpayer, "identifier"),
        parse_taxpayer_ref,
        required=True,
        text=True,
        hint="系统中已有的纳税人，请设置为文本格式",
        example=_example_uscc(),
    )


def _return_columns() -> tuple[TemplateColumn, ...]:
    V = VatReturn
    examples = {
        "sales_total": Decimal("10000000.00"),
        "output_tax": Decimal("1300000.00"),
        "input_special_invoice": Decimal("1500000.00"),
        "end_credit": Decimal("200000.00"),
    }
    return (
        _taxpayer_ref_column(),
        _column(
            V,
            "period",
            parse_period,
            required=True,
            text=True,
            aliases=("税款所属期",),
            hint=f"YYYY-MM，如 2025-10；{EARLIEST_PERIOD} 起，且早于本月；按季申报填季度最后一个月",
            example="2025-10",
        ),
        _date_column(V, "filed_on", dt.date(2025, 11, 14)),
        *(_money_column(V, name, example=examples.get(name, Decimal("0.00"))) for name in RETURN_AMOUNT_FIELDS),
        _column(
            V,
            "sales_by_industry",
            parse_sales_by_industry,
            blank={},
            text=True,
            hint="可选：行业代码=金额，多个用分号分隔，如 C3411=6000000.00;F5123=4000000.00",
            example="C3411=6000000.00;F5123=4000000.00",
        ),
    )


def _check_return_row(row: CheckedRow, ctx: ImportContext) -> None:
    period = row.values.get("period")
    if row.errors or not period or period.is_quarter_end:
        return
    ref = ctx.taxpayers_by_id.get(row.values.get("taxpayer_id"))
    if ref and ref.filing_frequency == Taxpayer.FilingFrequency.QUARTERLY:
        row.fail("period", str(period), "该纳税人按季申报，所属期应为季度最后一个月（03、06、09、12 月）。")


def _compliance_columns() -> tuple[TemplateColumn, ...]:
    C = ComplianceRecord
    return (
        _taxpayer_ref_column(),
        _column(
            C,
            "kind",
            choice(C.Kind.choices),
            required=True,
            aliases=("记录类型",),
            hint="、".join(str(label) for _, label in C.Kind.choices),
            example=str(C.Kind.EVASION_PENALTY.label),
        ),
        _date_column(C, "occurred_on", dt.date(2024, 6, 1), required=True),
        _column(
            C,
            "document_number",
            text(100),
            required=True,
            text=True,
            aliases=("文书编号", "决定书文号"),
            hint="处理决定书等文书的文号",
            example="税稽罚〔2024〕12号",
        ),
        _money_column(C, "amount", blank=None, example=Decimal("50000.00")),
        _column(C, "note", text(500), example=""),
    )


def _period_column(model, hint: str) -> TemplateColumn:
    return _column(
        model,
        "period",
        parse_period,
        required=True,
        text=True,
        aliases=("税款所属期",),
        hint=f"YYYY-MM，如 2025-10；{EARLIEST_PERIOD} 起，且早于本月；{hint}",
        example="2025-10",
    )


def _invoice_columns() -> tuple[TemplateColumn, ...]:
    I = InvoiceSummary  # noqa: E741 - the model, as T, V and C above
    return (
        _taxpayer_ref_column(),
        _period_column(I, "取得发票的月份"),
        _money_column(I, "input_amount", example=Decimal("11538461.54")),
        _money_column(I, "input_tax", example=Decimal("1500000.00")),
        _money_column(I, "abnormal_voucher_input_tax", example=Decimal("0.00")),
        _money_column(I, "lost_control_input_tax", example=Decimal("0.00")),
    )


def _check_invoice_row(row: CheckedRow, ctx: ImportContext) -> None:
    total = row.values.get("input_tax")
    if row.errors or total is None:
        return
    for name in ("abnormal_voucher_input_tax", "lost_control_input_tax"):
        part = row.values.get(name)
        if part is not None and part > total:
            row.fail(name, f"{part:.2f}", f"大于本月进项税额（{total:.2f}），请核对。")


def _supplier_status_column() -> TemplateColumn:
    extra = {"非正常": "abnormal", "走逃": "absconded", "失联": "absconded", "走逃失联": "absconded"}
    extra |= {"已注销": "deregistered", "正常户": "normal"}
    return _column(
        SupplierInput,
        "supplier_status",
        choice(SupplierStatus.choices, extra),
        blank=SupplierStatus.NORMAL,
        hint="正常、非正常户、走逃（失联）、注销；留空为正常",
        example="正常",
    )


def _supplier_columns() -> tuple[TemplateColumn, ...]:
    S = SupplierInput
    return (
        _taxpayer_ref_column(),
        _period_column(S, "取得发票的月份"),
        _column(
            S,
            "supplier_identifier",
            parse_identifier,
            required=True,
            text=True,
            aliases=("销方识别号", "销售方纳税人识别号"),
            hint="开票方（销售方）的纳税人识别号，请设置为文本格式",
            example=_example_uscc("91330106MA0000002"),
        ),
        _column(S, "supplier_name", text(200), required=True, aliases=("销方名称",), example="示范原料贸易有限公司"),
        _date_column(S, "supplier_registered_on", dt.date(2016, 4, 1), required=True),
        _supplier_status_column(),
        _date_column(
            S, "supplier_status_since", dt.date(2016, 4, 1), hint="YYYY-MM-DD；非正常户、走逃（失联）、注销必填"
        ),
        _money_column(S, "input_amount", example=Decimal("1000000.00")),
        _money_column(S, "input_tax", example=Decimal("130000.00")),
    )


def _check_supplier_row(row: CheckedRow, ctx: ImportContext) -> None:
    if row.errors:
        return
    status, since = row.values.get("supplier_status"), row.values.get("supplier_status_since")
    registered, period = row.values["supplier_registered_on"], row.values["period"]
    if status and status != SupplierStatus.NORMAL and since is None:
        label = SupplierStatus(status).label
        row.fail("supplier_status_since", "", f"供应商状态为“{label}”，须填写状态起始日期。")
    if since is not None and since < registered:
        row.fail("supplier_status_since", f"{since:%Y-%m-%d}", f"早于供应商登记日期（{registered:%Y-%m-%d}），请核对。")
    if registered > period.last_day:
        row.fail(
            "supplier_registered_on", f"{registered:%Y-%m-%d}", f"晚于所属期 {period}：登记前不能开具发票，请核对。"
        )


def _spec(
    kind, model, columns, key_attrs: tuple[str, ...], duplicate: str, check_row=None, duplicate_column: str = ""
) -> ImportSpec:
    sheet = SheetSpec(
        columns=columns,
        ignored=IGNORED_HEADERS,
        not_found_hint="，请使用导入模板。",
        missing_hint="，请使用导入模板的表头。",
        unique=(Unique(key_attrs, duplicate + "，同一文件中不能重复。", duplicate_column),),
        check_row=check_row,
    )
    return ImportSpec(kind, str(kind.label), model, sheet, key_attrs)


def _build_specs() -> dict[str, ImportSpec]:
    kinds = ImportJob.Kind
    return {
        kinds.TAXPAYERS: _spec(
            kinds.TAXPAYERS,
            Taxpayer,
            _taxpayer_columns(),
            ("identifier",),
            "与第 {row} 行的纳税人识别号重复",
            _check_taxpayer_row,
        ),
        kinds.RETURNS: _spec(
            kinds.RETURNS,
            VatReturn,
            _return_columns(),
            ("taxpayer_id", "period"),
            "与第 {row} 行是同一纳税人的同一所属期",
            _check_return_row,
        ),
        kinds.COMPLIANCE: _spec(
            kinds.COMPLIANCE,
            ComplianceRecord,
            _compliance_columns(),
            ("taxpayer_id", "kind", "document_number"),
            "与第 {row} 行是同一纳税人、同一类型的同一文书号",
        ),
        kinds.INVOICES: _spec(
            kinds.INVOICES,
            InvoiceSummary,
            _invoice_columns(),
            ("taxpayer_id", "period"),
            "与第 {row} 行是同一纳税人的同一所属期",
            _check_invoice_row,
        ),
        kinds.SUPPLIER_INPUTS: _spec(
            kinds.SUPPLIER_INPUTS,
            SupplierInput,
            _supplier_columns(),
            ("taxpayer_id", "period", "supplier_identifier"),
            "与第 {row} 行是同一纳税人、同一所属期的同一供应商",
            _check_supplier_row,
            duplicate_column="supplier_identifier",
        ),
    }


SPECS: dict[str, ImportSpec] = _build_specs()


def get_spec(kind: str) -> ImportSpec:
    try:
        return SPECS[kind]
    except KeyError as exc:
        raise FileFormatError(f"未知的导入类型“{kind}”。") from exc
