"""Related D (关联评价为D): a taxpayer rated D directly only because its directly responsible person is linked to a
非正常户 (indicator 040104) or to a D taxpayer (040105), and its repair once that cause is cleared.

The cause is cleared when the linked firm is no longer 非正常户 (040104) or when its own rating in force is no
longer D (040105; 2019年第37号 三: a firm repaired out of D lets the firms dragged into D through the same person
have that linked D removed). The repair is a direct-D repair: the D is lifted on the day the cause was cleared and
the level comes from the year's score, at most B (``level.level_for`` with ``direct_d_repaired``). How long the
taxpayer must have had no new dishonesty record before applying is the ``related_d_clean_months`` option: 6 months
(2021年第31号 一（三）) or none (the cause cleared is enough, as 江西税务 repairs these automatically).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .inputs import DirectD
from .options import Options
from .parameters import STA_2019_37, STA_2021_31, STA_2025_12, Parameter, Version

RELATED_NON_NORMAL = "040104"
RELATED_D_TAXPAYER = "040105"
RELATED_D_NAMES = {
    RELATED_NON_NORMAL: "非正常户直接责任人员注册登记或者负责经营的其他纳税人",
    RELATED_D_TAXPAYER: "D级纳税人的直接责任人员注册登记或者负责经营的其他纳税人",
}
"""The two related-D indicators (2014年第48号 04 登记与账簿; 2025年第12号 第十八条（十）（十一）)."""


@dataclass(frozen=True)
class RelatedDRule:
    """Clean months asked before applying (no new dishonesty record), when the option asks for them."""

    clean_months: int


RELATED_D_REPAIR = Parameter(
    "related_d_repair",
    "related D repaired once its cause is cleared; months without new dishonesty before applying (by application day)",
    (
        Version(
            date(2020, 1, 1),
            date(2021, 12, 31),
            RelatedDRule(0),
            f"{STA_2019_37} 三（关联企业纳税信用级别不再为D级的，可申请移出关联D级）",
        ),
        Version(
            date(2022, 1, 1),
            date(2025, 6, 30),
            RelatedDRule(6),
            f"{STA_2021_31} 一（三）（因关联评价为D级，申请前连续6个月没有新增纳税信用失信行为记录）",
        ),
        Version(
            date(2025, 7, 1),
            None,
            RelatedDRule(6),
            f"{STA_2025_12} 第三十四条（关联判D不适用D级保留）；附件6 等待期未见，沿用{STA_2021_31} 一（三）的6个月",
        ),
    ),
)


@dataclass(frozen=True)
class LinkedFirm:
    """What the related D hangs on: the linked firm's registry status and its rating in force."""

    non_normal: bool
    level: str | None


def related_d_cleared(code: str, linked: LinkedFirm) -> bool:
    """Whether the cause of a related D is gone: the linked firm is no longer 非正常户 (040104), or no longer D
    (040105)."""
    if code == RELATED_NON_NORMAL:
        return not linked.non_normal
    if code == RELATED_D_TAXPAYER:
        return linked.level != "D" and not linked.non_normal
    raise ValueError(f"not a related-D indicator: {code}")


def related_d_clean_months(applied_on: date, options: Options) -> int:
    """Months without a new dishonesty record asked before a related-D repair applied for on ``applied_on``."""
    if options.related_d_clean_months == "none":
        return 0
    return RELATED_D_REPAIR.at(applied_on).clean_months


def related_direct_d(code: str, rated_d_on: date, cleared_on: date | None) -> DirectD:
    """The rules' direct D for a related D, repaired on the day its cause was cleared (None: still open)."""
    return DirectD(reason=code, date=rated_d_on, repaired_on=cleared_on)
