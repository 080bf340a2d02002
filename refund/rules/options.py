"""Switches for the points the law leaves open (each option says which).

Each option names the open question, its allowed values and the documented default.
A case may set them in ``options``; the decision trace shows the values used, so an
answer never rests on a silent guess.

The title, question and meanings are shown to officers: they cite the announcements
only. Where each reading comes from, and what was not verified, is in README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.contract import OptionSpec, check_option

from .errors import CaseError

SMALL_MICRO_AFTER_2022 = OptionSpec(
    name="small_micro_after_2022",
    title="2023年1月至2025年8月小微企业的退税条件",
    question=(
        "财政部 税务总局公告2022年第14号 第一条第（一）项只说“在2022年12月31日前，退税条件按照本公告第三条规定执行”。"
        "2023年1月至2025年8月纳税申报期，不属于制造业等13个行业的小微企业如何退税？"
    ),
    choices={
        "six_month_test": (
            "仍按14号公告全额退还增量及一次性存量留抵税额，但须满足连续六个月增量留抵税额大于零、第六个月不低于50万元"
            "（14号公告第一条第（一）项所定时限只针对退税条件）"
        ),
        "general_regime": (
            "不再适用14号公告小微企业政策，按39号公告第八条退还增量留抵税额的60%（须满足连续六个月的条件）"
        ),
    },
    default="six_month_test",
)

CLASS3_RATIO_START = OptionSpec(
    name="class3_ratio_start",
    title="其他纳税人进项构成比例的计算期间",
    question=(
        "财政部 税务总局公告2025年第7号 第四条对第一项、第二项纳税人的进项构成比例自2019年4月起计算；"
        "第三项（其他纳税人）的进项构成比例从何时起计算？"
    ),
    choices={
        "prior_year_january": "自申请退税前一税款所属期上一年度1月起至申请退税前一税款所属期",
        "2019_04": "与第一项、第二项相同，自2019年4月起至申请退税前一税款所属期",
    },
    default="prior_year_january",
)

WINDOW_REUSE_2025 = OptionSpec(
    name="window_reuse_2025",
    title="2025年第7号公告已用于退税的月份能否重复计算",
    question=(
        "财政部 税务总局公告2025年第7号 第一条第（二）项、第（三）项的“连续六个月”，"
        "已用于以前留抵退税的月份能否再次计算？（39号公告第八条第（六）项规定不得重复计算）"
    ),
    choices={
        "not_reused": "与39号公告第八条第（六）项一致，已计算过的月份不得重复计算",
        "reuse_allowed": "不限制重复计算",
    },
    default="not_reused",
)

OPTION_SPECS: dict[str, OptionSpec] = {
    spec.name: spec for spec in (SMALL_MICRO_AFTER_2022, CLASS3_RATIO_START, WINDOW_REUSE_2025)
}


@dataclass(frozen=True)
class Options:
    """The options a case states, as (name, value) in the order given; one it does not state takes its documented
    default. What was stated is kept so that the case is written back as it was given (``case_json``)."""

    stated: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, values: Mapping[str, str] | None) -> Options:
        """The options of a mapping (a screening run's, an officer's); checked by ``check_options``."""
        return cls(tuple(values.items())) if values else cls()

    def value(self, name: str) -> str:
        for stated_name, value in self.stated:
            if stated_name == name:
                return value
        return OPTION_SPECS[name].default

    @property
    def small_micro_after_2022(self) -> str:
        return self.value(SMALL_MICRO_AFTER_2022.name)

    @property
    def class3_ratio_start(self) -> str:
        return self.value(CLASS3_RATIO_START.name)

    @property
    def window_reuse_2025(self) -> str:
        return self.value(WINDOW_REUSE_2025.name)

    def as_dict(self) -> dict[str, str]:
        """Every option with the value the rules take."""
        return {name: self.value(name) for name in OPTION_SPECS}


def check_options(options: Options) -> Options:
    """Unknown names or values are refused rather than ignored."""
    for name, value in options.stated:
        check_option(OPTION_SPECS, name, value, CaseError)
    return options


def parse_options(raw: object) -> Options:
    """``options`` of the case JSON (or of a screening run)."""
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "options 必须是 JSON 对象。")
    return check_options(Options(tuple(raw.items())))


def option_text(name: str, value: str) -> str:
    """An option as the trace writes it: its title and what the value taken means, never the keys."""
    spec = OPTION_SPECS[name]
    default = "（默认）" if value == spec.default else ""
    return f"规则选项“{spec.title}”：{spec.choices.get(value, value)}{default}"
