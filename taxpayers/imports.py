"""Reading and checking the files the core tax system (金三) exports: taxpayers, VAT returns, compliance records.

This module writes nothing. It turns an xlsx or csv file into checked rows, so that
``services`` can apply a file only when every row of it is right (all or nothing).
Every problem becomes a ``RowError`` — the spreadsheet row number, the header as the
file spells it, the value and a Chinese reason — so the officer can fix the file in
Excel and upload it again.

Every cell is read as text: Excel and pandas turn 18-digit identifiers and mobile
numbers into floating-point numbers and silently drop digits (9.14403E+17), so a
number cell in an identifier or phone column is refused unless it is still exact.
Column headers come from the models' ``verbose_name`` so the screens, the templates
and the import agree.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple
from xml.etree.ElementTree import ParseError

import openpyxl
import xlsxwriter
from django.core.exceptions import ValidationError
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from accounts.models import Branch
from core.cells import CONTROL, Cell, CellError
from core.periods import Period, PeriodError
from core.spreadsheets import EXCERPT_CHARS, FileFormatError, RowError, excerpt  # noqa: F401 - used by callers

from .models import (
    RETURN_AMOUNT_FIELDS,
    ComplianceRecord,
    CreditLevel,
    EnterpriseSize,
    ImportJob,
    SizeIndustry,
    Taxpayer,
    VatReturn,
)
from .validators import uscc_check_char, validate_industry_code, validate_mobile, validate_taxpayer_id

# The refund policy starts with the 2019 reform; older returns are never needed and usually a typo.
EARLIEST_PERIOD = Period(2019, 1)
# Rows are checked and written in chunks: one query per chunk for the taxpayers it names.
CHUNK_ROWS = 1000
# A file with a wrong column can produce an error per row; the job keeps the first ones.
MAX_STORED_ERRORS = 1000
# The header row may sit below a title row or two in the core system's exports.
HEADER_SEARCH_ROWS = 10
# Distinct cell texts remembered per column while checking (see ImportFile._check_row).
MEMO_SIZE = 50_000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ALLOWED_EXTENSIONS = (".xlsx", ".csv")
# Columns the core system's exports carry that an import of that kind does not need.
IGNORED_HEADERS = {"序号", "纳税人名称"}

_CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 14  # MoneyField: 16 digits, 2 of them decimals


# What reading a damaged workbook's rows raises (the XML parser, the zip member, a bad cell value).
_BROKEN_WORKBOOK = (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, IndexError)


_CONTROL = CONTROL


class TaxpayerRef(NamedTuple):
    id: int
    filing_frequency: str


# --- context: what a check needs from the database, fetched a chunk at a time ----------------------------------


class ImportContext:
    """Lookups shared by the rows of one file: branches, and taxpayers fetched chunk by chunk."""

    def __init__(self, *, today: dt.date):
        self.today = today
        self.current_period = Period.of(today)
        self._branches: tuple[dict, dict] | None = None
        self.taxpayers: dict[str, TaxpayerRef | None] = {}
        self.taxpayers_by_id: dict[int, TaxpayerRef] = {}

    def branch_maps(self) -> tuple[dict[str, Branch], dict[str, list[Branch]]]:
        if self._branches is None:
            by_code: dict[str, Branch] = {}
            by_name: dict[str, list[Branch]] = {}
            for branch in Branch.objects.all():
                by_code[branch.code.upper()] = branch
                by_name.setdefault(branch.name, []).append(branch)
            self._branches = (by_code, by_name)
        return self._branches

    def prefetch_taxpayers(self, identifiers) -> None:
        wanted = {code for code in identifiers if code and code not in self.taxpayers}
        if not wanted:
            return
        for ref_id, code, frequency in Taxpayer.objects.filter(identifier__in=wanted).values_list(
            "id", "identifier", "filing_frequency"
        ):
            self.taxpayers[code] = self.taxpayers_by_id[ref_id] = TaxpayerRef(ref_id, frequency)
            wanted.discard(code)
        for code in wanted:
            self.taxpayers[code] = None


# --- cell parsers: (cell, context) -> value, or raise CellError ------------------------------------------------


def _validation_reason(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else "格式不正确。"


def _looks_numeric(raw) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


def _strip_text_markers(text: str) -> str:
    """Undo the tricks people use to keep Excel from turning digits into numbers: '9144… and ="9144…"."""
    if text.startswith("'"):
        text = text[1:].strip()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1].strip()
    return text


def text_cell(cell: Cell) -> str:
    """The text of a column that must be text (identifiers, phones): a number cell must still be exact."""
    raw = cell.raw
    if _looks_numeric(raw) and (
        (isinstance(raw, float) and (not raw.is_integer() or abs(raw) >= 1e15))
        or (isinstance(raw, int) and abs(raw) >= 10**15)
    ):
        raise CellError(
            "该单元格是数值格式，长数字已被 Excel 截断（如 9.14403E+17）。请将整列设置为“文本”格式后重新录入。"
        )
    return _strip_text_markers(cell.text)


def parse_identifier(cell: Cell, ctx: ImportContext) -> str:
    try:
        return validate_taxpayer_id(text_cell(cell))
    except ValidationError as exc:
        raise CellError(_validation_reason(exc)) from exc


