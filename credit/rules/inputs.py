"""The evaluation as plain frozen data, and the one parser from the contract's JSON (``credit_assess``).

The parser checks form (dates, months, amounts, shapes, indicator codes) and raises ``CaseError``
with the contract's code. Keys the contract does not name are ignored, except three optional
additions the rules use when given: ``taxpayer.previous_d_first_year`` (the year a direct D was
first given, for its 2-year retention), ``taxpayer.bankruptcy_reorganisation`` (a firm in 重整/和解
whose ※ items repair as if corrected in the first band) and ``direct_d[].repaired_on``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.contract import JsonReader
from core.periods import Period

from .errors import CaseError
from .indicators import find_indicator, indicator_code
from .options import Options, parse_options
from .parameters import FIRST_YEAR, LAST_YEAR, NEW_SYSTEM_FROM, OLD_TO

LEVELS = ("A", "B", "M", "C", "D")
D_KINDS = ("score", "direct", "related")
"""How last year's D was reached: by score, directly, or directly only through a related firm (关联评价为D)."""
ZERO = Decimal(0)
MAX_AMOUNT = Decimal("1E15")


@dataclass(frozen=True)
class DirectD:
    """A situation that rates D directly (直接判级), and when it was repaired, if it was."""

    reason: str
    date: date
    repaired_on: date | None = None


@dataclass(frozen=True)
class TaxpayerFacts:
    first_tax_matter_date: date | None = None
    non_regular_info: bool = False
    regular_tax_fee_info_complete: bool = False
    no_business_revenue: bool = False
    previous_level: str | None = None
    previous_d_kind: str | None = None
    previous_d_first_year: int | None = None
    books_proper: bool = True
    vat_payable_zero_months: tuple[Period, ...] = ()
    direct_d: tuple[DirectD, ...] = ()
    bankruptcy_reorganisation: bool = False


@dataclass(frozen=True)
class Event:
    """A recorded dishonesty behaviour (失信行为)."""

    indicator: str
    recorded_on: date
    tax: str | None = None
    amount: Decimal | None = None
    corrected_on: date | None = None
    no_penalty: bool = False  # 首违不罚 / 不予行政处罚


@dataclass(frozen=True)
class Evaluation:
    """One taxpayer, one evaluation year (calendar year), as known on ``as_of``."""

    year: int
    as_of: date
    taxpayer: TaxpayerFacts = field(default_factory=TaxpayerFacts)
    events: tuple[Event, ...] = ()
    options: Options = field(default_factory=Options)

    def table_day(self, recorded_on: date) -> date:
        """The day whose indicator table and repair standard a behaviour takes (the transition option)."""
        return table_day(self.options.transition_2025, recorded_on)


def table_day(transition_2025: str, recorded_on: date) -> date:
    """``Evaluation.table_day`` by the one option it reads (so that the rules can keep the answer)."""
    if transition_2025 == "old_rules_whole_year" and recorded_on >= NEW_SYSTEM_FROM:
        return OLD_TO if recorded_on.year == 2025 else recorded_on
    if transition_2025 == "new_rules_whole_year" and recorded_on.year == 2025:
        return max(recorded_on, NEW_SYSTEM_FROM)
    return recorded_on


_read = JsonReader(CaseError)
_object, _list, _date, _bool = _read.object, _read.list, _read.date, _read.boolean

# --- parsing -----------------------------------------------------------------------------------


def load_case_json(text: str) -> Evaluation:
    """Parse the contract's JSON text. Floats become ``Decimal``; NaN and Infinity are refused."""
    return parse_case(_read.load(text))


def parse_case(raw: object) -> Evaluation:
    """Build an ``Evaluation`` from the decoded JSON object."""
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "输入必须是一个 JSON 对象。")
    year = _year(raw.get("year"))
    as_of = date(year, 12, 31) if raw.get("as_of") is None else _date(raw["as_of"], "as_of")
    if as_of < date(year, 1, 1):
        raise CaseError("invalid_date", f"as_of {as_of.isoformat()} 早于评价年度 {year} 的开始。")
    options = parse_options(raw.get("options"))
    evaluation = Evaluation(
        year=year,
        as_of=as_of,
        taxpayer=_taxpayer(_object(raw.get("taxpayer"), "taxpayer")),
        options=options,
    )
    events = tuple(_event(item, index, evaluation) for index, item in enumerate(_list(raw.get("events"), "events")))
    return Evaluation(year=year, as_of=as_of, taxpayer=evaluation.taxpayer, events=events, options=options)


def _year(value: object) -> int:
    if value is None:
        raise CaseError("invalid_json", "缺少 year（评价年度）。")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise CaseError("invalid_json", f"year 的值 {value!r} 不是有效的年度。")
    year = int(str(value).strip())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CaseError("out_of_range", f"评价年度 {year} 不在规则覆盖的范围（{FIRST_YEAR}—{LAST_YEAR}年）内。")
    return year


