"""Repair (纳税信用修复) of one deduction: which band a correction falls in, and what it restores.

The band is measured from the record date (2021年第31号 附件2 备注1: 30日内 counts day 30, from the
day the behaviour was entered as a dishonesty record; the 2025 bands 3/30/90 days are read the same
way). What a band restores is its share of the deduction, 100 % for the amount-rule indicators when
the tax involved is small (1,000 yuan before 2025-07, 2,000 yuan after), never more than the
deduction. Corrections after the last band (old rules: after the end of the year after the record)
restore nothing. Also the windows of the objections: 复核 before a year's result, 复评 after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .indicators import Indicator
from .parameters import (
    RE_EVALUATION_SAME_YEAR,
    RE_EVALUATION_WINDOW,
    REVIEW_WINDOW,
    RepairBand,
    RepairStandard,
    evaluation_date,
)

TENTH = Decimal("0.1")
ZERO = Decimal(0)


def points(value: Decimal) -> Decimal:
    """Scores carry at most one decimal place."""
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RepairTerms:
    """What decides a deduction's repair, besides the correction date."""

    indicator: Indicator
    standard: RepairStandard
    deduction: Decimal
    amount: Decimal | None  # tax involved; None when unknown
    threshold_included: bool = True  # "1000元以下" includes 1,000 (option ``amount_threshold``)
    bankruptcy: bool = False

    def is_small(self) -> bool:
        if self.indicator.repair != "amount_rule" or self.amount is None:
            return False  # unknown amount: the lower share, never an overstatement
        limit = self.standard.small_amount
        return self.amount <= limit if self.threshold_included else self.amount < limit

    def restores(self, band: RepairBand) -> Decimal:
        share = band.small_share if band.small_share is not None and self.is_small() else band.share
        return min(points(self.deduction * share), self.deduction)


FOUND_KEPT = 100_000


def band_for(standard: RepairStandard, recorded_on: date, corrected_on: date) -> RepairBand | None:
    """The first band whose last day is on or after the correction; None when all have passed (kept per
    standard and day pair, emptied when it reaches ``FOUND_KEPT``)."""
    key = (recorded_on, corrected_on)
    try:
        return standard.found[key]
    except KeyError:
        pass
    found = None
    for band in standard.bands:
        last = band.last_day(recorded_on)
        if last is None or corrected_on <= last:
            found = band
            break
    if len(standard.found) >= FOUND_KEPT:
        standard.found.clear()
    standard.found[key] = found
    return found


def repair_of(terms: RepairTerms, recorded_on: date, corrected_on: date) -> tuple[str, Decimal]:
    """(band name, points restored) for a correction on ``corrected_on``."""
    if not terms.indicator.repairable:
        return "not_repairable", ZERO
    if terms.bankruptcy:
        band = next(b for b in terms.standard.bands if b.name == terms.standard.first_band_in_bankruptcy)
        return band.name, terms.restores(band)
    band = band_for(terms.standard, recorded_on, corrected_on)
    if band is None:
        return "too_late", ZERO
    return band.name, terms.restores(band)


def best_still_open(terms: RepairTerms, recorded_on: date, as_of: date) -> tuple[Decimal, date | None] | None:
    """For an open behaviour: what correcting it restores at best from ``as_of`` on, and the last day
    that still holds (None when the band has no end); None when nothing can be restored any more."""
    if not terms.indicator.repairable:
        return None
    if terms.bankruptcy:
        band = next(b for b in terms.standard.bands if b.name == terms.standard.first_band_in_bankruptcy)
        return terms.restores(band), None
    band = band_for(terms.standard, recorded_on, as_of)
    if band is None:
        return None
    restored = terms.restores(band)
    return (restored, band.last_day(recorded_on)) if restored > 0 else None


def re_evaluation_deadline(rated_on: date) -> date:
    """The last day a 复评 of a result set on ``rated_on`` may be filed: the end of that calendar year under
    the 2014 rules, the day before the next annual evaluation under the 2025 rules."""
    if RE_EVALUATION_WINDOW.at(rated_on) == RE_EVALUATION_SAME_YEAR:
        return date(rated_on.year, 12, 31)
    return evaluation_date(rated_on.year) - timedelta(days=1)


def review_window(year: int) -> tuple[date, date]:
    """The first and last day a 复核 of ``year``'s indicators may be filed: March of the next year, both days
    included (the rule in force on the year's evaluation date)."""
    return REVIEW_WINDOW.at(evaluation_date(year)).bounds(year)