def parse_taxpayer_ref(cell: Cell, ctx: ImportContext) -> int:
    code = parse_identifier(cell, ctx)
    ctx.prefetch_taxpayers([code])  # normally already fetched for the whole chunk
    ref = ctx.taxpayers.get(code)
    if ref is None:
        raise CellError(f"纳税人识别号“{code}”在系统中不存在，请先导入该纳税人的登记信息。")
    return ref.id


def parse_mobile(cell: Cell, ctx: ImportContext) -> str:
    try:
        return validate_mobile(text_cell(cell))
    except ValidationError as exc:
        raise CellError(_validation_reason(exc)) from exc


def parse_industry(cell: Cell, ctx: ImportContext) -> str:
    try:
        return validate_industry_code(text_cell(cell))
    except ValidationError as exc:
        raise CellError(_validation_reason(exc)) from exc


def _text_parser(max_length: int) -> Callable[[Cell, ImportContext], str]:
    def parse(cell: Cell, ctx: ImportContext) -> str:
        text = _strip_text_markers(cell.text)
        if _CONTROL.search(text):
            raise CellError("含有不可见的控制字符，请删除后重新导入。")
        if len(text) > max_length:
            raise CellError(f"内容过长：最多 {max_length} 个字符，实际 {len(text)} 个。")
        return text

    return parse


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _to_date(cell: Cell) -> dt.date:
    raw = cell.raw
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if _looks_numeric(raw) and 20000 <= raw <= 80000:  # an Excel serial day number (1954–2119)
        return from_excel(raw).date()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cell.text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError as exc:
                raise CellError("日期不存在，请核对年、月、日。") from exc
    raise CellError("日期格式不正确，应为 YYYY-MM-DD（如 2024-05-31）。")


def parse_past_date(cell: Cell, ctx: ImportContext) -> dt.date:
    value = _to_date(cell)
    if value > ctx.today:
        raise CellError(f"日期晚于今天（{ctx.today:%Y-%m-%d}），不能是将来的日期。")
    if value.year < 1949:
        raise CellError("日期早于 1949 年，请核对。")
    return value


def parse_period(cell: Cell, ctx: ImportContext) -> Period:
    raw = cell.raw
    if isinstance(raw, (dt.date, dt.datetime)):
        period = Period.of(raw)
    elif isinstance(raw, float):
        # 2024.10 typed into a number cell arrives as 2024.1: refuse rather than guess the month.
        raise CellError("所属期是数值格式，月份可能已丢失（2024.10 会变成 2024.1）。请将该列设置为文本，填写 YYYY-MM。")
    else:
        try:
            period = Period.typed(cell.text)
        except PeriodError as exc:
            raise CellError(str(exc)) from None
    if period < EARLIEST_PERIOD:
        raise CellError(f"所属期早于 {EARLIEST_PERIOD}：留抵退税只需要 2019 年以来的申报表，请核对。")
    if period >= ctx.current_period:
        raise CellError(f"所属期尚未结束（今天是 {ctx.today:%Y-%m-%d}），不能导入当期或将来所属期的申报表。")
    return period


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_NUMBER_NOISE = re.compile(r"[,，\s¥￥]|元$")


def _decimal_text(cell: Cell) -> tuple[Decimal, bool]:
    """The cell as a Decimal, and whether it came from a floating-point number cell."""
    text = cell.text
    if not _NUMBER.fullmatch(text):
        text = _NUMBER_NOISE.sub("", text)  # 1,234,567.89 元
        if not _NUMBER.fullmatch(text):
            raise CellError("不是有效的数字。")
    try:
        return Decimal(text), isinstance(cell.raw, float)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already excludes it
        raise CellError("不是有效的数字。") from exc


def parse_money(cell: Cell, ctx: ImportContext) -> Decimal:
    value, from_float = _decimal_text(cell)
    if value < 0:
        raise CellError("金额不能为负数。")
    if value >= _MONEY_LIMIT:  # before quantize: beyond 28 digits it raises instead of rounding
        raise CellError("金额过大，请确认单位是“元”。")
    rounded = value.quantize(_CENT)
    # A formula in Excel leaves 0.30000000000000004; a typed third decimal is a mistake to report.
    if rounded != value and not (from_float and abs(rounded - value) < Decimal("0.000001")):
        raise CellError("金额最多保留两位小数（单位：元）。")
    if rounded >= _MONEY_LIMIT:
        raise CellError("金额过大，请确认单位是“元”。")
    return rounded


def _int_parser(minimum: int, maximum: int | Callable[[ImportContext], int]) -> Callable[[Cell, ImportContext], int]:
    def parse(cell: Cell, ctx: ImportContext) -> int:
        value, _ = _decimal_text(cell)
        if value != value.to_integral_value():
            raise CellError("应为整数。")
        upper = maximum(ctx) if callable(maximum) else maximum
        if not minimum <= value <= upper:
            raise CellError(f"应在 {minimum} 到 {upper} 之间。")
        return int(value)

    return parse


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "n", "no", "false", "0", "×"}


def parse_bool(cell: Cell, ctx: ImportContext) -> bool:
    text = cell.text.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("应填写“是”或“否”。")


