"""The case as plain frozen data, and the check that makes one assessable (``validated_case``).

A case comes from the contract's JSON (``case_json.parse_case``, what ``manage.py refund_assess`` reads) or is
built in process from the database (``refund.screening.case_builder``). Either way ``validated_case`` checks its
values — known codes and levels, amounts neither negative nor absurd, one return per period — and brings it to
the form the rules read (normalised industry codes, returns and refunds in order), raising ``CaseError`` with the
contract's code. Whether a return, a size or an industry is *needed* is decided by the assessment, which knows
the regimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.industry import parse_industry_code
from core.periods import Period, last_quarter_end_before

from .errors import CaseError
from .options import Options, check_options
from .parameters import VOUCHER_KINDS

ZERO = Decimal("0")
MAX_AMOUNT = Decimal("1E15")  # a thousand trillion yuan: anything larger is a data error, not a taxpayer

CREDIT_LEVELS = ("A", "B", "M", "C", "D")
SIZES = ("micro", "small", "medium", "large")
FILING_FREQUENCIES = ("monthly", "quarterly")
REFUND_KINDS = ("incremental", "stock")
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

    @property
    def tax_period(self) -> Period:
        """The return the application rests on: the month before, or a quarterly filer's last quarter-end before."""
        if self.taxpayer.quarterly:
            return last_quarter_end_before(self.application_period)
        return self.application_period.minus(1)

    def return_for(self, period: Period) -> VatReturn | None:
        for vat_return in self.returns:
            if vat_return.period == period:
                return vat_return
        return None


# --- the check ---------------------------------------------------------------------------------------


def validated_case(case: Case) -> Case:
    """``case`` in the form the rules read, or the ``CaseError`` of its first bad value (the parser's codes and
    messages: a case built in process is refused as its JSON would be)."""
    check_application_date(case.application_period, case.application_date)
    return Case(
        application_period=case.application_period,
        application_date=case.application_date,
        taxpayer=validated_taxpayer(case.taxpayer),
        compliance=validated_compliance(case.compliance),
        returns=validated_returns(case.returns),
        adjustments=validated_adjustments(case.adjustments),
        previous_refunds=validated_previous_refunds(case.previous_refunds),
        options=check_options(case.options),
    )


def check_application_date(application_period: Period, application_date: date) -> None:
    """The application is filed within its period (the contract's ``application_date``)."""
    if Period.of(application_date) != application_period:
        raise CaseError(
            "invalid_date",
            f"application_date {application_date.isoformat()} 不在申请纳税申报期 {application_period} 内。",
        )


def checked_amount(amount: Decimal, where: str) -> Decimal:
    """A yuan amount the rules take: finite, below ``MAX_AMOUNT``, never negative; -0 becomes 0."""
    if amount.is_finite() and ZERO <= amount < MAX_AMOUNT:
        return amount + ZERO
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise CaseError("invalid_amount", f"{where} 的值 {str(amount)!r} 不是有效的金额。")
    raise CaseError("negative_amount", f"{where} 的金额 {amount} 为负数。")


