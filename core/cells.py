"""Spreadsheet cells: every cell as text, and the parsers that read one as a date, a month, an amount, a whole
number, a yes/no or a choice.

A parser has one shape, ``parse(cell, context) -> value``: ``cell`` is a ``Cell`` (its stripped text and what
the file gave), ``context`` whatever the reader was given (``ReadContext`` or a richer one; parsers that need no
date ignore it). A wrong cell raises ``CellError`` with the Chinese reason the officer reads beside its row and
column. Parsers that know a business (a taxpayer identifier, a branch) live with the import that declares them.

Excel and pandas turn 18-digit identifiers and mobile numbers into floating-point numbers and silently drop
digits (9.14403E+17), so ``text_cell`` refuses a number cell in a text column unless it is still exact.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from openpyxl.utils.datetime import from_excel

from .money import CENT, MONEY_LIMIT
from .periods import Period, PeriodError


class Cell(NamedTuple):
    text: str  # stripped text; "" when blank
    raw: Any  # what the file gave: str for csv, str/int/float/datetime/bool for xlsx


class CellError(Exception):
    """One cell is wrong; the text is the Chinese reason. ``shown`` replaces the cell's text in the report."""

    def __init__(self, reason: str, *, shown: str | None = None):
        super().__init__(reason)
        self.shown = shown


@dataclass(frozen=True)
class ReadContext:
    """What the generic parsers need to know of the moment of reading: today (no future dates, no open month)."""

    today: dt.date

    @property
    def current_period(self) -> Period:
        return Period.of(self.today)


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell_text(raw) -> str:
    """Every cell as text, whatever type openpyxl gave it: numbers without a spurious ``.0``, dates ISO."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0):
            return raw.date().isoformat()
        return raw.strftime("%Y-%m-%d %H:%M") if raw.second == raw.microsecond == 0 else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < 1e15:
            return str(int(raw))  # 13800138000.0: an 11-digit number is exact in a float
        return format(Decimal(repr(raw)).normalize(), "f")
    return str(raw).strip()


def looks_numeric(raw) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def strip_text_markers(text: str) -> str:
    """Undo the tricks people use to keep Excel from turning digits into numbers: '9144… and ="9144…"."""
    if text.startswith("'"):
        text = text[1:].strip()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1].strip()
    return text


def plain_text(cell: Cell, context=None) -> str:
    """The cell's text as it is (the default parser of a column)."""
    return cell.text


def text_cell(cell: Cell, context=None) -> str:
    """The text of a column that must be text (identifiers, phones): a number cell must still be exact."""
    raw = cell.raw
    if looks_numeric(raw) and (
        (isinstance(raw, float) and (not raw.is_integer() or abs(raw) >= 1e15))
        or (isinstance(raw, int) and abs(raw) >= 10**15)
    ):
        raise CellError(
            "该单元格是数值格式，长数字已被 Excel 截断（如 9.14403E+17）。请将整列设置为“文本”格式后重新录入。"
        )
    return strip_text_markers(cell.text)


def code(max_length: int, *, too_long: str = "") -> Callable[[Cell, Any], str]:
    """A number that must stay text (a document or voucher number): ``text_cell``, at most ``max_length``
    characters (``too_long`` replaces the reason that counts them)."""

    def parse(cell: Cell, context=None) -> str:
        value = text_cell(cell)
        if len(value) > max_length:
            raise CellError(too_long or f"内容过长：最多 {max_length} 个字符，实际 {len(value)} 个。")
        return value

    return parse


def text(max_length: int) -> Callable[[Cell, Any], str]:
    """Free text of at most ``max_length`` characters, without invisible control characters."""

    def parse(cell: Cell, context=None) -> str:
        value = strip_text_markers(cell.text)
        if CONTROL.search(value):
            raise CellError("含有不可见的控制字符，请删除后重新导入。")
        if len(value) > max_length:
            raise CellError(f"内容过长：最多 {max_length} 个字符，实际 {len(value)} 个。")
        return value

    return parse


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def date_cell(cell: Cell, context=None) -> dt.date:
    """A date cell, an Excel serial day number or the text forms people type (2024-05-31, 2024/5/31, 2024年5月31日)."""
    raw = cell.raw
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if looks_numeric(raw) and 20000 <= raw <= 80000:  # an Excel serial day number (1954–2119)
        return from_excel(raw).date()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cell.text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError as exc:
                raise CellError("日期不存在，请核对年、月、日。") from exc
    raise CellError("日期格式不正确，应为 YYYY-MM-DD（如 2024-05-31）。")


