"""The case as plain frozen data, and the parser from the case JSON (what ``manage.py refund_assess`` reads).

The parser checks form only (periods, dates, amounts, shapes) and raises ``CaseError``
with the contract's code; whether a return, a size or an industry is *needed* is
decided by the assessment, which knows the regimes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from core.industry import parse_industry_code
from core.periods import Period

from .errors import CaseError
from .options import Options, parse_options
from .parameters import VOUCHER_KINDS

ZERO = Decimal("0")
MAX_AMOUNT = Decimal("1E15")  # a thousand trillion yuan: anything larger is a data error, not a taxpayer

CREDIT_LEVELS = ("A", "B", "M", "C", "D")
SIZES = ("micro", "small", "medium", "large")
FILING_FREQUENCIES = ("monthly", "quarterly")
SIZE_ROW_NAMES = (
    "agriculture",
    "industry",
    "construction",
    "wholesale",
    "retail",
    "transport",
    "warehousing",
    "postal",
    "accommodation",
    "catering",
    "information_transmission",
    "software_it",
    "real_estate_development",
    "property_management",
    "leasing_business_services",
    "other",
)
# Transfers out (进项税额转出) are never subtracted from the ratio (国家税务总局公告2019年第45号 第三条,
# 2022年第4号 第二条, 2025年第20号 第四条), so such a figure is accepted and ignored.
IGNORED_INPUT_KEYS = ("transfer_out", "transferred_out", "input_tax_transferred_out")


@dataclass(frozen=True)
class InputTax:
    """Input VAT deducted in one return, by voucher kind (yuan)."""

    special_invoice: Decimal = ZERO
    motor_vehicle_invoice: Decimal = ZERO
    customs: Decimal = ZERO
    tax_payment_certificate: Decimal = ZERO
    toll_road_e_invoice: Decimal = ZERO
    air_e_invoice: Decimal = ZERO
    railway_e_ticket: Decimal = ZERO
    agricultural: Decimal = ZERO
    other: Decimal = ZERO

    def amount(self, kind: str) -> Decimal:
        return getattr(self, kind)

    @property
    def total(self) -> Decimal:
        return sum((self.amount(kind) for kind in VOUCHER_KINDS), ZERO)


@dataclass(frozen=True)
class VatReturn:
    period: Period
    end_credit: Decimal  # 期末留抵税额, after any refund already deducted
    input_tax: InputTax = field(default_factory=InputTax)


@dataclass(frozen=True)
class SizeInputs:
    industry: str | None = None
    prev_year_vat_sales: Decimal | None = None
    prev_year_months_operated: int | None = None
    total_assets_prev_year_end: Decimal | None = None


@dataclass(frozen=True)
class Taxpayer:
    credit_level: str
    filing_frequency: str = "monthly"
    general_taxpayer_since: date | None = None
    industry_code: str | None = None  # normalised GB/T 4754-2017 code, e.g. "C3411"
    sales_12m_by_industry: tuple[tuple[str, Decimal], ...] = ()  # (normalised code, VAT sales)
    size: str | None = None
    size_inputs: SizeInputs | None = None

    @property
    def quarterly(self) -> bool:
        return self.filing_frequency == "quarterly"


@dataclass(frozen=True)
class Compliance:
    refund_fraud_or_false_invoice_dates: tuple[date, ...] = ()
    tax_evasion_penalty_dates: tuple[date, ...] = ()
    immediate_refund_since_2019_04: bool = False
    immediate_refund_repaid: bool = False


@dataclass(frozen=True)
class Adjustments:
    approved_unbooked_export_refund: Decimal = ZERO  # 已审批未申报的免抵退应退税额
    vat_arrears: Decimal = ZERO  # 欠税


@dataclass(frozen=True)
class PreviousRefund:
    application_period: Period
    regime: str | None
    kind: str  # "incremental" | "stock"
    amount: Decimal


@dataclass(frozen=True)
class Case:
    application_period: Period
    application_date: date
    taxpayer: Taxpayer
    compliance: Compliance = field(default_factory=Compliance)
    returns: tuple[VatReturn, ...] = ()
    adjustments: Adjustments = field(default_factory=Adjustments)
    previous_refunds: tuple[PreviousRefund, ...] = ()
    options: Options = field(default_factory=Options)

    def return_for(self, period: Period) -> VatReturn | None:
        for vat_return in self.returns:
            if vat_return.period == period:
                return vat_return
        return None


# --- parsing ---------------------------------------------------------------------------------------


def load_case_json(text: str) -> Case:
    """Parse the contract's JSON text. Floats become ``Decimal``; NaN and Infinity are refused."""
    try:
        raw = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise CaseError("invalid_json", f"输入不是有效的 JSON：{exc}") from None
    return parse_case(raw)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def parse_case(raw: object) -> Case:
    """Build a ``Case`` from the decoded JSON object (dicts, lists, strings, numbers)."""
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "输入必须是一个 JSON 对象。")
    if "application_period" not in raw:
        raise CaseError("invalid_period", "缺少 application_period（申请退税的纳税申报期，YYYY-MM）。")
    application_period = _period(raw["application_period"], "application_period")
    application_date = application_period.first_day
    if raw.get("application_date") is not None:
        application_date = _date(raw["application_date"], "application_date")
        if Period.of(application_date) != application_period:
            raise CaseError(
                "invalid_date",
                f"application_date {application_date.isoformat()} 不在申请纳税申报期 {application_period} 内。",
            )
    taxpayer = _taxpayer(_object(raw.get("taxpayer"), "taxpayer", required=True))
    compliance = _compliance(_object(raw.get("compliance"), "compliance"))
    returns = _returns(raw.get("returns"))
    adjustments = _adjustments(_object(raw.get("adjustments"), "adjustments"))
    previous_refunds = _previous_refunds(raw.get("previous_refunds"))
    options = parse_options(raw.get("options"))
    return Case(
        application_period=application_period,
        application_date=application_date,
        taxpayer=taxpayer,
        compliance=compliance,
        returns=returns,
        adjustments=adjustments,
        previous_refunds=previous_refunds,
        options=options,
    )


