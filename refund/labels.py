"""The one table of Chinese words for the codes on every refund page: regimes, conditions, options, sizes,
errors and what to do next, outcomes, and the states of runs, candidate items and applications with their colours.

The rules speak in the contract's codes (refund/rules/README.md); officers read these labels. The regime,
condition and option titles are the rules' own (``refund.rules.regimes.REGIMES``, ``CONDITION_TITLES`` in
``refund.rules.conditions``, ``OptionSpec.title``), so that the trace the rules write and the pages use the
same words; the rest (sizes, errors and next steps) belongs to the pages and stays here. A state's words are its
model's choices (``get_<field>_display``), named once there; its colour is here, one colour, one meaning: waiting
grey, in progress blue, needing attention orange, failed or returned red, done green.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxpayers.models import EnterpriseSize

from .models import CandidateItem, RefundApplication, ScreeningRun
from .rules.conditions import CONDITION_TITLES
from .rules.options import OPTION_SPECS
from .rules.regimes import NO_REGIME, REGIME_TITLES, regime_title

__all__ = [
    "APPLICATION_STATE_TAGS",
    "CONDITION_TITLES",
    "ERROR_HELP",
    "FUNNEL",
    "NO_REGIME",
    "OPTION_TITLES",
    "REGIME_TITLES",
    "RISK_TAGS",
    "RUN_STATUS_TAGS",
    "SIZE_TITLES",
    "STAGE_TAGS",
    "condition_title",
    "condition_titles",
    "describe_decision",
    "error_help",
    "option_rows",
    "option_title",
    "regime_title",
    "size_title",
]

OPTION_TITLES: dict[str, str] = {name: spec.title for name, spec in OPTION_SPECS.items()}
UNKNOWN_CONDITION = "其他条件"

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


def condition_title(code: str) -> str:
    return CONDITION_TITLES.get(code, UNKNOWN_CONDITION)


def condition_titles(codes) -> list[str]:
    """The titles of ``codes`` in their order (a candidate's or a result's failed conditions)."""
    return [condition_title(code) for code in codes or ()]


def option_title(name: str) -> str:
    return OPTION_TITLES.get(name, "规则选项")


def size_title(code: str | None) -> str:
    return SIZE_TITLES.get(code or "", UNKNOWN_SIZE)


def error_help(code: str) -> ErrorHelp:
    return ERROR_HELP.get(code, ErrorHelp("无法判断", "请联系信息中心。"))


OUTCOME_LABELS = {"eligible": "符合条件", "ineligible": "不符合条件", "error": "无法判断"}
OUTCOME_TAGS = {"eligible": "tag-done", "ineligible": "tag-attention", "error": "tag-failed"}


def describe_decision(decision: dict) -> dict:
    """The rules' output as JSON (``refund.screening.decisions.contract_output``) with the Chinese words the pages
    show beside the codes.

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


# --- states: their words are the models' choices, their colours here ------------------------------------------

RUN_STATUS_TAGS = {
    ScreeningRun.Status.PENDING: "tag-waiting",
    ScreeningRun.Status.RUNNING: "tag-progress",
    ScreeningRun.Status.SUCCEEDED: "tag-done",
    ScreeningRun.Status.FAILED: "tag-failed",
}

Stage = CandidateItem.Stage
STAGE_TAGS = {
    Stage.LISTED: "tag-waiting",
    Stage.REMINDED: "tag-progress",
    Stage.DECLARED: "tag-progress",
    Stage.APPLIED: "tag-progress",
    Stage.REFUNDED: "tag-done",
    Stage.DECLINED: "tag-attention",
    Stage.INELIGIBLE: "tag-failed",
}
FUNNEL: tuple[tuple[str, str], ...] = tuple(Stage.choices)
"""A candidate item's funnel in order: the data stages (已推送 → 已提醒 → 已申报 → 已申请 → 已退税), then the two
ways out (放弃申请, 核实不符合)."""

State = RefundApplication.State
APPLICATION_STATE_TAGS = {
    State.RECEIVED: "tag-waiting",
    State.INVESTIGATING: "tag-progress",
    State.REVIEWING: "tag-progress",
    State.APPROVED: "tag-done",
    State.PARTLY_PAID: "tag-attention",
    State.PAID: "tag-done",
    State.RETURNED: "tag-failed",
    State.REJECTED: "tag-failed",
    State.STOPPED: "tag-failed",
}
RISK_TAGS = {
    RefundApplication.Risk.UNCHECKED: "tag-waiting",
    RefundApplication.Risk.CLEAR: "tag-done",
    RefundApplication.Risk.HIT: "tag-attention",
}
