"""The columns of the ratings and events files, and reading a file into checked rows.

Ratings (one row per taxpayer, evaluation year and effective date; a repair, 复核 or 复评 is a further row):
纳税人识别号, 评价年度, 信用级别, 评价得分 (optional; empty for a direct D or M), 生效日期, 评价方式 (optional:
评价, 修复, 复核, 复评; empty means 评价), 备注.

Events (one row per taxpayer, indicator, tax and record date): 纳税人识别号, 指标代码 (six digits, or the
indicator's name: the bank-account rows, which have no official code read, are named), 记录日期, 税（费）种,
所属期, 涉及税（费）款, 纠正日期, 首违不罚 (是/否), 备注.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from core.cells import (
    Cell,
    CellError,
    ReadContext,
    boolean,
    choice,
    decimal_cell,
    integer,
    money,
    past_date,
    period_cell,
)
from core.cells import text as text_of
from core.spreadsheets import CheckedRow, Column, FileCheck, SheetSpec, read_sheet, sort_errors
from taxpayers.imports import parse_identifier, refuse_unknown_taxpayers
from taxpayers.models import CreditLevel

from ..models import RatingBasis
from ..rules.indicators import LOCAL_CODES, codes_by_name

MAX_ROWS = 50_000  # a county's file is a few thousand rows; larger ones are split
IGNORED = ("序号", "纳税人名称", "主管税务机关", "主管税务所(科、分局)")
IDENTIFIER_ALIASES = ("统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)")
FIRST_YEAR = 2014  # the rating system of 国家税务总局公告2014年第40号


@dataclass(frozen=True)
class Hint:
    """What the downloadable template says of a column."""

    hint: str
    example: object = ""


def _credit_sheet(columns: tuple[Column, ...], check_row) -> SheetSpec:
    """A credit file: the template's header, the columns other systems add ignored, the row limit."""
    return SheetSpec(
        columns=columns,
        marker="identifier",
        ignored=IGNORED,
        not_found_hint="，请使用导入模板。",
        missing_hint="，请使用导入模板的表头。",
        max_rows=MAX_ROWS,
        check_row=check_row,
    )


# --- cells ---------------------------------------------------------------------------------------------------


def _year(cell: Cell, context: ReadContext) -> int:
    """An evaluation year that is over: a year's rating is set in the April after it."""
    return integer(FIRST_YEAR, lambda ctx: ctx.today.year - 1)(cell, context)


def _score(cell: Cell, context=None) -> Decimal:
    value, _ = decimal_cell(cell)
    if not Decimal("0") <= value <= Decimal("100"):
        raise CellError("评价得分应在 0 到 100 之间。")
    rounded = value.quantize(Decimal("0.01"))
    if rounded != value:
        raise CellError("评价得分最多保留两位小数。")
    return rounded


_LEVEL = choice(
    CreditLevel.choices,
    {"A类": "A", "B类": "B", "M类": "M", "C类": "C", "D类": "D"},
    refusal="信用级别应为 A、B、M、C、D 之一。",
)
_BASIS = choice(
    RatingBasis.choices,
    {
        "年度评价": "evaluated",
        "信用修复": "repaired",
        "纳税信用修复": "repaired",
        "复核": "reviewed",
        "复评": "re_evaluated",
    },
    refusal="评价方式应为：评价、修复、复核、复评（留空为评价）。",
)
_INDICATOR_BY_NAME = {re.sub(r"\s+", "", name): code for name, code in codes_by_name().items()}


def _indicator(cell: Cell, context=None) -> str:
    """A six-digit indicator code (its text, so 010101 keeps its leading zero), a known indicator's name, or a
    local code of the rules (the bank-account rows have no official code read; files name them)."""
    value = re.sub(r"\s+", "", cell.text)
    if re.fullmatch(r"\d{6}", value):
        return value
    if value.upper() in LOCAL_CODES:
        return value.upper()
    if isinstance(cell.raw, int | float) and re.fullmatch(r"\d{5}", value):
        raise CellError("指标代码的开头 0 已丢失（Excel 数值格式），请将该列设置为文本后填写 6 位代码，如 010101。")
    if value in _INDICATOR_BY_NAME:
        return _INDICATOR_BY_NAME[value]
    raise CellError("指标代码应为 6 位数字（如 010101），或填写指标名称。")