def _optional_date(value: object, where: str) -> date | None:
    return None if value is None else _date(value, where)


def _choice(value: object, where: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and where.endswith("level"):
        text = text.upper()
    if text not in choices:
        raise CaseError("invalid_json", f"{where} 的值 {value!r} 无效（可选：{'、'.join(choices)}）。")
    return text


def parse_amount(value: object, where: str) -> Decimal | None:
    """A yuan amount from a decimal string or a JSON number; never negative; null stays unknown."""
    if value is None:
        return None
    amount = _read.number(value, where)
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise CaseError("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。")
    if amount < 0:
        raise CaseError("negative_amount", f"{where} 的金额 {value} 为负数。")
    return amount + ZERO


def _months(value: object, where: str) -> tuple[Period, ...]:
    months = set()
    for item in _list(value, where):
        try:
            months.add(Period.parse(item))
        except ValueError:
            raise CaseError("invalid_period", f"{where} 的值 {item!r} 不是有效的月份（应为 YYYY-MM）。") from None
    return tuple(sorted(months))


def _taxpayer(raw: dict) -> TaxpayerFacts:
    first_year = raw.get("previous_d_first_year")
    if first_year is not None and (isinstance(first_year, bool) or not isinstance(first_year, int)):
        raise CaseError("invalid_json", "taxpayer.previous_d_first_year 必须是年度（整数）。")
    return TaxpayerFacts(
        first_tax_matter_date=_optional_date(raw.get("first_tax_matter_date"), "taxpayer.first_tax_matter_date"),
        non_regular_info=_bool(raw.get("non_regular_info"), "taxpayer.non_regular_info"),
        regular_tax_fee_info_complete=_bool(
            raw.get("regular_tax_fee_info_complete"), "taxpayer.regular_tax_fee_info_complete"
        ),
        no_business_revenue=_bool(raw.get("no_business_revenue"), "taxpayer.no_business_revenue"),
        previous_level=_choice(raw.get("previous_level"), "taxpayer.previous_level", LEVELS),
        previous_d_kind=_choice(raw.get("previous_d_kind"), "taxpayer.previous_d_kind", D_KINDS),
        previous_d_first_year=first_year,
        books_proper=_bool(raw.get("books_proper"), "taxpayer.books_proper", default=True),
        vat_payable_zero_months=_months(raw.get("vat_payable_zero_months"), "taxpayer.vat_payable_zero_months"),
        direct_d=tuple(_direct_d(item, index) for index, item in enumerate(_list(raw.get("direct_d"), "direct_d"))),
        bankruptcy_reorganisation=_bool(raw.get("bankruptcy_reorganisation"), "taxpayer.bankruptcy_reorganisation"),
    )


def _direct_d(raw: object, index: int) -> DirectD:
    where = f"taxpayer.direct_d[{index}]"
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", f"{where} 必须是 JSON 对象。")
    reason = raw.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise CaseError("invalid_json", f"{where}.reason 必须是字符串。")
    if raw.get("date") is None:
        raise CaseError("invalid_date", f"{where} 缺少 date。")
    return DirectD(
        reason=reason or "",
        date=_date(raw["date"], f"{where}.date"),
        repaired_on=_optional_date(raw.get("repaired_on"), f"{where}.repaired_on"),
    )


def _event(raw: object, index: int, evaluation: Evaluation) -> Event:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", f"{where} 必须是 JSON 对象。")
    if raw.get("recorded_on") is None:
        raise CaseError("invalid_date", f"{where} 缺少 recorded_on（列入失信记录的日期）。")
    recorded_on = _date(raw["recorded_on"], f"{where}.recorded_on")
    if recorded_on.year != evaluation.year:
        raise CaseError(
            "invalid_date", f"{where}.recorded_on {recorded_on.isoformat()} 不在评价年度 {evaluation.year} 内。"
        )
    corrected_on = _optional_date(raw.get("corrected_on"), f"{where}.corrected_on")
    if corrected_on is not None and corrected_on < recorded_on:
        raise CaseError("invalid_date", f"{where}.corrected_on {corrected_on.isoformat()} 早于 recorded_on。")
    code = raw.get("indicator")
    if not isinstance(code, str) or find_indicator(indicator_code(code), evaluation.table_day(recorded_on)) is None:
        raise CaseError(
            "unknown_indicator", f"{where}.indicator {code!r} 不是 {recorded_on.isoformat()} 适用的评价指标代码。"
        )
    tax = raw.get("tax")
    if tax is not None and not isinstance(tax, str):
        raise CaseError("invalid_json", f"{where}.tax 必须是字符串。")
    return Event(
        indicator=indicator_code(code),
        recorded_on=recorded_on,
        tax=tax,
        amount=parse_amount(raw.get("amount"), f"{where}.amount"),
        corrected_on=corrected_on,
        no_penalty=_bool(raw.get("no_penalty"), f"{where}.no_penalty"),
    )
