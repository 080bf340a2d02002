"""The demo county's dishonesty events (失信行为): a pure generator with the mix a county's records show.

Why: the credit pages, the warning lists and the repair cases need behaviours to work on. Most taxpayers have
none in a year; among those that do, late financial statements (010103) and late returns of taxes other than VAT
(010101: 企业所得税, 印花税, 城市维护建设税… — late VAT returns are derived from the returns themselves) are the
most frequent, most corrected within days, a first one sometimes 首违不罚; some taxpayers never filed their 财务
会计制度 (010501); a few have larger ones (withholding, late payment, accounting software not filed). Taxpayers rated
C or D are sloppier than those rated A.

It also says which taxpayers the credit section's file recognises as 专精特新 or innovative SMEs (``sme_flags``).

Pure: plain rows from a generator per taxpayer (seeded from the county's seed and the taxpayer's identifier), no
ORM and no clock (``today`` is an argument). Each indicator is taken only where the table in force on its
record date has it (``credit.rules.indicators``).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from credit.bulk import PastEvent
from credit.rules.indicators import BANK_ACCOUNT_REPORTED_LATE, BANK_ACCOUNTS_NOT_ALL_REPORTED, find_indicator

RECENT_DAYS = 60
B_RATE_THIS_YEAR = 2.4
LAPSE_SHARE = 0.04  # A taxpayers with a behaviour of last month still open: the at-risk list's rows
FIRST_YEAR_OFFSET = 2  # events from two years before today's (the rated years and the current one)
# Expected behaviours a year by how careful a taxpayer is: most keep every deadline.
CARE = (("clean", 0.0, 74), ("occasional", 0.9, 19), ("sloppy", 2.4, 5), ("careless", 4.5, 2))
CARE_BY_LEVEL = {  # the rating in force shifts the odds: an A is rarely careless, a D often
    "A": (90, 9, 1, 0),
    "C": (35, 35, 20, 10),
    "D": (25, 30, 25, 20),
}
OTHER_TAXES = (("企业所得税", 5), ("城市维护建设税", 3), ("印花税", 3), ("房产税", 1), ("城镇土地使用税", 1))
KINDS = (  # (kind, weight among behaviours)
    ("statement", 42),
    ("return", 36),
    ("withholding", 9),
    ("system", 6),
    ("payment", 3),
    ("related", 2),
    ("software", 2),
    ("bank", 2),  # bank accounts not all reported, or one reported late (local codes)
)


@dataclass(frozen=True)
class CreditSubject:
    """What the generator needs of a taxpayer (read by the caller through the apps' selectors)."""

    taxpayer_id: int
    identifier: str
    registered_on: dt.date
    level: str  # the rating in force today, "" when none
    industry_code: str = ""
    size: str = ""


def _quarter_deadlines(year: int) -> list[dt.date]:
    """The day after each quarter's filing deadline (statements, 企业所得税 prepayment, 印花税): the 16th."""
    return [dt.date(year, month, 16) for month in (1, 4, 7, 10)]


def _correction(rng: random.Random, recorded_on: dt.date, today: dt.date, open_share: float) -> dt.date | None:
    """Most are corrected within days, some within weeks, a few months later; some still open."""
    if rng.random() < open_share:
        return None
    days = rng.choice((1, 1, 2, 3, 5, 8, 12, 20, 26)) if rng.random() < 0.8 else rng.randint(31, 150)
    corrected = recorded_on + dt.timedelta(days=days)
    return corrected if corrected <= today else None


class TaxpayerEvents:
    """Draws one taxpayer's behaviours from its own generator, year by year."""

    def __init__(self, subject: CreditSubject, *, seed: int, today: dt.date) -> None:
        self.subject = subject
        self.today = today
        self.rng = random.Random(f"{seed}:credit:{subject.identifier}")
        weights = CARE_BY_LEVEL.get(subject.level, [w for _, _, w in CARE])
        self.rate = self.rng.choices([rate for _, rate, _ in CARE], weights=weights)[0]
        self.first_penalty_spared = False
        self.keys: set[tuple] = set()

    def build(self) -> list[PastEvent]:
        rows: list[PastEvent] = []
        if self.rate == 0:
            return rows
        start = max(self.today.year - FIRST_YEAR_OFFSET, self.subject.registered_on.year)
        for year in range(start, self.today.year + 1):
            count = self._count(year)
            for _ in range(count):
                row = self._draw(year)
                if row is not None:
                    rows.append(row)
        return rows

    def _count(self, year: int) -> int:
        share = 1.0 if year < self.today.year else (self.today.timetuple().tm_yday / 366)
        rate = self.rate
        if year == self.today.year and self.subject.level == "B":
            rate = min(rate, B_RATE_THIS_YEAR)  # a B this careless would already have been rated lower
        expected = rate * share
        count = int(expected)
        return count + (self.rng.random() < expected - count)

    def _behaviour(self, kind: str, year: int) -> tuple[str, dt.date, str, Decimal | None]:
        """The indicator, record date, tax and amount of one behaviour of ``kind``."""
        rng = self.rng
        month_day = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        if kind == "statement":
            return "010103", rng.choice([*_quarter_deadlines(year), dt.date(year, 6, 1)]), "", None
        if kind == "return":
            tax = rng.choices([t for t, _ in OTHER_TAXES], weights=[w for _, w in OTHER_TAXES])[0]
            amount = Decimal(rng.choice((0, 0, rng.randint(50, 3_000), rng.randint(1_000, 60_000))))
            return "010101", rng.choice(_quarter_deadlines(year)), tax, amount
        if kind == "withholding":
            return "010102", month_day.replace(day=16), "个人所得税", Decimal(rng.randint(200, 8_000))
        if kind == "payment":
            return "020101", month_day.replace(day=16), "", Decimal(rng.randint(20_000, 600_000))
        if kind == "bank":
            return rng.choice((BANK_ACCOUNTS_NOT_ALL_REPORTED, BANK_ACCOUNT_REPORTED_LATE)), month_day, "", None
        return {"system": "010501", "related": "010503", "software": "010502"}[kind], month_day, "", None

    def _correction_of(self, indicator: str, day: dt.date, year: int) -> dt.date | None:
        rng = self.rng
        if self.subject.level == "A" and year == self.today.year:
            # An A taxpayer corrects within days; only a recent behaviour is still open, its deadline ahead.
            if (self.today - day).days <= RECENT_DAYS and indicator != "010501":
                return None
            return min(day + dt.timedelta(days=rng.randint(1, 3)), self.today)
        open_share = 0.5 if indicator == "010501" else 0.06 if year < self.today.year else 0.3
        return _correction(rng, day, self.today, open_share)

    def _draw(self, year: int) -> PastEvent | None:
        rng = self.rng
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        indicator, day, tax, amount = self._behaviour(kind, year)
        if kind == "related":
            day = dt.date(year, 6, 1)
        if day >= self.today or day < self.subject.registered_on or find_indicator(indicator, day) is None:
            return None
        key = (indicator, tax, day)
        if key in self.keys or (indicator == "010501" and any(k[0] == indicator for k in self.keys)):
            return None
        self.keys.add(key)
        corrected = self._correction_of(indicator, day, year)
        no_penalty = False
        if indicator == "010101" and corrected and (corrected - day).days <= 5 and not self.first_penalty_spared:
            # 首违不罚: a first late return corrected at once is recorded but not penalised.
            no_penalty = self.first_penalty_spared = rng.random() < 0.6
        return PastEvent(self.subject.taxpayer_id, indicator, day, tax, amount, corrected, no_penalty)


INNOVATIVE_SECTIONS = frozenset("CIM")  # manufacturing, information technology, research and technical services


def sme_flags(subject: CreditSubject, *, seed: int) -> tuple[bool, bool]:
    """(专精特新, 创新型中小企业): small and medium manufacturers and technology firms are the ones recognised; a
    specialised SME is also an innovative one (the recognition builds on it)."""
    rng = random.Random(f"{seed}:sme:{subject.identifier}")
    if subject.size not in ("small", "medium"):
        return False, False
    technical = subject.industry_code[:1] in INNOVATIVE_SECTIONS
    specialized = technical and rng.random() < 0.07
    return specialized, specialized or rng.random() < (0.12 if technical else 0.01)


def recent_lapses(subjects: list[CreditSubject], *, seed: int, today: dt.date, at_least: int = 3) -> list[PastEvent]:
    """A few A taxpayers whose withholding return of last month (个人所得税 代扣代缴) is late and still open: what
    the at-risk list shows, each with points at stake and a deadline ahead. At least ``at_least`` of them."""
    rated_a = [s for s in subjects if s.level == "A"]
    random.Random(f"{seed}:lapses").shuffle(rated_a)
    count = min(len(rated_a), max(at_least, round(len(rated_a) * LAPSE_SHARE)))
    recorded_on = dt.date(today.year, today.month, 16)
    if recorded_on >= today - dt.timedelta(days=1):
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        recorded_on = last_month.replace(day=16)
    return [
        PastEvent(s.taxpayer_id, "010102", recorded_on, "个人所得税", Decimal(800 + 37 * (s.taxpayer_id % 50)))
        for s in rated_a[:count]
        if s.registered_on < recorded_on
    ]


def generate_events(subjects: list[CreditSubject], *, seed: int, today: dt.date) -> list[PastEvent]:
    """Every subject's behaviours up to ``today`` (same subjects, seed and day: the same rows)."""
    rows: list[PastEvent] = []
    for subject in subjects:
        rows.extend(TaxpayerEvents(subject, seed=seed, today=today).build())
    return rows
