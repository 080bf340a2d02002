"""Industry share (行业销售额占比): listed industries' VAT sales over all VAT sales, strictly above 50%.

84号 art. 2, 15号 art. 2, 14号 art. 7, 21号 art. 2 and 7号 art. 3 all test the
share of the 12 months before the application (or the actual operating months if
3 to 11). Several listed industries are added together (STA Q&A on 14号, see
refund-golden.json G14). The contract gives the sales by GB/T 4754-2017 code; when
it gives none, the registered ``industry_code`` counts as 100% of sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import CaseError
from .inputs import ZERO, Taxpayer
from .parameters import IndustryItem
from .text import yuan


def code_matches(code: str, item: IndustryItem) -> bool:
    """``code`` is a normalised GB/T code ("C3411"); ``item`` a section letter, division or group."""
    if item.code.isalpha():
        return code[0] == item.code
    return code[1:].startswith(item.code)


@dataclass(frozen=True)
class SalesMix:
    """VAT sales by industry code; ``assumed`` when the registered industry stands in for 100%."""

    sales: tuple[tuple[str, Decimal], ...]
    assumed: bool

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.sales), ZERO)

    def listed(self, items: tuple[IndustryItem, ...]) -> Decimal:
        return sum((amount for code, amount in self.sales if any(code_matches(code, i) for i in items)), ZERO)

    def share(self, items: tuple[IndustryItem, ...]) -> Decimal:
        total = self.total
        return self.listed(items) / total if total > 0 else ZERO


def sales_mix(taxpayer: Taxpayer) -> SalesMix:
    """The sales to weigh; raises ``missing_industry`` when neither sales nor an industry code was given."""
    sales = taxpayer.sales_12m_by_industry
    if sales and sum((amount for _, amount in sales), ZERO) > 0:
        return SalesMix(sales, assumed=False)
    if taxpayer.industry_code is not None:
        # No sales to weigh (absent, or all zero): the registered industry stands for all of them.
        return SalesMix(((taxpayer.industry_code, Decimal(1)),), assumed=True)
    raise CaseError(
        "missing_industry",
        "需要判断行业（行业销售额占比），但没有国民经济行业代码，也没有分行业销售额。",
    )


def describe_share(mix: SalesMix, items: tuple[IndustryItem, ...], share: Decimal) -> str:
    names = "、".join(item.name for item in items)
    if mix.assumed:
        code = mix.sales[0][0]
        inside = "属于" if share > 0 else "不属于"
        return f"未提供分行业销售额，按登记行业{code}计100%；该行业{inside}所列行业（{names}）"
    return f"所列行业（{names}）销售额 {yuan(mix.listed(items))}，占全部销售额 {yuan(mix.total)} 的{share * 100:.2f}%"