def checked_choice(value: object, where: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    """One of ``choices`` (surrounding blanks ignored; ``upper``: in any case)."""
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


def validated_taxpayer(taxpayer: Taxpayer) -> Taxpayer:
    code = None
    credit_level = checked_choice(taxpayer.credit_level, "taxpayer.credit_level", CREDIT_LEVELS, upper=True)
    filing_frequency = checked_choice(taxpayer.filing_frequency, "taxpayer.filing_frequency", FILING_FREQUENCIES)
    if taxpayer.industry_code not in (None, ""):
        code = industry_code(taxpayer.industry_code, "taxpayer.industry_code")
    sales: dict[str, Decimal] = {}
    for key, value in taxpayer.sales_12m_by_industry:
        normalised = industry_code(key, "taxpayer.sales_12m_by_industry")
        amount = checked_amount(value, f"taxpayer.sales_12m_by_industry.{key}")
        sales[normalised] = sales.get(normalised, ZERO) + amount
    size = None if taxpayer.size is None else checked_choice(taxpayer.size, "taxpayer.size", SIZES)
    size_inputs = None if taxpayer.size_inputs is None else validated_size_inputs(taxpayer.size_inputs)
    return Taxpayer(
        credit_level=credit_level,
        filing_frequency=filing_frequency,
        general_taxpayer_since=taxpayer.general_taxpayer_since,
        industry_code=code,
        sales_12m_by_industry=tuple(sorted(sales.items())),
        size=size,
        size_inputs=size_inputs,
    )


def validated_size_inputs(inputs: SizeInputs) -> SizeInputs:
    where = "taxpayer.size_inputs"
    row, sales, assets = inputs.industry, inputs.prev_year_vat_sales, inputs.total_assets_prev_year_end
    if row is not None:
        row = checked_choice(row, f"{where}.industry", SIZE_ROW_NAMES)
    if sales is not None:
        sales = checked_amount(sales, f"{where}.prev_year_vat_sales")
    if assets is not None:
        assets = checked_amount(assets, f"{where}.total_assets_prev_year_end")
    months = inputs.prev_year_months_operated
    if months is not None and months < 0:
        raise CaseError("invalid_json", f"{where}.prev_year_months_operated 的值 {months!r} 无效。")
    if months is not None and months > 12:
        raise CaseError("invalid_json", f"{where}.prev_year_months_operated 不能超过12。")
    return SizeInputs(
        industry=row, prev_year_vat_sales=sales, prev_year_months_operated=months, total_assets_prev_year_end=assets
    )


def validated_compliance(compliance: Compliance) -> Compliance:
    return Compliance(
        refund_fraud_or_false_invoice_dates=tuple(sorted(compliance.refund_fraud_or_false_invoice_dates)),
        tax_evasion_penalty_dates=tuple(sorted(compliance.tax_evasion_penalty_dates)),
        immediate_refund_since_2019_04=compliance.immediate_refund_since_2019_04,
        immediate_refund_repaid=compliance.immediate_refund_repaid,
    )


def validated_returns(returns: tuple[VatReturn, ...]) -> tuple[VatReturn, ...]:
    """One return per period, in period order; ``returns[i]`` in a message is the return's place as given."""
    by_period: dict[Period, VatReturn] = {}
    for index, vat_return in enumerate(returns):
        period = vat_return.period
        if period in by_period:
            raise CaseError("invalid_period", f"税款所属期 {period} 的申报表重复。")
        where = f"returns[{index}]"
        by_period[period] = VatReturn(
            period,
            checked_amount(vat_return.end_credit, f"{where}.end_credit"),
            validated_input_tax(vat_return.input_tax, where),
        )
    return tuple(by_period[period] for period in sorted(by_period))


def validated_input_tax(input_tax: InputTax, where: str) -> InputTax:
    return InputTax(
        **{kind: checked_amount(input_tax.amount(kind), f"{where}.input_tax.{kind}") for kind in VOUCHER_KINDS}
    )


def validated_adjustments(adjustments: Adjustments) -> Adjustments:
    return Adjustments(
        approved_unbooked_export_refund=checked_amount(
            adjustments.approved_unbooked_export_refund, "adjustments.approved_unbooked_export_refund"
        ),
        vat_arrears=checked_amount(adjustments.vat_arrears, "adjustments.vat_arrears"),
    )


def validated_previous_refunds(refunds: tuple[PreviousRefund, ...]) -> tuple[PreviousRefund, ...]:
    """In (period, kind) order; ``previous_refunds[i]`` in a message is the refund's place as given."""
    checked = []
    for index, refund in enumerate(refunds):
        where = f"previous_refunds[{index}]"
        kind = checked_choice(refund.kind, f"{where}.kind", REFUND_KINDS)
        amount = checked_amount(refund.amount, f"{where}.amount")
        checked.append(PreviousRefund(refund.application_period, refund.regime, kind, amount))
    return tuple(sorted(checked, key=lambda refund: (refund.application_period, refund.kind)))
