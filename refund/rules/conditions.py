"""The eligibility conditions, each a function returning a ``Condition`` with its article.

The condition codes are the decision's (``conditions[].code`` in what ``refund_assess`` prints).
A regime lists the ones that apply to it in ``CONDITION_ORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.periods import shift_months

from .inputs import Case
from .parameters import (
    COMPLIANCE_LOOKBACK_MONTHS,
    CREDIT_LEVELS_ALLOWED,
    EVASION_PENALTIES_ALLOWED,
    IMMEDIATE_REFUND_REPAYMENT_ROUTE,
    IMMEDIATE_REFUND_SINCE,
)

CONDITION_ORDER = (
    "credit_a_or_b",
    "no_fraud_36m",
    "evasion_penalties_under_2_36m",
    "no_immediate_refund",
    "industry_share",
    "size_small_micro",
    "six_month_positive",
    "sixth_month_500k",
    "window_not_reused",
    "increment_positive",
    "credit_positive",
    "input_deducted",
)

CONDITION_TITLES: dict[str, str] = {
    "credit_a_or_b": "纳税信用级别为A级或B级",
    "no_fraud_36m": "36个月内无骗取留抵退税、骗取出口退税或虚开增值税专用发票情形",
    "evasion_penalties_under_2_36m": "36个月内因偷税受处罚少于两次",
    "no_immediate_refund": "2019年4月1日起未享受即征即退、先征后返（退）政策（或已一次性全部缴回）",
    "industry_share": "所列行业销售额占比超过50%",
    "size_small_micro": "属于小型或微型企业",
    "six_month_positive": "连续六个月（按季申报为两个季度）留抵税额满足大于零的条件",
    "sixth_month_500k": "第六个月增量（新增加）留抵税额不低于50万元",
    "window_not_reused": "连续六个月的月份未用于以前的留抵退税",
    "increment_positive": "期末留抵税额大于比较基数",
    "credit_positive": "期末留抵税额大于零",
    "input_deducted": "计算期间有已抵扣的进项税额（进项构成比例可计算）",
}
"""The Chinese title of each condition, as officers read it (the one table: ``refund.labels`` shows these)."""

CONDITION_BITS = {
    "credit_a_or_b": 1 << 0,
    "no_fraud_36m": 1 << 1,
    "evasion_penalties_under_2_36m": 1 << 2,
    "no_immediate_refund": 1 << 3,
    "industry_share": 1 << 4,
    "size_small_micro": 1 << 5,
    "six_month_positive": 1 << 6,
    "sixth_month_500k": 1 << 7,
    "window_not_reused": 1 << 8,
    "increment_positive": 1 << 9,
    "credit_positive": 1 << 10,
    "input_deducted": 1 << 11,
}
"""The bit of each condition in stored results (``ScreeningResult.failed_mask``): a new code takes a new bit;
bits are never reused, whatever the display order."""


@dataclass(frozen=True)
class Condition:
    code: str
    passed: bool
    detail: str  # Chinese, shown to officers
    citation: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "passed": self.passed, "detail": self.detail, "citation": self.citation}


@dataclass(frozen=True)
class CommonArticles:
    """Where a regime's document states the four common conditions."""

    credit: str
    fraud: str
    evasion: str
    immediate: str


def lookback_window(case: Case) -> tuple[date, date]:
    """The 36 months before the application, counted back from the application date, both ends included.

    Counting back 36 months from 2022-05-10 gives 2019-05-10 (民法典 第二百零一条、第二百零二条);
    a finding on the application day itself is counted, because the rating and the
    record are taken as they stand when the form is submitted.
    """
    months = COMPLIANCE_LOOKBACK_MONTHS.at(case.application_period)
    return shift_months(case.application_date, -months), case.application_date


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def credit_a_or_b(case: Case, citation: str) -> Condition:
    allowed = CREDIT_LEVELS_ALLOWED.at(case.application_period)
    level = case.taxpayer.credit_level
    passed = level in allowed
    detail = f"纳税信用级别为{level}级" + ("" if passed else "，须为A级或B级")
    if level == "M":
        detail += "（M级新设立企业不符合）"
    return Condition("credit_a_or_b", passed, detail, citation)


def no_fraud_36m(case: Case, citation: str) -> Condition:
    start, end = lookback_window(case)
    hits = [d for d in case.compliance.refund_fraud_or_false_invoice_dates if start <= d <= end]
    if hits:
        dates = "、".join(d.isoformat() for d in hits)
        detail = (
            f"{start.isoformat()}至{end.isoformat()}期间有骗取留抵退税、骗取出口退税或虚开增值税专用发票情形（{dates}）"
        )
    else:
        detail = f"{start.isoformat()}至{end.isoformat()}期间未发生骗取留抵退税、骗取出口退税或虚开增值税专用发票情形"
    return Condition("no_fraud_36m", not hits, detail, citation)


def evasion_penalties_under_2_36m(case: Case, citation: str) -> Condition:
    start, end = lookback_window(case)
    hits = [d for d in case.compliance.tax_evasion_penalty_dates if start <= d <= end]
    allowed = EVASION_PENALTIES_ALLOWED.at(case.application_period)
    passed = len(hits) <= allowed
    detail = f"{start.isoformat()}至{end.isoformat()}期间因偷税被税务机关处罚{len(hits)}次"
    detail += "" if passed else "（两次及以上不符合）"
    return Condition("evasion_penalties_under_2_36m", passed, detail, citation)


def no_immediate_refund(case: Case, citation: str) -> Condition:
    period = case.application_period
    since = IMMEDIATE_REFUND_SINCE.at(period)
    compliance = case.compliance
    if not compliance.immediate_refund_since_2019_04:
        return Condition(
            "no_immediate_refund", True, f"{_cn_date(since)}起未享受即征即退、先征后返（退）政策", citation
        )
    route = IMMEDIATE_REFUND_REPAYMENT_ROUTE.version_at(period)
    if compliance.immediate_refund_repaid and route.value:
        detail = f"{_cn_date(since)}起享受过即征即退、先征后返（退）政策，已一次性全部缴回"
        return Condition("no_immediate_refund", True, detail, f"{citation}；{route.citation}")
    if compliance.immediate_refund_repaid:
        detail = f"{_cn_date(since)}起享受过即征即退、先征后返（退）政策；本申报期尚无缴回后申请留抵退税的规定"
        return Condition("no_immediate_refund", False, detail, f"{citation}；{route.citation}")
    detail = f"{_cn_date(since)}起享受过即征即退、先征后返（退）政策，且未全部缴回"
    return Condition("no_immediate_refund", False, detail, citation)


def common_conditions(case: Case, articles: CommonArticles) -> list[Condition]:
    return [
        credit_a_or_b(case, articles.credit),
        no_fraud_36m(case, articles.fraud),
        evasion_penalties_under_2_36m(case, articles.evasion),
        no_immediate_refund(case, articles.immediate),
    ]


def in_contract_order(conditions: list[Condition]) -> tuple[Condition, ...]:
    return tuple(sorted(conditions, key=lambda c: CONDITION_ORDER.index(c.code)))
