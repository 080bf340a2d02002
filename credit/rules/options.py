"""Switches for the points the credit rules leave open, each with its documented default.

A case sets them in ``options``; unknown names or values are refused (``unsupported``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.contract import OptionSpec, check_option

from .errors import CaseError

TRANSITION_2025 = OptionSpec(
    name="transition_2025",
    title="2025年度评价的新旧办法衔接",
    question=(
        "国家税务总局公告2025年第12号自2025年7月1日起施行，2014年第48号同时废止，未见过渡规定。"
        "跨越施行日的2025评价年度如何评价？"
    ),
    choices={
        "by_record_date": (
            "按失信行为记录日期分别适用：7月1日前的行为按48号指标和修复标准，此后按2025年办法；"
            "年度起评分与级别按2025年办法"
        ),
        "new_rules_whole_year": "全年行为均按2025年办法的指标、计扣方式和修复标准评价",
        "old_rules_whole_year": "全年按2014年第40号、第48号及其修订评价",
    },
    default="by_record_date",
)

CONSECUTIVE_A_BONUS = OptionSpec(
    name="consecutive_a_bonus",
    title="连续评为A级加分",
    question="2025年办法下，上一年度为A级的，本年评价是否加1分（最高100分）？该规定仅见于二手资料。",
    choices={"off": "不加分", "plus_one": "上一年度为A级的加1分，最高100分"},
    default="off",
)

OVERALL_REPAIR = OptionSpec(
    name="overall_repair",
    title="整体守信修复",
    question="2025年办法新增整体守信修复，触发条件与上限未核实。是否按纠正后每个无新增失信行为的整月加1分、最多11分计算？",
    choices={
        "off": "不计算整体守信修复",
        "per_clean_month": (
            "全部失信行为已纠正后，自最后一次失信记录起每满一个月无新增失信行为加1分，最多11分，且不超过尚未修复的扣分"
        ),
    },
    default="off",
)

AMOUNT_THRESHOLD = OptionSpec(
    name="amount_threshold",
    title="“1000元以下”“2000元以下”是否含本数",
    question="修复标准中“涉及税款1000元以下”（2019年第37号、2021年第31号）和“税费款2000元以下”（2025年第12号）是否包括1000元、2000元本数？",
    choices={"included": "含本数（“以下”包括本数）", "excluded": "不含本数"},
    default="included",
)

NOT_A_DEDUCTION_2014 = OptionSpec(
    name="not_a_deduction_2014",
    title="旧办法下不得评为A级情形的扣分",
    question=(
        "2014年第48号下，“非正常原因增值税连续3个月或累计6个月零申报、负申报”和“经营期不满3年”"
        "是只限制评为A级，还是另外一次性扣11分？"
    ),
    choices={"cap_only": "只限制评为A级（A级降为B级），不另扣分", "deduct_11": "每种情形一次性扣11分，并限制评为A级"},
    default="cap_only",
)

RELATED_D_CLEAN_MONTHS = OptionSpec(
    name="related_d_clean_months",
    title="关联评价为D级的修复条件",
    question=(
        "因直接责任人员关联非正常户（040104）或D级纳税人（040105）被判为D级的，关联原因消除后即可修复"
        "（江西税务在原因消除后自动修复），还是须申请前连续6个月无新增失信行为记录（2021年第31号 一（三））？"
        "2025年办法的等待期未见。"
    ),
    choices={
        "as_dated": "按申请日适用的规定：2019年第37号不设等待期，2021年第31号起须申请前连续6个月无新增失信行为记录",
        "none": "关联原因消除即可修复，不设等待期",
    },
    default="as_dated",
)

OPTION_SPECS: dict[str, OptionSpec] = {
    spec.name: spec
    for spec in (
        TRANSITION_2025,
        CONSECUTIVE_A_BONUS,
        OVERALL_REPAIR,
        AMOUNT_THRESHOLD,
        NOT_A_DEDUCTION_2014,
        RELATED_D_CLEAN_MONTHS,
    )
}


@dataclass(frozen=True)
class Options:
    transition_2025: str = TRANSITION_2025.default
    consecutive_a_bonus: str = CONSECUTIVE_A_BONUS.default
    overall_repair: str = OVERALL_REPAIR.default
    amount_threshold: str = AMOUNT_THRESHOLD.default
    not_a_deduction_2014: str = NOT_A_DEDUCTION_2014.default
    related_d_clean_months: str = RELATED_D_CLEAN_MONTHS.default

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_options(raw: object) -> Options:
    """``options`` of the case; unknown names or values are refused rather than ignored."""
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "options 必须是 JSON 对象。")
    values = {name: check_option(OPTION_SPECS, name, value, CaseError) for name, value in raw.items()}
    return Options(**values)