def past_date(cell: Cell, context: ReadContext) -> dt.date:
    """A date up to today (``context.today``) and not before 1949."""
    value = date_cell(cell)
    if value > context.today:
        raise CellError(f"日期晚于今天（{context.today:%Y-%m-%d}），不能是将来的日期。")
    if value.year < 1949:
        raise CellError("日期早于 1949 年，请核对。")
    return value


def period_cell(cell: Cell, context=None) -> Period:
    """A month: text as people type it (``Period.typed``) or a date cell; a number cell is refused."""
    raw = cell.raw
    if isinstance(raw, dt.date):  # a datetime too
        return Period.of(raw)
    if isinstance(raw, float):
        # 2024.10 typed into a number cell arrives as 2024.1: refuse rather than guess the month.
        raise CellError("所属期是数值格式，月份可能已丢失（2024.10 会变成 2024.1）。请将该列设置为文本，填写 YYYY-MM。")
    try:
        return Period.typed(cell.text)
    except PeriodError as exc:
        raise CellError(str(exc)) from None


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_NUMBER_NOISE = re.compile(r"[,，\s¥￥]|元$")


def decimal_cell(cell: Cell) -> tuple[Decimal, bool]:
    """The cell as a Decimal (``1,234,567.89 元`` too), and whether it came from a floating-point number cell."""
    value = cell.text
    if not _NUMBER.fullmatch(value):
        value = _NUMBER_NOISE.sub("", value)
        if not _NUMBER.fullmatch(value):
            raise CellError("不是有效的数字。")
    try:
        return Decimal(value), isinstance(cell.raw, float)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already excludes it
        raise CellError("不是有效的数字。") from exc


def money(cell: Cell, context=None) -> Decimal:
    """Yuan with two places at most, not negative, within a money column (16 digits, 2 of them decimals)."""
    value, from_float = decimal_cell(cell)
    if value < 0:
        raise CellError("金额不能为负数。")
    if value >= MONEY_LIMIT:  # before quantize: beyond 28 digits it raises instead of rounding
        raise CellError("金额过大，请确认单位是“元”。")
    rounded = value.quantize(CENT)
    # A formula in Excel leaves 0.30000000000000004; a typed third decimal is a mistake to report.
    if rounded != value and not (from_float and abs(rounded - value) < Decimal("0.000001")):
        raise CellError("金额最多保留两位小数（单位：元）。")
    if rounded >= MONEY_LIMIT:
        raise CellError("金额过大，请确认单位是“元”。")
    return rounded


def integer(minimum: int, maximum: int | Callable[[Any], int]) -> Callable[[Cell, Any], int]:
    """A whole number from ``minimum`` to ``maximum`` (a number, or a function of the reader's context)."""

    def parse(cell: Cell, context=None) -> int:
        value, _ = decimal_cell(cell)
        if value != value.to_integral_value():
            raise CellError("应为整数。")
        upper = maximum(context) if callable(maximum) else maximum
        if not minimum <= value <= upper:
            raise CellError(f"应在 {minimum} 到 {upper} 之间。")
        return int(value)

    return parse


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "n", "no", "false", "0", "×"}


def boolean(cell: Cell, context=None) -> bool:
    value = cell.text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError("应填写“是”或“否”。")


def choice_key(value: str) -> str:
    """Choices compare without spaces, with half-width brackets, case-insensitively."""
    return re.sub(r"\s+", "", value).replace("（", "(").replace("）", ")").lower()


def choice(choices, extra: dict[str, str] | None = None, *, refusal: str = "") -> Callable[[Cell, Any], str]:
    """One of ``choices`` (value, label): the stored value, the Chinese label or one of the ``extra`` short forms.
    ``refusal`` replaces the reason that lists the labels."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[choice_key(value)] = value
        lookup[choice_key(str(label))] = value
    for alias, value in (extra or {}).items():
        lookup[choice_key(alias)] = value
    reason = refusal or f"不是可选的值，应为：{'、'.join(str(label) for _, label in choices)}。"

    def parse(cell: Cell, context=None) -> str:
        value = lookup.get(choice_key(cell.text))
        if value is None:
            raise CellError(reason)
        return value

    return parse
