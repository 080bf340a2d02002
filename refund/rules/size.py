"""Enterprise size (企业规模) for the 2022 regime: 14号 art. 6 with the rows of 工信部联企业〔2011〕300号.

14号 art. 6 uses only operating revenue — read as the VAT sales of the previous
accounting year, annualised when the taxpayer existed for less than a year — and
total assets at the end of that year. Employees are not used, so a row whose 300号
standard is employees only (其他未列明行业, ``other``) takes the VAT-sales fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.periods import Period

from .errors import CaseError
from .inputs import SizeInputs, Taxpayer
from .parameters import DOC_14, MIIT_300, SIZE_FALLBACK, SIZE_ROWS, SizeRow
from .text import yuan

SIZE_NAMES = {"micro": "微型企业", "small": "小型企业", "medium": "中型企业", "large": "大型企业"}
TIERS = ("large", "medium", "small")

# 300号 is not tied to a filing period; it is used through 14号 (2022-04 … 2025-08). Sizes given
# outside that range are still computed with the same table, looked up at its first period.
SIZE_TABLE_PERIOD = Period(2022, 4)


@dataclass(frozen=True)
class SizeResult:
    size: str | None
    detail: str
    citation: str
    problem: CaseError | None = None  # why the size could not be computed (raised only if it is needed)


def determine_size(taxpayer: Taxpayer, period: Period) -> SizeResult:
    """The given size, else the size computed from ``size_inputs``, else unknown with the reason."""
    if taxpayer.size is not None:
        return SizeResult(taxpayer.size, f"企业规模为{SIZE_NAMES[taxpayer.size]}（申请时给定）", f"{DOC_14} 第六条")
    if taxpayer.size_inputs is None:
        return SizeResult(
            None,
            "未提供企业规模及划型数据",
            f"{DOC_14} 第六条",
            CaseError(
                "missing_size",
                "需要判断企业规模（小微企业政策），但没有企业规模，也没有划型所需的行业、上年增值税销售额和资产总额。",
            ),
        )
    table_period = period if SIZE_ROWS.covers(period) else SIZE_TABLE_PERIOD
    return classify(taxpayer.size_inputs, table_period)


def annual_vat_sales(inputs: SizeInputs) -> Decimal | None:
    """增值税销售额（年）= 上一会计年度实际存续期间增值税销售额 ÷ 实际存续月数 × 12 (14号 art. 6)."""
    if inputs.prev_year_vat_sales is None:
        return None
    months = inputs.prev_year_months_operated
    if months is None or months >= 12:
        return inputs.prev_year_vat_sales
    if months <= 0:
        return None
    # Multiply first: 500,000 over 6 months is exactly 1,000,000 a year, not 999,999.99… (a size threshold).
    return inputs.prev_year_vat_sales * 12 / Decimal(months)


def classify(inputs: SizeInputs, period: Period) -> SizeResult:
    citation = f"{DOC_14} 第六条；{MIIT_300} 第四条"
    if inputs.prev_year_months_operated == 0:
        return SizeResult(
            None,
            "上一会计年度未存续，无法按上一会计年度数据划型",
            citation,
            CaseError("unsupported", "纳税人上一会计年度未经营（存续月数为0），14号公告未规定如何划型。"),
        )
    rows = SIZE_ROWS.at(period)
    row = rows.get(inputs.industry) if inputs.industry else None
    if inputs.industry is None or row is None:
        return _fallback(inputs, period)
    return _by_row(row, inputs, citation)


def _fallback(inputs: SizeInputs, period: Period) -> SizeResult:
    medium_below, small_below, micro_below = SIZE_FALLBACK.at(period)
    citation = SIZE_FALLBACK.citation_at(period)
    sales = annual_vat_sales(inputs)
    if sales is None:
        return SizeResult(
            None,
            "缺少上一会计年度增值税销售额，无法划型",
            citation,
            CaseError("missing_size", "按增值税销售额划型需要上一会计年度增值税销售额。"),
        )
    if sales < micro_below:
        size = "micro"
    elif sales < small_below:
        size = "small"
    elif sales < medium_below:
        size = "medium"
    else:
        size = "large"
    return SizeResult(size, f"增值税销售额（年）{yuan(sales)}，按14号公告兜底标准为{SIZE_NAMES[size]}", citation)


def _by_row(row: SizeRow, inputs: SizeInputs, citation: str) -> SizeResult:
    values: dict[str, Decimal | None] = {
        "revenue": annual_vat_sales(inputs),
        "assets": inputs.total_assets_prev_year_end,
    }
    missing = [name for name in row.limits if values[name] is None]
    if missing:
        wanted = {"revenue": "上一会计年度增值税销售额", "assets": "上年末资产总额"}
        fields = "、".join(wanted[name] for name in missing)
        return SizeResult(
            None,
            f"{row.name}划型缺少指标",
            citation,
            CaseError("missing_size", f"{row.name}按300号文划型需要{fields}。"),
        )
    # Micro: any one indicator below the small lower limit. Otherwise the highest tier whose lower
    # limits are all reached (300号 art. 4: 大型、中型和小型企业须同时满足所列指标的下限，否则下划一档).
    size = "micro"
    if not any(values[name] < limits[2] for name, limits in row.limits.items()):
        for tier_index, tier in enumerate(TIERS):
            if all(values[name] >= limits[tier_index] for name, limits in row.limits.items()):
                size = tier
                break
    labels = {"revenue": "营业收入（上一会计年度增值税销售额）", "assets": "资产总额（上年末）"}
    figures = "，".join(f"{labels[name]} {yuan(values[name])}" for name in row.limits)
    return SizeResult(size, f"{row.name}：{figures}，划为{SIZE_NAMES[size]}", citation)