# --- ratings -------------------------------------------------------------------------------------------------

_LOWEST_SCORE = {"A": Decimal("90"), "B": Decimal("70"), "M": Decimal("70"), "C": Decimal("40")}


def _check_rating(row: CheckedRow, context: ReadContext) -> None:
    """The effective date falls after the evaluation year; a score agrees with the level's band."""
    year, evaluated_on = row.values.get("year"), row.values.get("evaluated_on")
    level, score = row.values.get("level"), row.values.get("score")
    if year and evaluated_on and evaluated_on.year <= year:
        row.fail("evaluated_on", f"{evaluated_on:%Y-%m-%d}", f"生效日期应在评价年度（{year}年）结束之后。")
    if score is None or level not in _LOWEST_SCORE:
        return
    if score < _LOWEST_SCORE[level]:
        row.fail("score", f"{score}", f"{level}级的评价得分不能低于 {_LOWEST_SCORE[level]} 分，请核对级别或得分。")
    elif level == "C" and score >= 70:
        row.fail("score", f"{score}", "C级的评价得分应低于 70 分，请核对级别或得分。")


RATING_COLUMNS = (
    Column("identifier", "纳税人识别号", parse_identifier, True, aliases=IDENTIFIER_ALIASES, text=True),
    Column("year", "评价年度", _year, True, aliases=("信用评价年度", "年度")),
    Column("level", "信用级别", _LEVEL, True, aliases=("纳税信用级别", "评价结果", "信用等级")),
    Column("score", "评价得分", _score, blank=None, aliases=("得分", "评价分数", "信用得分")),
    Column("evaluated_on", "生效日期", past_date, True, aliases=("评价日期", "评定日期", "确定日期")),
    Column("basis", "评价方式", _BASIS, blank=RatingBasis.EVALUATED, aliases=("评价类型", "结果来源")),
    Column("note", "备注", text_of(200)),
)
RATING_HINTS = {
    "identifier": Hint("18 位统一社会信用代码，请设置为文本格式", "91330106MA00000010"),
    "year": Hint("如 2025；须是已结束的年度", 2025),
    "level": Hint("A、B、M、C、D", "B"),
    "score": Hint("0–100，最多两位小数；直接判级和 M 级可留空", Decimal("85.00")),
    "evaluated_on": Hint("评价结果确定，或修复、复核、复评决定之日（YYYY-MM-DD）", dt.date(2026, 4, 20)),
    "basis": Hint("评价、修复、复核、复评；留空为评价", "评价"),
    "note": Hint("可选，最多 200 字", ""),
}
RATING_SPEC = _credit_sheet(RATING_COLUMNS, _check_rating)


# --- events --------------------------------------------------------------------------------------------------


def _check_event(row: CheckedRow, context: ReadContext) -> None:
    recorded_on, corrected_on = row.values.get("recorded_on"), row.values.get("corrected_on")
    if recorded_on and corrected_on and corrected_on < recorded_on:
        row.fail(
            "corrected_on", f"{corrected_on:%Y-%m-%d}", f"纠正日期早于记录日期（{recorded_on:%Y-%m-%d}），请核对。"
        )