def _choice_key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").lower()


def _choice_parser(choices, extra: dict[str, str] | None = None) -> Callable[[Cell, ImportContext], str]:
    """Accept the stored value, the Chinese label, or one of the usual short forms."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[_choice_key(value)] = value
        lookup[_choice_key(str(label))] = value
    for alias, value in (extra or {}).items():
        lookup[_choice_key(alias)] = value
    allowed = "、".join(str(label) for _, label in choices)

    def parse(cell: Cell, ctx: ImportContext) -> str:
        value = lookup.get(_choice_key(cell.text))
        if value is None:
            raise CellError(f"不是可选的值，应为：{allowed}。")
        return value

    return parse


def parse_branch(cell: Cell, ctx: ImportContext) -> int:
    by_code, by_name = ctx.branch_maps()
    text = cell.text
    branch = by_code.get(text.upper())
    if branch is None:
        candidates = by_name.get(text, [])
        if len(candidates) > 1:
            raise CellError("有多个机构同名，请改填机构编码。")
        branch = candidates[0] if candidates else None
    if branch is None:
        raise CellError("系统中没有这个主管税务机关，请填写机构编码或机构全称（见系统管理中的机构列表）。")
    if branch.kind == Branch.Kind.SECTION:
        raise CellError(f"“{branch.name}”是股室，不能作为主管税务机关，请填写税务分局或税务局。")
    return branch.pk


def parse_sales_by_industry(cell: Cell, ctx: ImportContext) -> dict[str, str]:
    """``C3411=6000000.00;F5123=4000000.00`` → ``{"C3411": "6000000.00", "F5123": "4000000.00"}``."""
    result: dict[str, str] = {}
    for part in re.split(r"[;；\n]+", cell.text):
        part = part.strip()
        if not part:
            continue
        pieces = re.split(r"[=:：]", part, maxsplit=1)
        if len(pieces) != 2:
            raise CellError(
                f"“{part}”格式不正确，应为“行业代码=金额”，多个之间用分号分隔，如 C3411=6000000.00;F5123=4000000.00。"
            )
        try:
            code = validate_industry_code(pieces[0].strip())
        except ValidationError as exc:
            raise CellError(_validation_reason(exc)) from exc
        try:
            amount = parse_money(Cell(pieces[1].strip(), pieces[1]), ctx)
        except CellError as exc:
            raise CellError(f"行业 {code} 的金额：{exc}") from exc
        if code in result:
            raise CellError(f"行业代码 {code} 出现了两次。")
        result[code] = f"{amount:.2f}"
    return result


# --- column specs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    attr: str  # the model attribute the value goes to (``branch_id`` for a foreign key)
    header: str
    parse: Callable[[Cell, ImportContext], Any]
    required: bool = False  # the column must exist and every cell must be filled
    blank: Any = ""  # the value of an empty cell in an optional column
    aliases: tuple[str, ...] = ()
    text: bool = False  # identifiers, phones, codes: formatted as text in the template
    hint: str = ""  # what to write; shown in the template
    example: Any = ""
    cell_format: str = ""  # "date" or "money" in the template

    def header_keys(self) -> set[str]:
        return {normalise_header(self.header), *(normalise_header(alias) for alias in self.aliases)}


def _vn(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _example_uscc() -> str:
    body = "91330106MA0000001"
    return body + uscc_check_char(body)


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    label: str
    model: type
    columns: tuple[Column, ...]
    key_attrs: tuple[str, ...]
    duplicate_reason: str
    check_row: Callable[[dict, dict[str, str], ImportContext], list[tuple[str, str, str]]] = field(
        default=lambda values, headers, ctx: []
    )


def _money_column(model, name: str, *, blank: Any = Decimal("0.00"), example: Any = "") -> Column:
    return Column(
        name,
        _vn(model, name),
        parse_money,
        blank=blank,
        hint="单位：元，最多两位小数，不能为负数",
        example=example,
        cell_format="money",
    )


def _taxpayer_columns() -> tuple[Column, ...]:
    T = Taxpayer
    mobile_hint = "11 位手机号码，请设置为文本格式"
    return (
        Column(
            "identifier",
            _vn(T, "identifier"),
            parse_identifier,
            required=True,
            text=True,
            hint="18 位统一社会信用代码（或 15、20 位旧版识别号），请设置为文本格式",
            example=_example_uscc(),
        ),
        Column("name", _vn(T, "name"), _text_parser(200), required=True, example="示范精密机械有限公司"),
        Column(
            "branch_id",
            _vn(T, "branch"),
            parse_branch,
            required=True,
            aliases=("主管税务所（科、分局）",),
            hint="机构编码或机构全称",
        ),
        Column(
            "industry_code",
            _vn(T, "industry_code"),
            parse_industry,
            required=True,
            text=True,
            hint="GB/T 4754-2017 国民经济行业分类代码，如 C3411",
            example="C3411",
        ),
        Column(
            "registered_on",
            _vn(T, "registered_on"),
            parse_past_date,
            required=True,
            aliases=("税务登记日期",),
            hint="YYYY-MM-DD",
            example=dt.date(2015, 3, 1),
            cell_format="date",
        ),
        Column(
            "general_taxpayer_since",
            _vn(T, "general_taxpayer_since"),
            parse_past_date,
            blank=None,
            aliases=("一般纳税人认定日期",),
            hint="YYYY-MM-DD；小规模纳税人留空",
            example=dt.date(2015, 6, 1),
            cell_format="date",
        ),
        Column(
            "filing_frequency",
            _vn(T, "filing_frequency"),
            _choice_parser(
                T.FilingFrequency.choices,
                {"按月": "monthly", "月": "monthly", "按季": "quarterly", "季": "quarterly", "按季度申报": "quarterly"},
            ),
            blank=T.FilingFrequency.MONTHLY,
            hint="按月申报 或 按季申报；留空为按月",
            example="按月申报",
        ),
        Column(
            "status",
            _vn(T, "status"),
            _choice_parser(T.Status.choices, {"非正常": "abnormal", "已注销": "deregistered", "正常户": "normal"}),
            blank=T.Status.NORMAL,
            aliases=("纳税人状态",),
            hint="正常、非正常户、注销；留空为正常",
            example="正常",
        ),
        Column("legal_rep_name", _vn(T, "legal_rep_name"), _text_parser(50), example="张三"),
        Column(
            "legal_rep_mobile",
            _vn(T, "legal_rep_mobile"),
            parse_mobile,
            text=True,
            hint=mobile_hint,
            example="13800138000",
        ),
        Column("finance_contact_name", _vn(T, "finance_contact_name"), _text_parser(50), example="李四"),
        Column(
            "finance_contact_mobile",
            _vn(T, "finance_contact_mobile"),
            parse_mobile,
            text=True,
            hint=mobile_hint,
            example="13912345678",
        ),
        Column("tax_handler_name", _vn(T, "tax_handler_name"), _text_parser(50), example="王五"),
        Column(
            "tax_handler_mobile",
            _vn(T, "tax_handler_mobile"),
            parse_mobile,
            text=True,
            hint=mobile_hint,
            example="13700137000",
        ),
        Column(
            "credit_level",
            _vn(T, "credit_level"),
            _choice_parser(CreditLevel.choices),
            hint="A、B、M、C、D",
            example="B",
        ),
        Column(
            "credit_year",
            _vn(T, "credit_year"),
            _int_parser(2014, lambda ctx: ctx.today.year),
            blank=None,
            hint="如 2025",
            example=2025,
        ),
        Column(
            "size",
            _vn(T, "size"),
            _choice_parser(EnterpriseSize.choices, {f"{label}企业": value for value, label in EnterpriseSize.choices}),
            hint="微型、小型、中型、大型",
            example="小型",
        ),
        Column(
            "size_industry",
            _vn(T, "size_industry"),
            _choice_parser(SizeIndustry.choices),
            hint="工信部联企业〔2011〕300号的行业，如 工业",
            example="工业",
        ),
        Column("employees", _vn(T, "employees"), _int_parser(0, 10_000_000), blank=None, hint="人", example=85),
        _money_column(T, "prev_year_vat_sales", blank=None, example=Decimal("12000000.00")),
        Column(
            "prev_year_months_operated",
            _vn(T, "prev_year_months_operated"),
            _int_parser(0, 12),
            blank=None,
            hint="0–12",
            example=12,
        ),
        _money_column(T, "total_assets_prev_year_end", blank=None, example=Decimal("30000000.00")),
        Column(
            "is_export_enterprise",
            f"{_vn(T, 'is_export_enterprise')}(是/否)",
            parse_bool,
            blank=False,
            hint="是 或 否；留空为否",
            example="否",
        ),
        Column(
            "is_key_taxpayer",
            f"{_vn(T, 'is_key_taxpayer')}(是/否)",
            parse_bool,
            blank=False,
            hint="是 或 否；留空为否",
            example="否",
        ),
    )


def _check_taxpayer_row(values: dict, headers: dict[str, str], ctx: ImportContext) -> list[tuple[str, str, str]]:
    since, registered = values.get("general_taxpayer_since"), values.get("registered_on")
    if since and registered and since < registered:
        return [("general_taxpayer_since", f"{since:%Y-%m-%d}", f"早于登记日期（{registered:%Y-%m-%d}），请核对。")]
    return []


def _taxpayer_ref_column() -> Column:
    return Column(
        "taxpayer_id",
        _vn(Taxpayer, "identifier"),
        parse_taxpayer_ref,
        required=True,
        text=True,
        hint="系统中已有的纳税人，请设置为文本格式",
        example=_example_uscc(),
    )


def _return_columns() -> tuple[Column, ...]:
    V = VatReturn
    examples = {
        "sales_total": Decimal("10000000.00"),
        "output_tax": Decimal("1300000.00"),
        "input_special_invoice": Decimal("1500000.00"),
        "end_credit": Decimal("200000.00"),
    }
    return (
        _taxpayer_ref_column(),
        Column(
            "period",
            _vn(V, "period"),
            parse_period,
            required=True,
            text=True,
            aliases=("税款所属期",),
            hint=f"YYYY-MM，如 2025-10；{EARLIEST_PERIOD} 起，且早于本月；按季申报填季度最后一个月",
            example="2025-10",
        ),
        Column(
            "filed_on",
            _vn(V, "filed_on"),
            parse_past_date,
            blank=None,
            hint="YYYY-MM-DD",
            example=dt.date(2025, 11, 14),
            cell_format="date",
        ),
        *(_money_column(V, name, example=examples.get(name, Decimal("0.00"))) for name in RETURN_AMOUNT_FIELDS),
        Column(
            "sales_by_industry",
            _vn(V, "sales_by_industry"),
            parse_sales_by_industry,
            blank={},
            text=True,
            hint="可选：行业代码=金额，多个用分号分隔，如 C3411=6000000.00;F5123=4000000.00",
            example="C3411=6000000.00;F5123=4000000.00",
        ),
    )


def _check_return_row(values: dict, headers: dict[str, str], ctx: ImportContext) -> list[tuple[str, str, str]]:
    period = values.get("period")
    if not period or period.is_quarter_end:
        return []
    ref = ctx.taxpayers_by_id.get(values.get("taxpayer_id"))
    if ref and ref.filing_frequency == Taxpayer.FilingFrequency.QUARTERLY:
        return [("period", str(period), "该纳税人按季申报，所属期应为季度最后一个月（03、06、09、12 月）。")]
    return []


def _compliance_columns() -> tuple[Column, ...]:
    C = ComplianceRecord
    return (
        _taxpayer_ref_column(),
        Column(
            "kind",
            _vn(C, "kind"),
            _choice_parser(C.Kind.choices),
            required=True,
            aliases=("记录类型",),
            hint="、".join(str(label) for _, label in C.Kind.choices),
            example=str(C.Kind.EVASION_PENALTY.label),
        ),
        Column(
            "occurred_on",
            _vn(C, "occurred_on"),
            parse_past_date,
            required=True,
            hint="YYYY-MM-DD",
            example=dt.date(2024, 6, 1),
            cell_format="date",
        ),
        Column(
            "document_number",
            _vn(C, "document_number"),
            _text_parser(100),
            required=True,
            text=True,
            aliases=("文书编号", "决定书文号"),
            hint="处理决定书等文书的文号",
            example="税稽罚〔2024〕12号",
        ),
        _money_column(C, "amount", blank=None, example=Decimal("50000.00")),
        Column("note", _vn(C, "note"), _text_parser(500), example=""),
    )


def _build_specs() -> dict[str, ImportSpec]:
    kinds = ImportJob.Kind
    return {
        kinds.TAXPAYERS: ImportSpec(
            kinds.TAXPAYERS,
            str(kinds.TAXPAYERS.label),
            Taxpayer,
            _taxpayer_columns(),
            ("identifier",),
            "与第 {row} 行的纳税人识别号重复",
            _check_taxpayer_row,
        ),
        kinds.RETURNS: ImportSpec(
            kinds.RETURNS,
            str(kinds.RETURNS.label),
            VatReturn,
            _return_columns(),
            ("taxpayer_id", "period"),
            "与第 {row} 行是同一纳税人的同一所属期",
            _check_return_row,
        ),
        kinds.COMPLIANCE: ImportSpec(
            kinds.COMPLIANCE,
            str(kinds.COMPLIANCE.label),
            ComplianceRecord,
            _compliance_columns(),
            ("taxpayer_id", "kind", "document_number"),
            "与第 {row} 行是同一纳税人、同一类型的同一文书号",
        ),
    }


SPECS: dict[str, ImportSpec] = _build_specs()


def get_spec(kind: str) -> ImportSpec:
    try:
        return SPECS[kind]
    except KeyError as exc:
        raise FileFormatError(f"未知的导入类型“{kind}”。") from exc


# --- reading files ------------------------------------------------------------------------------------------------


def normalise_header(text) -> str:
    """Headers compare without spaces, a leading required-star or a trailing hint like (元) or (是/否)."""
    value = re.sub(r"\s+", "", str(text or "")).replace("（", "(").replace("）", ")").strip("*")
    return re.sub(r"\([^()]*\)$", "", value)


def cell_text(raw) -> str:
    """Every cell as text, whatever type openpyxl gave it."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time(0) else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < 1e15:
            return str(int(raw))
        return format(Decimal(repr(raw)), "f")
    return str(raw).strip()


