"""Figures of one case that several regimes share: the tax period, the adjusted credit, the bases,
the input composition ratio, the six-month window, earlier refunds.

Computed lazily so that a figure a regime does not need (a 2019-03-31 base for the
2025 class 1, the industry of a 2019-05 applicant) is never demanded from the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from functools import cached_property

from core.periods import Period, last_quarter_end_before

from .errors import CaseError
from .industry import SalesMix, sales_mix
from .inputs import ZERO, Case, PreviousRefund
from .parameters import (
    BASE_CREDIT_PERIOD,
    CREDIT_ADJUSTMENTS_CITATION,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    STOCK_REFUND_RESETS_BASE,
    VOUCHER_KINDS,
)
from .size import SizeResult, determine_size
from .text import yuan

EXACT = Context(prec=80)
"""For the ratio's arithmetic: 80 digits hold every product of amounts below 10^15 exactly, and a quotient
to far below the cent, so that dividing last and rounding once gives the exact half-up cent."""

WINDOWED_REGIMES = ("CN-2019-39", "CN-2025-7-class2", "CN-2025-7-class3")
"""Regimes whose refunds rest on a six-month window that may not be counted again (39号 第八条第（六）项)."""


@dataclass(frozen=True)
class Ratio:
    """进项构成比例: qualifying vouchers over all input VAT deducted, from ``first`` to the tax period."""

    first: Period
    last: Period
    numerator: Decimal
    denominator: Decimal
    kinds: frozenset[str]

    @property
    def value(self) -> Decimal | None:
        return EXACT.divide(self.numerator, self.denominator) if self.denominator > 0 else None

    def applied_to(self, amount: Decimal) -> Decimal:
        """``amount`` × ratio, dividing last: exact to 80 digits, so rounding to the cent is exact too."""
        return EXACT.divide(EXACT.multiply(amount, self.numerator), self.denominator)

    def describe(self) -> str:
        return (
            f"{self.first}至{self.last}已抵扣进项税额 {yuan(self.denominator)}，"
            f"其中计入比例的扣税凭证 {yuan(self.numerator)}"
        )


@dataclass(frozen=True)
class Base:
    """A comparison base credit and where it came from."""

    amount: Decimal
    detail: str


class Facts:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.period = case.application_period
        self.quarterly = case.taxpayer.quarterly
        self.tax_period = case.tax_period
        self.trace: list[str] = []

    # --- the credit of the tax period ---------------------------------------------------------

    @cached_property
    def tax_return(self):
        vat_return = self.case.return_for(self.tax_period)
        if vat_return is None:
            kind = "季度" if self.quarterly else "月度"
            raise CaseError(
                "missing_return",
                f"缺少申请退税前一税款所属期 {self.tax_period} 的{kind}增值税申报表。",
            )
        return vat_return

    @cached_property
    def current_credit(self) -> Decimal:
        """期末留抵税额 of the tax period, less approved-unbooked 免抵退 refunds and arrears (may be negative)."""
        adjustments = self.case.adjustments
        credit = self.tax_return.end_credit - adjustments.approved_unbooked_export_refund - adjustments.vat_arrears
        if adjustments.approved_unbooked_export_refund or adjustments.vat_arrears:
            self.trace.append(
                f"当期期末留抵税额 {yuan(self.tax_return.end_credit)}，扣减已审批未申报免抵退应退税额 "
                f"{yuan(adjustments.approved_unbooked_export_refund)}、欠税 {yuan(adjustments.vat_arrears)}后为 "
                f"{yuan(credit)}（{CREDIT_ADJUSTMENTS_CITATION}）"
            )
        return credit

    def credit_at(self, period: Period) -> Decimal | None:
        """The period-end credit used in a six-month test; the tax period uses the adjusted credit."""
        if period == self.tax_period:
            return self.current_credit
        vat_return = self.case.return_for(period)
        return None if vat_return is None else vat_return.end_credit

    # --- bases ----------------------------------------------------------------------------------

    def _credit_on(self, period: Period, label: str) -> Base:
        since = self.case.taxpayer.general_taxpayer_since
        if since is not None and since > period.last_day:
            return Base(ZERO, f"{since.isoformat()}登记为一般纳税人，晚于{period.last_day.isoformat()}，{label}按0计")
        vat_return = self.case.return_for(period)
        if vat_return is None:
            raise CaseError(
                "missing_return",
                f"缺少税款所属期 {period} 的申报表，无法确定{label}（{period.last_day.isoformat()}期末留抵税额）；"
                "如该日尚未登记为一般纳税人，请补充一般纳税人登记日期。",
            )
        return Base(vat_return.end_credit, f"{label}为{period}申报表期末留抵税额 {yuan(vat_return.end_credit)}")

    @cached_property
    def base_2019(self) -> Base:
        """2019年3月31日期末留抵税额 (39号 第八条第（二）项; 14号 第四条; 7号 第一条第（二）项)."""
        return self._credit_on(BASE_CREDIT_PERIOD.at(self.period), "2019年3月31日期末留抵税额")

    @cached_property
    def prior_year_end(self) -> Base:
        """申请退税前一税款所属期上一年度12月31日期末留抵税额 (7号 第一条第（三）项)."""
        return self._credit_on(Period(self.tax_period.year - 1, 12), "上一年度12月31日期末留抵税额")

    # --- the 2022 one-time stock refund ------------------------------------------------------------

    def stock_refund_by(self, period: Period) -> PreviousRefund | None:
        """The stock refund obtained in or before ``period``; its credit reduction shows in that period."""
        for refund in self.case.previous_refunds:
            if refund.kind == "stock" and refund.application_period <= period:
                return refund
        return None

    @cached_property
    def stock_refund(self) -> PreviousRefund | None:
        return self.stock_refund_by(self.period)

    def base_reset_at(self, period: Period) -> bool:
        """Once the stock refund was obtained the 2019-03-31 base no longer counts (14号 第四条第（二）项)."""
        return self.stock_refund_by(period) is not None and STOCK_REFUND_RESETS_BASE.covers(self.period)

    def base_2019_at(self, period: Period) -> Decimal:
        """The 2019-03-31 base as it stands in ``period``."""
        return ZERO if self.base_reset_at(period) else self.base_2019.amount

    def increment_at(self, period: Period) -> Decimal | None:
        """增量留抵税额 of ``period``: its period-end credit over the 2019-03-31 base as it stands then (39号
        第八条, 14号 第四条); None without that month's return."""
        credit = self.credit_at(period)
        return None if credit is None else credit - self.base_2019_at(period)

    # --- size and industry ---------------------------------------------------------------------------

    @cached_property
    def size(self) -> SizeResult:
        return determine_size(self.case.taxpayer, self.period)

    @cached_property
    def sales(self) -> SalesMix:
        return sales_mix(self.case.taxpayer)

    # --- input composition ratio --------------------------------------------------------------------

    def ratio(self, first: Period, kinds: frozenset[str]) -> Ratio:
        numerator = denominator = ZERO
        for vat_return in self.case.returns:
            if first <= vat_return.period <= self.tax_period:
                numerator += sum((vat_return.input_tax.amount(k) for k in kinds), ZERO)
                denominator += sum((vat_return.input_tax.amount(k) for k in VOUCHER_KINDS), ZERO)
        return Ratio(first, self.tax_period, numerator, denominator, kinds)

    # --- the six-month window (two quarters for quarterly filers) ---------------------------------------

    def window_ending(self, last: Period) -> list[Period]:
        if self.quarterly:
            return [last.minus(3), last]
        return [last.minus(n) for n in range(5, -1, -1)]

    @cached_property
    def window(self) -> list[Period]:
        return self.window_ending(self.tax_period)

    def window_of_refund(self, refund: PreviousRefund) -> list[Period]:
        last = (
            last_quarter_end_before(refund.application_period) if self.quarterly else refund.application_period.minus(1)
        )
        return self.window_ending(last)

    def refund_used_window(self, refund: PreviousRefund) -> bool:
        if refund.kind == "stock" or refund.regime is None:
            return False
        if refund.regime in WINDOWED_REGIMES:
            return True
        return (
            refund.regime == "CN-2022-14-small-micro"
            and refund.application_period > SMALL_MICRO_ART3_ONLY_UNTIL.at(Period(2022, 4))
            and self.case.options.small_micro_after_2022 == "six_month_test"
        )

    @cached_property
    def used_months(self) -> dict[Period, PreviousRefund]:
        """Months already counted in the six-month window of an earlier refund."""
        used: dict[Period, PreviousRefund] = {}
        for refund in self.case.previous_refunds:
            if refund.application_period <= self.period and self.refund_used_window(refund):
                for month in self.window_of_refund(refund):
                    used.setdefault(month, refund)
        return used