EVENT_COLUMNS = (
    Column("identifier", "纳税人识别号", parse_identifier, True, aliases=IDENTIFIER_ALIASES, text=True),
    Column("indicator", "指标代码", _indicator, True, aliases=("失信指标代码", "评价指标代码", "指标"), text=True),
    Column("recorded_on", "记录日期", past_date, True, aliases=("失信记录日期", "列入日期", "发生日期")),
    Column("tax", "税（费）种", text_of(30), aliases=("税种", "征收项目", "税费种")),
    Column("period", "所属期", period_cell, blank=None, aliases=("税款所属期",), text=True),
    Column("amount", "涉及税（费）款", money, blank=None, aliases=("涉及税款", "税款", "金额")),
    Column("corrected_on", "纠正日期", past_date, blank=None, aliases=("改正日期", "补办日期")),
    Column("no_penalty", "首违不罚", boolean, blank=False, aliases=("是否首违不罚",)),
    Column("note", "备注", text_of(200)),
)
EVENT_HINTS = {
    "identifier": Hint("18 位统一社会信用代码，请设置为文本格式", "91330106MA00000010"),
    "indicator": Hint(
        "6 位代码，请设置为文本格式：010101 逾期申报、010103 逾期报送财务报表、010501 未按时报送财务会计制度等；"
        "银行账户类指标填写指标名称，如 银行账户设置数大于经营主体向税务机关提供数",
        "010103",
    ),
    "recorded_on": Hint("列入失信记录之日（YYYY-MM-DD）", dt.date(2026, 5, 1)),
    "tax": Hint("可选，如 增值税、企业所得税", "企业所得税"),
    "period": Hint("可选，YYYY-MM", "2026-03"),
    "amount": Hint("可选，单位：元", Decimal("0.00")),
    "corrected_on": Hint("可选，补办或纠正之日；空表示尚未纠正", dt.date(2026, 5, 12)),
    "no_penalty": Hint("是 或 否；留空为否", "否"),
    "note": Hint("可选，最多 200 字", ""),
}
EVENT_SPEC = _credit_sheet(EVENT_COLUMNS, _check_event)


# --- reading -------------------------------------------------------------------------------------------------


RATING_KEY = ("identifier", "year", "evaluated_on")
RATING_REPEAT = "与第 {row} 行是同一纳税人、同一评价年度、同一生效日期的结果，同一文件中不能重复。"
EVENT_KEY = ("identifier", "indicator", "tax", "recorded_on")
EVENT_REPEAT = "与第 {row} 行是同一纳税人、同一指标、同一税种、同一记录日期的记录，同一文件中不能重复。"


def _refuse_repeats(rows: list[CheckedRow], key: tuple[str, ...], reason: str) -> None:
    """A row repeating an earlier row's natural key is refused (an empty 税种 is part of the key too, which the
    reader's own ``Unique`` would skip)."""
    seen: dict[tuple, int] = {}
    for row in rows:
        first = seen.setdefault(tuple(row.values.get(attr) for attr in key), row.row)
        if first != row.row:
            row.fail(key[0], row.values["identifier"], reason.format(row=first))


def _read(fh, filename: str, spec: SheetSpec, key: tuple[str, ...], repeat: str, *, today: dt.date) -> FileCheck[dict]:
    sheet = read_sheet(fh, filename, spec, context=ReadContext(today))
    _refuse_repeats(sheet.rows, key, repeat)
    known = refuse_unknown_taxpayers([row for row in sheet.rows if not row.errors])
    rows = [dict(row.values, row=row.row, taxpayer_id=known[row.values["identifier"]]) for row in sheet.settle()]
    sort_errors(sheet.errors)
    return FileCheck.of(sheet, rows)


def read_ratings(fh, filename: str, *, today: dt.date) -> FileCheck[dict]:
    """Check every row of a ratings file (form, band, repeats, known taxpayers); writes nothing."""
    return _read(fh, filename, RATING_SPEC, RATING_KEY, RATING_REPEAT, today=today)


def read_events(fh, filename: str, *, today: dt.date) -> FileCheck[dict]:
    """Check every row of an events file (form, dates, repeats, known taxpayers); writes nothing."""
    return _read(fh, filename, EVENT_SPEC, EVENT_KEY, EVENT_REPEAT, today=today)


FLAG_HINTS = {
    "identifier": Hint("18 位统一社会信用代码，请设置为文本格式", "91330106MA00000010"),
    "is_specialized_sme": Hint("是 或 否；留空为否；整列不存在时保持原值", "是"),
    "is_innovative_sme": Hint("是 或 否；留空为否；整列不存在时保持原值", "否"),
}
