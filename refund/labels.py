"""Chinese words for the rules' codes on the screening pages: regimes, conditions, errors and what to do next.

The rules speak in the contract's codes (contracts/refund-assess.md); officers read these labels.
Kept apart from ``refund.rules`` so that the rules stay the law and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxpayers.models import EnterpriseSize

from .rules.options import OPTION_SPECS
from .rules.regimes import REGIMES

REGIME_TITLES: dict[str, str] = {regime.code: regime.title for regime in REGIMES}
NO_REGIME = "无适用政策"

CONDITION_TITLES: dict[str, str] = {
    "credit_a_or_b": "纳税信用级别为A级或B级",
    "no_fraud_36m": "36个月内无骗取留抵退税、骗取出口退税或虚开增值税专用发票",
    "evasion_penalties_under_2_36m": "36个月内因偷税受处罚少于两次",
    "no_immediate_refund": "2019年4月1日起未享受即征即退、先征后返（退）政策（或已一次性缴回）",
    "industry_share": "所列行业销售额占比超过50%",
    "size_small_micro": "属于小型或微型企业",
    "six_month_positive": "连续六个月（按季申报为两个季度）留抵税额满足大于零的条件",
    "sixth_month_500k": "第六个月增量留抵税额不低于50万元",
    "window_not_reused": "连续六个月的月份未用于以前的留抵退税",
    "increment_positive": "期末留抵税额大于比较基数",
    "credit_positive": "期末留抵税额大于零",
    "input_deducted": "计算期间有已抵扣的进项税额（进项构成比例可计算）",
}

OPTION_TITLES: dict[str, str] = {
    "small_micro_after_2022": "2023年1月至2025年8月的小微企业",
    "class3_ratio_start": "2025年第7号公告第三项的进项构成比例起算",
    "window_reuse_2025": "2025年第7号公告“连续六个月”能否重复计算",
}

SIZE_TITLES: dict[str, str] = dict(EnterpriseSize.choices)
UNKNOWN_SIZE = "未划型"


@dataclass(frozen=True)
class ErrorHelp:
    title: str
    next_step: str


ERROR_HELP: dict[str, ErrorHelp] = {
    "invalid_json": ErrorHelp("数据格式错误", "该纳税人的数据无法组成测算案例，请联系信息中心检查。"),
    "invalid_period": ErrorHelp("所属期无效", "所属期应为 YYYY-MM，请核对申报表所属期后重新导入。"),
    "invalid_date": ErrorHelp("日期无效", "请核对一般纳税人登记日期和涉税记录的日期后重新导入。"),
    "invalid_amount": ErrorHelp("金额无效", "请核对金三系统导出的申报表金额后重新导入。"),
    "negative_amount": ErrorHelp("金额为负数", "申报数据中有负数金额，请核对金三系统导出的申报表后重新导入。"),
    "missing_return": ErrorHelp(
        "缺少申报表",
        "缺少申请退税前一税款所属期的增值税申报表：请在“数据导入”中导入该期申报表，导入后会自动重新测算。",
    ),
    "missing_size": ErrorHelp(
        "缺少企业规模",
        "请在纳税人登记信息中补充企业规模，或补充划型行业、上年增值税销售额和上年末资产总额后重新导入。",
    ),
    "missing_industry": ErrorHelp("缺少行业代码", "请补充纳税人的国民经济行业代码（GB/T 4754-2017）后重新导入。"),
    "out_of_range": ErrorHelp("所属期不在规则覆盖范围", "请选择规则覆盖范围内的申请所属期。"),
    "unsupported": ErrorHelp("规则暂不支持的情形", "规则没有覆盖该情形，请人工判断，必要时与税政一股会商。"),
}


def regime_title(code: str | None) -> str:
    if not code:
        return NO_REGIME
    return REGIME_TITLES.get(code, code)


def condition_title(code: str) -> str:
    return CONDITION_TITLES.get(code, code)


def option_title(name: str) -> str:
    return OPTION_TITLES.get(name, name)


def size_title(code: str | None) -> str:
    return SIZE_TITLES.get(code or "", UNKNOWN_SIZE)


def error_help(code: str) -> ErrorHelp:
    return ERROR_HELP.get(code, ErrorHelp(code, "请联系信息中心。"))


OUTCOME_LABELS = {"eligible": "符合条件", "ineligible": "不符合条件", "error": "无法判断"}
OUTCOME_TAGS = {"eligible": "tag-done", "ineligible": "tag-attention", "error": "tag-failed"}


def describe_decision(decision: dict) -> dict:
    """The rules' output (``refund.services.decide``) with the Chinese words the pages show beside the codes.

    Adds: ``outcome`` (eligible / ineligible / error) and its label and tag, the regime's title, each
    condition's and alternative's title, the failed conditions, the options used with their
    questions, and for an error its title and what to do next.
    """
    if "error" in decision:
        help_ = error_help(decision["error"])
        outcome = "error"
        return {
            **decision,
            "outcome": outcome,
            "outcome_label": OUTCOME_LABELS[outcome],
            "outcome_tag": OUTCOME_TAGS[outcome],
            "error_title": help_.title,
            "next_step": help_.next_step,
        }
    outcome = "eligible" if decision["eligible"] else "ineligible"
    conditions = [{**c, "title": condition_title(c["code"])} for c in decision["conditions"]]
    return {
        **decision,
        "outcome": outcome,
        "outcome_label": OUTCOME_LABELS[outcome],
        "outcome_tag": OUTCOME_TAGS[outcome],
        "regime_title": regime_title(decision["regime"]),
        "size_title": size_title(decision["size"]),
        "conditions": conditions,
        "failed": [c for c in conditions if not c["passed"]],
        "alternatives": [{**a, "title": regime_title(a["regime"])} for a in decision["alternatives"]],
        "option_rows": option_rows(decision.get("options") or {}),
    }


def option_rows(options: dict) -> list[dict]:
    """The options used (refund/rules/options.py): each question, the value taken and whether it is the default."""
    rows = []
    for name, value in options.items():
        spec = OPTION_SPECS.get(name)
        rows.append(
            {
                "name": name,
                "title": option_title(name),
                "value": value,
                "meaning": spec.choices.get(value, value) if spec else value,
                "is_default": bool(spec and value == spec.default),
                "question": spec.question if spec else "",
            }
        )
    return rows