def _binary(fh):
    """The underlying binary file of a Django ``File`` (csv and TextIOWrapper need real file methods)."""
    inner = fh
    while hasattr(inner, "file") and inner.file is not None and inner.file is not inner:
        inner = inner.file
    return inner


def file_format(filename: str) -> str:
    ext = Path(filename).suffix.lower()
    if ext == ".xls":
        raise FileFormatError("不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 后再上传。")
    if ext not in ALLOWED_EXTENSIONS:
        raise FileFormatError("只支持 .xlsx 和 .csv 文件。")
    return ext[1:]


def _csv_encoding(fh) -> str:
    """UTF-8 with or without BOM, else GB18030 (what Excel in Chinese Windows saves as “CSV”)."""
    fh.seek(0)
    if fh.read(3) == codecs.BOM_UTF8:
        return "utf-8-sig"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fh.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _count_lines(fh) -> int:
    fh.seek(0)
    count, last = 0, b""
    while chunk := fh.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk
    return count + (1 if last and not last.endswith(b"\n") else 0)


class Formula(str):
    """A formula cell of an xlsx read with ``RowSource(formulas=True)``: the text is the formula itself.

    Excel keeps a formula's last computed value beside it, and that cache can be stale or empty (a voucher
    number read as "0"); a sheet whose figures must be exactly what the treasury wrote refuses formulas."""


