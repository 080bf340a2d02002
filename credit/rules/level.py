"""The level from the score and the facts: direct D, a D kept from last year, M, the bands, the A cap.

Order (40号 第十八–二十条 as amended by 2018年第8号; 2025年第12号 第十五–十八条): an unrepaired direct
D, or a direct D kept from last year, gives D; a new entity gives M; otherwise the score's band, with
M instead when there was no business revenue and the score is 70 or more; an A becomes B when a not-A
condition holds or a direct D was repaired this year (修复后不得评为A级).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.periods import Period

from .inputs import Evaluation
from .parameters import LevelBands

NOT_A_TITLES = {
    "business_under_3_years": "实际生产经营期不满3年",
    "previous_level_d": "上一评价年度纳税信用评价结果为D级",
    "vat_payable_zero_months": "非正常原因增值税应纳税额连续3个月或者累计6个月为零（零申报、负申报）",
    "books_not_proper": "不能按照国家统一的会计制度规定设置账簿，并根据合法、有效凭证核算",
    "direct_d_repaired": "直接判为D级的情形经修复后不得评为A级",
}
"""Why an A is capped at B (40号 第十九条; 2025年第12号 第十七条; 2021年第31号 三), as officers read them."""


@dataclass(frozen=True)
class LevelFacts:
    """What the level needs besides the score, fixed for the year."""

    direct_d_open: bool
    direct_d_kept: bool
    new_entity: bool
    no_business_revenue: bool
    not_a: tuple[str, ...]  # codes of NOT_A_TITLES that hold


def level_for(score: Decimal, facts: LevelFacts, bands: LevelBands) -> tuple[str, tuple[str, ...]]:
    """(level, why an A was capped at B — empty unless it was)."""
    if facts.direct_d_open or facts.direct_d_kept:
        return "D", ()
    if facts.new_entity:
        return "M", ()
    if facts.no_business_revenue and score >= bands.b:
        return "M", ()
    if score >= bands.a:
        return ("B", facts.not_a) if facts.not_a else ("A", ())
    if score >= bands.b:
        return "B", ()
    return ("C", ()) if score >= bands.c else ("D", ())


def is_new_entity(evaluation: Evaluation) -> bool:
    """Less than one evaluation year since the first tax (or fee) matter (2018年第8号 一; 2025 第十五条):
    the year is a calendar year, so an entity whose first matter falls after 1 January is new."""
    first = evaluation.taxpayer.first_tax_matter_date
    return first is not None and first > date(evaluation.year, 1, 1)


def business_under_3_years(first: date | None, year: int) -> bool:
    """实际生产经营期不满3年 at the end of the year; unknown start dates do not bar an A."""
    if first is None:
        return False
    try:
        third_anniversary = first.replace(year=first.year + 3)
    except ValueError:  # 29 February
        third_anniversary = date(first.year + 3, 3, 1)
    return third_anniversary > date(year + 1, 1, 1)


def zero_vat_months_bar_a(months: tuple[Period, ...], year: int) -> bool:
    """3 consecutive or 6 months in total within the year (a quarterly filer lists the quarter's 3 months)."""
    in_year = sorted({m for m in months if m.year == year})
    if len(in_year) >= 6:
        return True
    run = longest = 0
    previous = None
    for month in in_year:
        run = run + 1 if previous is not None and month.months_after(previous) == 1 else 1
        longest = max(longest, run)
        previous = month
    return longest >= 3


def not_a_conditions(evaluation: Evaluation, *, direct_d_repaired: bool) -> tuple[str, ...]:
    taxpayer = evaluation.taxpayer
    found = []
    if business_under_3_years(taxpayer.first_tax_matter_date, evaluation.year):
        found.append("business_under_3_years")
    if taxpayer.previous_level == "D":
        found.append("previous_level_d")
    if zero_vat_months_bar_a(taxpayer.vat_payable_zero_months, evaluation.year):
        found.append("vat_payable_zero_months")
    if not taxpayer.books_proper:
        found.append("books_not_proper")
    if direct_d_repaired:
        found.append("direct_d_repaired")
    return tuple(found)