def _object(value: object, where: str, *, required: bool = False) -> dict:
    if value is None:
        if required:
            raise CaseError("invalid_json", f"缺少 {where} 对象。")
        return {}
    if not isinstance(value, dict):
        raise CaseError("invalid_json", f"{where} 必须是 JSON 对象。")
    return value


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CaseError("invalid_json", f"{where} 必须是 JSON 数组。")
    return value


def _period(value: object, where: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError:
        raise CaseError("invalid_period", f"{where} 的值 {value!r} 不是有效的所属期（应为 YYYY-MM）。") from None


def _date(value: object, where: str) -> date:
    if not isinstance(value, str) or len(value.strip()) != 10:
        raise CaseError("invalid_date", f"{where} 的值 {value!r} 不是有效的日期（应为 YYYY-MM-DD）。")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CaseError("invalid_date", f"{where} 的值 {value!r} 不是有效的日期（应为 YYYY-MM-DD）。") from None


def parse_amount(value: object, where: str) -> Decimal:
    """A yuan amount from a decimal string or a JSON number; never negative."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise CaseError("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise CaseError("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise CaseError("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。")
    if amount < 0:
        raise CaseError("negative_amount", f"{where} 的金额 {value} 为负数。")
    return amount + ZERO  # normalises -0 to 0


def _bool(value: object, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise CaseError("invalid_json", f"{where} 必须是 true 或 false。")
    return value


def _choice(value: object, where: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and upper:
        text = text.upper()
    if text not in choices:
        raise CaseError("invalid_json", f"{where} 的值 {value!r} 无效（可选：{'、'.join(choices)}）。")
    return text


def industry_code(value: object, where: str) -> str:
    """Normalised GB/T 4754-2017 code; "3411" and "C3411" are the same industry."""
    industry = parse_industry_code(value) if isinstance(value, str) else None
    if industry is None:
        raise CaseError("missing_industry", f"{where} 的值 {value!r} 不是 GB/T 4754-2017 国民经济行业代码。")
    return industry.code


def _taxpayer(raw: dict) -> Taxpayer:
    if raw.get("credit_level") is None:
        raise CaseError("invalid_json", "缺少 taxpayer.credit_level（纳税信用级别）。")
    credit_level = _choice(raw["credit_level"], "taxpayer.credit_level", CREDIT_LEVELS, upper=True)
    filing_frequency = _optional(raw, "filing_frequency", "taxpayer", _choice, FILING_FREQUENCIES) or "monthly"
    since = _optional(raw, "general_taxpayer_since", "taxpayer", _date)
    code = None
    if raw.get("industry_code") not in (None, ""):
        code = industry_code(raw["industry_code"], "taxpayer.industry_code")
    sales: dict[str, Decimal] = {}
    for key, value in _object(raw.get("sales_12m_by_industry"), "taxpayer.sales_12m_by_industry").items():
        normalised = industry_code(key, "taxpayer.sales_12m_by_industry")
        amount = parse_amount(value, f"taxpayer.sales_12m_by_industry.{key}")
        sales[normalised] = sales.get(normalised, ZERO) + amount
    return Taxpayer(
        credit_level=credit_level,
        filing_frequency=filing_frequency,
        general_taxpayer_since=since,
        industry_code=code,
        sales_12m_by_industry=tuple(sorted(sales.items())),
        size=_optional(raw, "size", "taxpayer", _choice, SIZES),
        size_inputs=_optional(raw, "size_inputs", "taxpayer", lambda value, where: _size_inputs(_object(value, where))),
    )


def _optional(raw: dict, key: str, where: str, parse, *args):
    """``parse(raw[key], "<where>.<key>", *args)``, or None where the key is absent or null."""
    value = raw.get(key)
    return None if value is None else parse(value, f"{where}.{key}", *args)


def _size_inputs(raw: dict) -> SizeInputs:
    where = "taxpayer.size_inputs"
    return SizeInputs(
        industry=_optional(raw, "industry", where, _choice, SIZE_ROW_NAMES),
        prev_year_vat_sales=_optional(raw, "prev_year_vat_sales", where, parse_amount),
        total_assets_prev_year_end=_optional(raw, "total_assets_prev_year_end", where, parse_amount),
        prev_year_months_operated=_optional(raw, "prev_year_months_operated", where, _months),
    )


def _months(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise CaseError("invalid_json", f"{where} 的值 {value!r} 无效。")
    months = int(str(value).strip())
    if months > 12:
        raise CaseError("invalid_json", f"{where} 不能超过12。")
    return months


def _compliance(raw: dict) -> Compliance:
    return Compliance(
        refund_fraud_or_false_invoice_dates=_dates(
            raw.get("refund_fraud_or_false_invoice_dates"), "compliance.refund_fraud_or_false_invoice_dates"
        ),
        tax_evasion_penalty_dates=_dates(raw.get("tax_evasion_penalty_dates"), "compliance.tax_evasion_penalty_dates"),
        immediate_refund_since_2019_04=_bool(
            raw.get("immediate_refund_since_2019_04"), "compliance.immediate_refund_since_2019_04"
        ),
        immediate_refund_repaid=_bool(raw.get("immediate_refund_repaid"), "compliance.immediate_refund_repaid"),
    )


def _dates(value: object, where: str) -> tuple[date, ...]:
    return tuple(sorted(_date(item, where) for item in _list(value, where)))


def _objects(value: object, name: str) -> Iterator[tuple[str, dict]]:
    """Each object of the list ``name``, with where it stands (``name[i]``) for the error messages."""
    for index, raw in enumerate(_list(value, name)):
        where = f"{name}[{index}]"
        yield where, _object(raw, where, required=True)


def _returns(value: object) -> tuple[VatReturn, ...]:
    returns: dict[Period, VatReturn] = {}
    for where, raw in _objects(value, "returns"):
        if "period" not in raw:
            raise CaseError("invalid_period", f"{where} 缺少 period（税款所属期）。")
        period = _period(raw["period"], f"{where}.period")
        if period in returns:
            raise CaseError("invalid_period", f"税款所属期 {period} 的申报表重复。")
        if raw.get("end_credit") is None:
            raise CaseError("invalid_amount", f"{where} 缺少 end_credit（期末留抵税额）。")
        end_credit = parse_amount(raw["end_credit"], f"{where}.end_credit")
        returns[period] = VatReturn(
            period, end_credit, _input_tax(_object(raw.get("input_tax"), f"{where}.input_tax"), where)
        )
    return tuple(returns[p] for p in sorted(returns))


def _input_tax(raw: dict, where: str) -> InputTax:
    amounts: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key in IGNORED_INPUT_KEYS:
            parse_amount(value, f"{where}.input_tax.{key}")  # still a well-formed amount
            continue
        if key not in VOUCHER_KINDS:
            raise CaseError("invalid_json", f"{where}.input_tax 中的凭证种类 {key!r} 不在合同列出的种类中。")
        if value is None:
            continue
        amounts[key] = parse_amount(value, f"{where}.input_tax.{key}")
    return InputTax(**amounts)


def _adjustments(raw: dict) -> Adjustments:
    values = {}
    for key in ("approved_unbooked_export_refund", "vat_arrears"):
        if raw.get(key) is not None:
            values[key] = parse_amount(raw[key], f"adjustments.{key}")
    return Adjustments(**values)


def _previous_refunds(value: object) -> tuple[PreviousRefund, ...]:
    refunds = []
    for where, raw in _objects(value, "previous_refunds"):
        if "application_period" not in raw:
            raise CaseError("invalid_period", f"{where} 缺少 application_period。")
        period = _period(raw["application_period"], f"{where}.application_period")
        kind = _choice(raw.get("kind", "incremental"), f"{where}.kind", ("incremental", "stock"))
        regime = raw.get("regime")
        if regime is not None and not isinstance(regime, str):
            raise CaseError("invalid_json", f"{where}.regime 必须是字符串。")
        amount = parse_amount(raw["amount"], f"{where}.amount") if raw.get("amount") is not None else ZERO
        refunds.append(PreviousRefund(period, regime, kind, amount))
    return tuple(sorted(refunds, key=lambda r: (r.application_period, r.kind)))