class RowSource:
    """The rows of a file as ``(row_number, [raw cell, ...])``; ``estimated_rows`` for the progress bar.

    With ``formulas`` an xlsx formula cell comes as a ``Formula`` (its formula text) instead of its cached
    value, for the caller to refuse."""

    def __init__(self, fh, filename: str, *, formulas: bool = False):
        self.formulas = formulas
        self.fh = _binary(fh)
        self.format = file_format(filename)
        self.estimated_rows = 0
        if self.format == "csv":
            self.encoding = _csv_encoding(self.fh)
            self.estimated_rows = _count_lines(self.fh)

    def __iter__(self) -> Iterator[tuple[int, list]]:
        if self.format == "csv":
            return self._csv_rows()
        return self._xlsx_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        self.fh.seek(0)
        text = io.TextIOWrapper(self.fh, encoding=self.encoding, newline="")
        number = 0
        try:
            for number, row in enumerate(csv.reader(text), start=1):
                yield number, row
        except UnicodeDecodeError as exc:
            raise FileFormatError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件。") from exc
        except csv.Error as exc:
            # A field over the reader's limit, a NUL byte, an unclosed quote: the file is not a table.
            raise FileFormatError(
                f"CSV 文件第 {number + 1} 行格式有误（单元格过长、含有空字符或引号未闭合），"
                "请用 Excel 打开检查后另存为 CSV 或 .xlsx 再上传。"
            ) from exc
        finally:
            text.detach()  # leave the underlying file open for its owner

    def _xlsx_rows(self) -> Iterator[tuple[int, list]]:
        self.fh.seek(0)
        try:
            workbook = openpyxl.load_workbook(self.fh, read_only=True, data_only=not self.formulas)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise FileFormatError("文件不是有效的 .xlsx 工作簿，请用 Excel 打开后“另存为” .xlsx 再上传。") from exc
        number = 0
        try:
            sheet = workbook.worksheets[0]
            self.estimated_rows = sheet.max_row or 0
            sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read to the real end
            if self.formulas:
                for number, row in enumerate(sheet.iter_rows(), start=1):
                    yield number, [Formula(c.value) if c.data_type == "f" else c.value for c in row]
            else:
                for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, list(row)
        except _BROKEN_WORKBOOK as exc:
            # The zip opened but a sheet's XML is cut off or not XML: nothing of it may be applied.
            raise FileFormatError(
                f"工作簿内容已损坏（读到第 {number + 1} 行时出错），请用 Excel 打开后“另存为” .xlsx 再上传。"
            ) from exc
        finally:
            workbook.close()


