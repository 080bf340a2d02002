"""Every number, band and date of the credit rules, keyed by effective date, each with its citation.

Two keys are used, and each parameter says which:

- the **evaluation date** of a year (``evaluation_date``): 1 April of the following year, when the
  results are set (国家税务总局公告2014年第40号 第二十三条: 每年4月确定上一年度纳税信用评价结果).
  Year-level rules — start score, level bands, what a previous D means, 首违不罚 — take the
  version in force on that day, so "from the 2020 evaluation year" (2020年第15号, in force
  2020-11-01) reads as the version valid on 2021-04-01;
- the **record date** of a behaviour (the day it became a dishonesty record): the indicator
  table, how it is counted and its repair standard.

A lookup outside every version raises ``NotCovered`` instead of guessing. The covered evaluation
years are ``FIRST_YEAR`` … ``LAST_YEAR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from core.contract import NotCovered, Parameter, Version  # noqa: F401  (re-exported)

T = TypeVar("T")

# --- documents ---------------------------------------------------------------------------------

STA_2014_40 = "国家税务总局公告2014年第40号《纳税信用管理办法（试行）》"
STA_2014_48 = "国家税务总局公告2014年第48号《纳税信用评价指标和评价方式（试行）》"
STA_2018_8 = "国家税务总局公告2018年第8号"
STA_2019_37 = "国家税务总局公告2019年第37号"
STA_2020_15 = "国家税务总局公告2020年第15号"
STA_2021_31 = "国家税务总局公告2021年第31号"
STA_2025_12 = "国家税务总局公告2025年第12号《纳税缴费信用管理办法》"

RULE_SET_2014 = "CN-2014-40"
RULE_SET_2025 = "CN-2025-12"

# --- coverage ----------------------------------------------------------------------------------

FIRST_YEAR = 2019
"""The first evaluation year modelled: the 2019 year was rated in April 2020, after the first repair
regime (2019年第37号, in force 2020-01-01). Earlier years are not modelled."""

LAST_YEAR = 2027
"""The last evaluation year we vouch for; 2025年第12号 has no end date. Review before moving it."""

NEW_SYSTEM_FROM = date(2025, 7, 1)
"""2025年第12号 in force; 2014年第48号 repealed from the same day (第四十条)."""


def evaluation_date(year: int) -> date:
    """The day year ``year`` is rated (40号 第二十三条; 2025年第12号 keeps April)."""
    return date(year + 1, 4, 1)


OLD_FROM = date(2014, 10, 1)  # 40号 and 48号 in force
OLD_TO = date(2025, 6, 30)

RULE_SET = Parameter(
    "rule_set",
    "the rating system in force on a day",
    (
        Version(OLD_FROM, OLD_TO, RULE_SET_2014, f"{STA_2014_40}；{STA_2014_48}"),
        Version(NEW_SYSTEM_FROM, None, RULE_SET_2025, f"{STA_2025_12} 第四十条"),
    ),
)

# --- start scores (key: evaluation date) --------------------------------------------------------


@dataclass(frozen=True)
class StartScores:
    """起评分: with non-regular indicator information; without it but with complete 纳税缴费 information
    among the regular indicators (2025 only, None before); without either."""

    with_non_regular: Decimal
    regular_complete: Decimal | None
    otherwise: Decimal


START_SCORES = Parameter(
    "start_scores",
    "start score by what indicator information the year has",
    (
        Version(
            OLD_FROM,
            date(2020, 10, 31),
            StartScores(Decimal(100), None, Decimal(90)),
            f"{STA_2014_40} 第十五条第二款（非经常性指标缺失的，从90分起评）",
        ),
        Version(
            date(2020, 11, 1),
            date(2026, 3, 31),
            StartScores(Decimal(100), None, Decimal(90)),
            f"{STA_2020_15} 二（近三个评价年度内存在非经常性指标信息的，从100分起评；没有的，从90分起评）",
        ),
        Version(
            date(2026, 4, 1),
            None,
            StartScores(Decimal(100), Decimal(93), Decimal(90)),
            f"{STA_2025_12} 第十三条（100/93/90分起评）",
        ),
    ),
)
"""The 2025 evaluation year is rated on 2026-04-01 under the 2025 办法 (the documented default);
the ``transition_2025`` option can rate it under the old rules instead."""

# --- level bands (key: evaluation date) ---------------------------------------------------------


@dataclass(frozen=True)
class LevelBands:
    """Lower bounds, each included ("X分以上"); below ``c`` is D ("不满40分")."""

    a: Decimal
    b: Decimal
    c: Decimal


LEVEL_BANDS = Parameter(
    "level_bands",
    "A ≥ 90, B 70–<90, C 40–<70, D < 40",
    (
        Version(
            OLD_FROM,
            date(2026, 3, 31),
            LevelBands(Decimal(90), Decimal(70), Decimal(40)),
            f"{STA_2014_40} 第十八条（{STA_2018_8} 三 修改）",
        ),
        Version(date(2026, 4, 1), None, LevelBands(Decimal(90), Decimal(70), Decimal(40)), f"{STA_2025_12} 第十六条"),
    ),
)

NOT_A_CITATION = Parameter(
    "not_a_citation",
    "the conditions that bar an A",
    (
        Version(OLD_FROM, date(2026, 3, 31), None, f"{STA_2014_40} 第十九条"),
        Version(date(2026, 4, 1), None, None, f"{STA_2025_12} 第十七条"),
    ),
)

M_LEVEL_CITATION = Parameter(
    "m_level_citation",
    "M: new entity, or no business revenue with a score of 70 or more",
    (
        Version(date(2018, 4, 1), date(2026, 3, 31), None, f"{STA_2018_8} 三"),
        Version(date(2026, 4, 1), None, None, f"{STA_2025_12} 第十五条、第十六条"),
    ),
)

DIRECT_D_CITATION = Parameter(
    "direct_d_citation",
    "situations rated D directly",
    (
        Version(OLD_FROM, date(2026, 3, 31), None, f"{STA_2014_40} 第二十条"),
        Version(date(2026, 4, 1), None, None, f"{STA_2025_12} 第十八条"),
    ),
)

# --- a previous D (key: evaluation date of the current year) ------------------------------------


@dataclass(frozen=True)
class PreviousD:
    """What last year's D does this year, by how it was reached: ``kept`` (D again, the D year and the
    next), ``extra`` (that many points deducted on top) or ``none`` (neither). ``related``: a D reached directly
    only through the responsible person of a 非正常户 or of a D taxpayer (040104/040105)."""

    score: str
    direct: str
    extra_points: Decimal
    related: str = "kept"


PREVIOUS_D = Parameter(
    "previous_d",
    "D kept for 2 years, or 11 more points after a score-based D; from 2026 not kept after a related D",
    (
        Version(
            OLD_FROM,
            date(2020, 10, 31),
            PreviousD("kept", "kept", Decimal(0)),
            f"{STA_2014_40} 第三十二条（七）（D级评价保留2年）",
        ),
        Version(
            date(2020, 11, 1),
            date(2026, 3, 31),
            PreviousD("extra", "kept", Decimal(11)),
            f"{STA_2020_15} 三（因评价指标得分评为D级的，次年评价时加扣11分；直接判级的，D级评价保留2年）",
        ),
        Version(
            date(2026, 4, 1),
            None,
            PreviousD("extra", "kept", Decimal(11), related="none"),
            f"{STA_2025_12} 第三十四条（四）（关联评价为D的不适用D级评价保留2年）",
        ),
    ),
)

# --- 首违不罚 (key: evaluation date) --------------------------------------------------------------

NO_PENALTY_NOT_COUNTED = Parameter(
    "no_penalty_not_counted",
    "whether a behaviour given no penalty (首违不罚 / 不予行政处罚) is left out of the rating",
    (
        Version(OLD_FROM, date(2022, 3, 31), False, f"{STA_2014_48}（2021年评价年度前照常扣分）"),
        Version(date(2022, 4, 1), date(2026, 3, 31), True, f"{STA_2021_31}（首违不罚记录不纳入纳税信用评价）"),
        Version(date(2026, 4, 1), None, True, f"{STA_2025_12} 第十九条（三）"),
    ),
)

# --- bonuses of the 2025 system (key: evaluation date; used only when an option asks) ------------

CONSECUTIVE_A_BONUS = Parameter(
    "consecutive_a_bonus",
    "+1 at the evaluation for consecutive A ratings, up to 100 (secondary source, unverified)",
    (Version(date(2026, 4, 1), None, Decimal(1), f"{STA_2025_12}（A级纳税人激励措施：连续评为A级加1分，最高100分）"),),
)

OVERALL_REPAIR_CAP = Parameter(
    "overall_repair_cap",
    "整体守信修复: +1 per clean month after correcting, up to 11 points (trigger and cap unverified)",
    (Version(date(2026, 4, 1), None, Decimal(11), f"{STA_2025_12} 附件6（整体守信修复）"),),
)

NOT_A_DEDUCTION_2014 = Parameter(
    "not_a_deduction_2014",
    "the one-off 11 points some bureaus list for two not-A conditions under the 48号 table",
    (Version(OLD_FROM, date(2026, 3, 31), Decimal(11), f"{STA_2014_48}（一次性扣11分）"),),
)

# --- repair standards (key: record date) --------------------------------------------------------


@dataclass(frozen=True)
class RepairBand:
    """A correction band: its name, where it ends, and the share of the deduction restored.

    ``until`` is ("days", n): n days after the record date, day n included; ("year_end", k): 31 December
    of the record year plus k years; ("open", 0): no end. ``small_share`` applies to the indicators with
    the amount rule when the tax involved is at or under ``RepairStandard.small_amount``.
    """

    name: str
    until: tuple[str, int]
    share: Decimal
    small_share: Decimal | None = None

    def last_day(self, recorded_on: date) -> date | None:
        kind, n = self.until
        if kind == "days":
            return date.fromordinal(recorded_on.toordinal() + n)
        if kind == "year_end":
            return date(recorded_on.year + n, 12, 31)
        return None


@dataclass(frozen=True)
class RepairStandard:
    bands: tuple[RepairBand, ...]
    small_amount: Decimal  # 涉及税款（税费款）X元以下
    first_band_in_bankruptcy: str  # ※ items of a firm in 重整/和解 are repaired as if in this band

    def __post_init__(self) -> None:
        # The band found for each (record, correction) day pair: the daily prediction asks the same few
        # thousand pairs for every taxpayer, and the bands never change (see ``repair.band_for``).
        object.__setattr__(self, "found", {})


REPAIR_2019 = RepairStandard(
    bands=(
        RepairBand("within_30_days", ("days", 30), Decimal("0.8"), Decimal(1)),
        RepairBand("after_30_days_same_year", ("year_end", 0), Decimal("0.4")),
        RepairBand("after_30_days_next_year", ("year_end", 1), Decimal("0.2")),
    ),
    small_amount=Decimal(1000),
    first_band_in_bankruptcy="within_30_days",
)

REPAIR_2025 = RepairStandard(
    bands=(
        RepairBand("within_3_days", ("days", 3), Decimal(1)),
        RepairBand("within_30_days", ("days", 30), Decimal("0.8"), Decimal(1)),
        RepairBand("within_90_days", ("days", 90), Decimal("0.6")),
        RepairBand("after_90_days", ("open", 0), Decimal("0.4")),
    ),
    small_amount=Decimal(2000),
    first_band_in_bankruptcy="within_3_days",
)

REPAIR_STANDARD = Parameter(
    "repair_standard",
    "repair bands and shares: 80/40/20 % (1,000-yuan rule), then 100/80/60/40 % (2,000-yuan rule)",
    (
        Version(OLD_FROM, date(2021, 12, 31), REPAIR_2019, f"{STA_2019_37} 附件1《纳税信用修复范围及标准》"),
        Version(date(2022, 1, 1), OLD_TO, REPAIR_2019, f"{STA_2021_31} 附件2"),
        Version(NEW_SYSTEM_FROM, None, REPAIR_2025, f"{STA_2025_12} 附件6《纳税缴费信用修复范围及标准》"),
    ),
)
"""Behaviours recorded before 2020-01-01 (the 2019 year) are repaired under 37号 too: they were rated in
April 2020, and 37号 repairs the deductions not yet rated at the annual evaluation. 31号 kept 37号's
values and defined the bands (附件2 备注1: 30日内 includes day 30, counted from the dishonesty record)."""

NO_PENALTY_CITATION = Parameter(
    "no_penalty_citation",
    "citation for a behaviour left out because no penalty was given",
    (
        Version(OLD_FROM, OLD_TO, None, f"{STA_2021_31}（首违不罚记录不纳入纳税信用评价）"),
        Version(NEW_SYSTEM_FROM, None, None, f"{STA_2025_12} 第十九条（三）"),
    ),
)

REFUND_CREDIT_LEVELS = frozenset({"A", "B"})
"""留抵退税 needs an A or B rating at the application (财政部 税务总局 海关总署公告2019年第39号 第八条（一）2;
财政部 税务总局公告2022年第14号 第三条; 财政部 税务总局公告2025年第7号 第二条); M, C and D fail."""

# --- objections (复评) ----------------------------------------------------------------------------

RE_EVALUATION_SAME_YEAR = "same_year"
RE_EVALUATION_UNTIL_NEXT = "until_next_evaluation"

RE_EVALUATION_WINDOW = Parameter(
    "re_evaluation_window",
    "how long after a year's result is set a 复评 may be filed, keyed by the day the result was set",
    (
        Version(
            OLD_FROM,
            date(2026, 3, 31),
            RE_EVALUATION_SAME_YEAR,
            f"{STA_2014_40} 第二十四条；国家税务总局公告2015年第46号（结果确定当年内提出复评）",
        ),
        Version(
            date(2026, 4, 1),
            None,
            RE_EVALUATION_UNTIL_NEXT,
            f"{STA_2025_12} 附件4《纳税缴费信用复评（核）申请表》（下一评价年度结果确定前提出）",
        ),
    ),
)
"""The first results set under the 2025 rules are the 2025 year's, on 2026-04-01; results set before then are
objected to under 40号 until the end of the year they were set."""

# --- objections before the result (复核) -----------------------------------------------------------


@dataclass(frozen=True)
class ReviewWindow:
    """复核: the month of the year after the evaluation year in which it is filed (day 1 to the month's end)."""

    month: int

    def bounds(self, year: int) -> tuple[date, date]:
        first = date(year + 1, self.month, 1)
        following = date(year + 1 + self.month // 12, self.month % 12 + 1, 1)
        return first, date.fromordinal(following.toordinal() - 1)


REVIEW_WINDOW = Parameter(
    "review_window",
    "复核 of a year's indicators is filed in March of the next year and handled when the results are set in April",
    (
        Version(
            OLD_FROM,
            date(2026, 3, 31),
            ReviewWindow(3),
            f"{STA_2014_40} 第二十三条（每年4月确定上一年度评价结果）；"
            "《纳税信用复评（核）申请表》（评价年度次年3月提出复核）",
        ),
        Version(
            date(2026, 4, 1),
            None,
            ReviewWindow(3),
            f"{STA_2025_12} 附件4《纳税缴费信用复评（核）申请表》（评价年度次年3月提出复核，4月确定结果时处理）",
        ),
    ),
)
"""Keyed by the evaluation date of the year under review (1 April of the next year): the 2024 year is reviewed
under the 2014 rules in March 2025, the 2025 year under the 2025 rules in March 2026 (the March 复核 is still
offered, 上海税务 2025)."""

# --- a 非正常户 lifted (key: the day the status was lifted) ---------------------------------------------

NON_NORMAL_LIFT_ON_APPLICATION = "on_application"
NON_NORMAL_LIFT_AUTOMATIC = "automatic"

NON_NORMAL_LIFT_REPAIR = Parameter(
    "non_normal_lift_repair",
    "whether lifting the 非正常户 status repairs the direct D given for it on application or without one",
    (
        Version(
            date(2020, 1, 1),
            OLD_TO,
            NON_NORMAL_LIFT_ON_APPLICATION,
            f"{STA_2019_37} 一（三）；{STA_2021_31} 附件2（解除非正常户后申请修复，不得评为A级）",
        ),
        Version(
            NEW_SYSTEM_FROM,
            None,
            NON_NORMAL_LIFT_AUTOMATIC,
            f"{STA_2025_12} 第二十四条（免申请修复：解除非正常户状态后重新评价，不得评为A级）",
        ),
    ),
)
"""The 2025 list of repairs without application (纠正在3日内的、非正常户解除的、尚未纳入评价的) is read in a
secondary summary only; the rest of the 2025 direct-D repair conditions were not read, so the automatic repair
keeps the old once-a-year and 12-clean-months limits and leaves to an officer what they refuse."""
