"""Switches for the points the law leaves open (shared/domain/refund-policy.md §7).

Each option names the open question, its allowed values and the documented default.
A case may set them in ``options``; the decision trace shows the values used, so an
answer never rests on a silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import CaseError


@dataclass(frozen=True)
class OptionSpec:
    name: str
    question: str
    choices: dict[str, str]  # value -> what it means
    default: str


SMALL_MICRO_AFTER_2022 = OptionSpec(
    name="small_micro_after_2022",
    question=(
        "财政部 税务总局公告2022年第14号 第一条第（一）项只说“在2022年12月31日前，退税条件按照本公告第三条规定执行”。"
        "2023年1月至2025年8月纳税申报期，不属于制造业等13个行业的小微企业如何退税？"
    ),
    choices={
        "six_month_test": (
            "仍按14号公告全额退还增量及一次性存量留抵税额，但须满足连续六个月增量留抵税额大于零、第六个月不低于50万元"
            "（条文字面：只有条件有时限；cjtax.cn 2025）"
        ),
        "general_regime": (
            "不再适用14号公告小微企业政策，回到39号公告（60%、连续六个月）（consult.17win.com、bqf8.cn）"
        ),
    },
    default="six_month_test",
)

CLASS3_RATIO_START = OptionSpec(
    name="class3_ratio_start",
    question=(
        "财政部 税务总局公告2025年第7号 第四条对第一项、第二项的进项构成比例自2019年4月起算；第三项（其他纳税人）"
        "的计算期间原文未能核实。"
    ),
    choices={
        "prior_year_january": "自申请退税前一税款所属期上一年度1月起至申请退税前一税款所属期（研究笔记的记忆，未核实）",
        "2019_04": "与第一项、第二项相同，自2019年4月起",
    },
    default="prior_year_january",
)

WINDOW_REUSE_2025 = OptionSpec(
    name="window_reuse_2025",
    question=(
        "2025年第7号公告第二项、第三项的“连续六个月”已用于以前退税的月份能否再次计算？"
        "（39号公告第八条第（六）项规定不得重复计算，7号公告相应条文未能核实）"
    ),
    choices={
        "not_reused": "与39号公告一致，已计算过的月份不得重复计算",
        "reuse_allowed": "不限制重复计算",
    },
    default="not_reused",
)

OPTION_SPECS: dict[str, OptionSpec] = {
    spec.name: spec for spec in (SMALL_MICRO_AFTER_2022, CLASS3_RATIO_START, WINDOW_REUSE_2025)
}


@dataclass(frozen=True)
class Options:
    small_micro_after_2022: str = SMALL_MICRO_AFTER_2022.default
    class3_ratio_start: str = CLASS3_RATIO_START.default
    window_reuse_2025: str = WINDOW_REUSE_2025.default

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_options(raw: object) -> Options:
    """``options`` of the case; unknown names or values are refused rather than ignored."""
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "options 必须是 JSON 对象。")
    values: dict[str, str] = {}
    for name, value in raw.items():
        spec = OPTION_SPECS.get(name)
        if spec is None:
            known = "、".join(OPTION_SPECS)
            raise CaseError("unsupported", f"不支持的选项 {name}（可用选项：{known}）。")
        if value not in spec.choices:
            allowed = "、".join(spec.choices)
            raise CaseError("unsupported", f"选项 {name} 的值 {value!r} 不受支持（可选：{allowed}）。")
        values[name] = value
    return Options(**values)