# --- checking a whole file ------------------------------------------------------------------------------------------


@dataclass
class CheckedRow:
    row: int
    values: dict[str, Any]
    errors: list[RowError]
    identifier: str = ""  # the 纳税人识别号 as read, for messages


@dataclass
class FileCheck:
    """What ``check_file`` found; ``errors`` holds at most ``MAX_STORED_ERRORS`` of ``error_count``."""

    total_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class ImportFile:
    """One file of one kind: finds the header row, maps the columns, checks rows chunk by chunk."""

    def __init__(self, kind: str, fh, filename: str, *, today: dt.date):
        self.spec = get_spec(kind)
        self.source = RowSource(fh, filename)
        self.ctx = ImportContext(today=today)
        self.header_row = 0
        self.positions: dict[str, int] = {}  # attr -> column index
        self.headers: dict[str, str] = {}  # attr -> header as written in the file
        self.header_errors: list[RowError] = []
        self.warnings: list[str] = []
        self._present: list | None = None

    @property
    def estimated_rows(self) -> int:
        return max(0, self.source.estimated_rows - max(self.header_row, 1))

    def _map_header(self, number: int, row: list) -> None:
        self.header_row = number
        by_key = {key: column for column in self.spec.columns for key in column.header_keys()}
        unknown = []
        for index, raw in enumerate(row):
            header = cell_text(raw)
            if not header:
                continue
            column = by_key.get(normalise_header(header))
            if column is None:
                if normalise_header(header) not in IGNORED_HEADERS:
                    unknown.append(header)
                continue
            if column.attr in self.positions:
                self.header_errors.append(
                    RowError(number, header, header, f"列“{column.header}”出现了两次，请删除多余的一列。")
                )
                continue
            self.positions[column.attr] = index
            self.headers[column.attr] = header
        for column in self.spec.columns:
            if column.required and column.attr not in self.positions:
                self.header_errors.append(
                    RowError(number, column.header, "", f"缺少必填列“{column.header}”，请使用导入模板的表头。")
                )
        if unknown:
            self.warnings.append(f"以下列未识别，已忽略：{'、'.join(unknown)}")

    def chunks(self) -> Iterator[list[CheckedRow]]:
        """Checked data rows, ``CHUNK_ROWS`` at a time; header problems end the iteration early."""
        rows = iter(self.source)
        identifier_keys = self.spec.columns[0].header_keys()
        for number, row in rows:
            if any(normalise_header(cell_text(raw)) in identifier_keys for raw in row):
                self._map_header(number, row)
                break
            if number >= HEADER_SEARCH_ROWS:
                break
        if not self.header_row:
            first = self.spec.columns[0].header
            self.header_errors.append(
                RowError(1, first, "", f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有“{first}”列，请使用导入模板。")
            )
        if self.header_errors:
            return
        chunk: list[tuple[int, list]] = []
        for number, row in rows:
            if all(cell_text(raw) == "" for raw in row):
                continue
            chunk.append((number, row))
            if len(chunk) >= CHUNK_ROWS:
                yield self._check_chunk(chunk)
                chunk = []
        if chunk:
            yield self._check_chunk(chunk)

    def _check_chunk(self, chunk: list[tuple[int, list]]) -> list[CheckedRow]:
        if "taxpayer_id" in self.positions:
            index = self.positions["taxpayer_id"]
            codes = []
            for _, row in chunk:
                raw = row[index] if index < len(row) else None
                codes.append(re.sub(r"\s+", "", _strip_text_markers(cell_text(raw))).upper())
            self.ctx.prefetch_taxpayers(codes)
        return [self._check_row(number, row) for number, row in chunk]

    def _present_columns(self) -> list[tuple[Column, int, str, dict]]:
        if self._present is None:
            self._present = [
                (column, self.positions[column.attr], self.headers[column.attr], {})
                for column in self.spec.columns
                if column.attr in self.positions
            ]
        return self._present

    def _check_row(self, number: int, row: list) -> CheckedRow:
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        width = len(row)
        for column, index, header, memo in self._present_columns():
            raw = row[index] if index < width else None
            text = raw.strip() if isinstance(raw, str) else cell_text(raw)
            if text == "":
                if column.required:
                    errors.append(RowError(number, header, "", "必填项不能为空。"))
                else:
                    values[column.attr] = dict(column.blank) if isinstance(column.blank, dict) else column.blank
                continue
            # The same text parses the same way within one file (periods, identifiers, dates, codes repeat
            # on every row of a returns file), so text cells are parsed once per distinct value.
            outcome = memo.get(text) if isinstance(raw, str) else None
            if outcome is None:
                try:
                    outcome = (True, column.parse(Cell(text, raw), self.ctx))
                except CellError as exc:
                    outcome = (False, str(exc))
                if isinstance(raw, str):
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[text] = outcome
            if outcome[0]:
                value = outcome[1]
                values[column.attr] = dict(value) if isinstance(value, dict) else value  # never share a memo's dict
            else:
                shown = f"{raw:.6G}" if _looks_numeric(raw) and column.text else text
                errors.append(RowError(number, header, shown, outcome[1]))
        if not errors:
            for attr, value, reason in self.spec.check_row(values, self.headers, self.ctx):
                errors.append(RowError(number, self.headers.get(attr, attr), value, reason))
        index = self.positions[self.spec.columns[0].attr]
        identifier = _strip_text_markers(cell_text(row[index] if index < len(row) else None))
        return CheckedRow(number, values, errors, identifier)

    def key(self, values: dict) -> tuple:
        return tuple(values[attr] for attr in self.spec.key_attrs)


def check_file(
    kind: str, fh, filename: str, *, today: dt.date, progress: Callable[[int, int], None] | None = None
) -> FileCheck:
    """Check every row of the file without writing anything: types, identifiers, duplicates, references."""
    result = FileCheck()
    try:
        reader = ImportFile(kind, fh, filename, today=today)
        seen: dict[tuple, int] = {}
        for chunk in reader.chunks():
            for checked in chunk:
                result.total_rows += 1
                for error in checked.errors:
                    result.add(error)
                if checked.errors:
                    continue
                key = reader.key(checked.values)
                first = seen.setdefault(key, checked.row)
                if first != checked.row:
                    result.add(
                        RowError(
                            checked.row,
                            reader.headers[reader.spec.columns[0].attr],
                            checked.identifier,
                            reader.spec.duplicate_reason.format(row=first) + "，同一文件中不能重复。",
                        )
                    )
            if progress:
                progress(result.total_rows, max(reader.estimated_rows, result.total_rows))
        for error in reader.header_errors:
            result.add(error)
        result.warnings = reader.warnings
        if not reader.header_errors and result.total_rows == 0:
            result.add(RowError(reader.header_row + 1, "", "", "文件中没有数据行。"))
    except FileFormatError as exc:
        result.add(RowError(0, "", "", exc.message))
    return result


class RowsChangedError(Exception):
    """Rows that passed ``check_file`` fail when read again for writing (a taxpayer deleted meanwhile)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} rows no longer valid")
        self.errors = errors


def iter_valid_chunks(kind: str, fh, filename: str, *, today: dt.date) -> Iterator[list[CheckedRow]]:
    """The rows of a file that ``check_file`` accepted, chunk by chunk, for writing."""
    reader = ImportFile(kind, fh, filename, today=today)
    for chunk in reader.chunks():
        errors = [error for checked in chunk for error in checked.errors]
        if errors:
            raise RowsChangedError(errors)
        yield chunk
    if reader.header_errors:
        raise RowsChangedError(reader.header_errors)


# --- xlsx the user downloads ---------------------------------------------------------------------------------------


def build_template(kind: str, *, branch_example: str = "城东税务分局", today: dt.date | None = None) -> bytes:
    """An xlsx template: the headers, one example row, text format on identifier columns, and a sheet of notes."""
    spec = get_spec(kind)
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    header_fmt = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    required_fmt = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text_fmt = workbook.add_format({"num_format": "@"})
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = workbook.add_format({"num_format": "#,##0.00"})
    sheet = workbook.add_worksheet(spec.label)
    notes = workbook.add_worksheet("填写说明")
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(spec.columns):
        fmt = text_fmt if column.text else date_fmt if column.cell_format == "date" else None
        if column.cell_format == "money":
            fmt = money_fmt
        sheet.set_column(index, index, max(12, len(column.header) * 2 + 2), fmt)
        sheet.write_string(0, index, column.header, required_fmt if column.required else header_fmt)
        example = branch_example if column.attr == "branch_id" else column.example
        if column.attr == "period" and today is not None:  # last month: the latest period that can be filed
            example = f"{today.replace(day=1) - dt.timedelta(days=1):%Y-%m}"
        if column.attr == "filed_on" and today is not None:
            example = today.replace(day=1)
        if isinstance(example, dt.date):
            sheet.write_datetime(1, index, dt.datetime.combine(example, dt.time()), date_fmt)
        elif isinstance(example, (Decimal, int)) and not column.text:
            sheet.write_number(1, index, float(example), money_fmt if column.cell_format == "money" else None)
        elif example != "":
            sheet.write_string(1, index, str(example), text_fmt if column.text else None)
    bold = workbook.add_format({"bold": True})
    notes.set_column(0, 0, 28)
    notes.set_column(1, 1, 10)
    notes.set_column(2, 2, 80)
    notes.write_row(0, 0, ["列名", "是否必填", "填写要求"], bold)
    for index, column in enumerate(spec.columns, start=1):
        notes.write_row(index, 0, [column.header, "必填" if column.required else "可选", column.hint])
    last = len(spec.columns) + 2
    notes.write_string(last, 0, "说明", bold)
    for offset, line in enumerate(
        (
            "第 2 行是示例，导入前请删除或改为真实数据。",
            "红色表头为必填列；可选列整列不存在时，系统中已有的值保持不变；列存在而单元格为空表示清空。",
            "识别号、手机号码等长数字列请保持“文本”格式，否则 Excel 会截断数字。",
            "整个文件校验通过后才会写入；任何一行有误，全部不写入，并列出每个错误的行、列、值和原因。",
            "按识别号（申报表：识别号+所属期；合规记录：识别号+类型+文书号）更新，重复导入同一文件不会产生变化。",
        ),
        start=1,
    ):
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


def find_header_row(
    rows, *, known: dict[str, str], marker: str, ignored: set[str], not_found: RowError
) -> tuple[int, dict[str, int], dict[str, str], list[RowError], list[str]]:
    """The header row of a hand-made sheet: the first of its first ``HEADER_SEARCH_ROWS`` rows with the
    ``marker`` column (titles and notes above a table are common in exports passed around by hand).

    ``known`` maps normalised header texts to attribute names. Returns (row number, attr → column index,
    attr → header text, errors, warnings): a column given twice is an error, an unknown one a warning; when
    no row has the marker, row 0 and ``not_found``. Required columns are the caller's to check.
    """
    for number, row in rows:
        keys = [normalise_header(cell_text(raw)) for raw in row]
        if not any(known.get(key) == marker for key in keys):
            if number >= HEADER_SEARCH_ROWS:
                break
            continue
        positions: dict[str, int] = {}
        headers: dict[str, str] = {}
        errors: list[RowError] = []
        unknown: list[str] = []
        for index, key in enumerate(keys):
            if not key:
                continue
            attr, header = known.get(key), cell_text(row[index])
            if attr is None:
                if key not in ignored:
                    unknown.append(header)
                continue
            if attr in positions:
                errors.append(RowError(number, header, header, f"列“{header}”出现了两次，请删除多余的一列。"))
                continue
            positions[attr], headers[attr] = index, header
        warnings = [f"以下列未识别，已忽略：{'、'.join(unknown)}"] if unknown else []
        return number, positions, headers, errors, warnings
    return 0, {}, {}, [not_found], []


def taxpayer_ids_by_identifier(identifiers: list[str]) -> dict[str, int]:
    """identifier → id of the known taxpayers among ``identifiers`` (unscoped: a file names taxpayers of any
    branch, and its importer's permission is checked by the caller), 1,000 per query."""
    found: dict[str, int] = {}
    for start in range(0, len(identifiers), 1000):
        chunk = identifiers[start : start + 1000]
        found.update(Taxpayer.objects.filter(identifier__in=chunk).values_list("identifier", "id"))
    return found
