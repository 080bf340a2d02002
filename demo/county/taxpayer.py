"""One demo taxpayer: identity and scale, then the monthly returns, then contacts and records, then its rating
history (``ratings``)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from accounts.bulk import OrgUnit
from taxpayers.bulk import TaxpayerBundle

from .compliance import ComplianceRecords
from .industries import EXPORTER, INDUSTRIES, SECOND_INDUSTRY, IndustryProfile, enterprise_size
from .months import Calendar, DemoParams, lognormal, month_index
from .names import REGION_CODES, NameBook, make_identifier, mobile, person_name
from .org import DEVELOPMENT_ZONE_INDEX, branch_units
from .ratings import RatingHistory
from .simulation import MonthlyReturns


@dataclass
class DemoTaxpayer(TaxpayerBundle):
    """A taxpayer of the demo county as ``taxpayers.bulk`` takes it; ``archetype`` is kept for tests, not stored.
    ``ratings`` (first evaluation year, one level a year) are written by the seeding through credit's bulk path."""

    archetype: str
    ratings: tuple[int, str] = (0, "")

    @property
    def credit_level(self) -> str:
        """The latest year's level ("" when not rated yet)."""
        return self.ratings[1][-1:]


def generate(params: DemoParams) -> Iterator[DemoTaxpayer]:
    """Yield ``params.taxpayers`` demo taxpayers in a fixed order (same params, same rows)."""
    master = random.Random(params.seed)
    calendar = Calendar(params.today)
    names = NameBook()
    serials: Counter = Counter()
    branches = branch_units(params.branches)
    profile_weights = [p.weight for p in INDUSTRIES]
    for index in range(params.taxpayers):
        rng = random.Random(master.getrandbits(64))
        profile = rng.choices(INDUSTRIES, weights=profile_weights)[0]
        yield TaxpayerBuilder(index, rng, profile, params, calendar, branches, names, serials).build()


class TaxpayerBuilder(MonthlyReturns, ComplianceRecords, RatingHistory):
    """Draws one taxpayer. Every draw comes from its own generator (``rng``) in a fixed order, so a run of 300 is
    the first 300 taxpayers of a run of 3,000."""

    def __init__(
        self,
        index: int,
        rng: random.Random,
        profile: IndustryProfile,
        params: DemoParams,
        calendar: Calendar,
        branches: tuple[OrgUnit, ...],
        names: NameBook,
        serials: Counter,
    ) -> None:
        self.index = index
        self.rng = rng
        self.profile = profile
        self.params = params
        self.cal = calendar
        self.branches = branches
        self.names = names
        self.serials = serials

    def build(self) -> DemoTaxpayer:
        self._identity()
        annual = self._scale()
        legal_rep = person_name(self.rng)
        name = self.names.company(self.rng, self.profile, self.kind, legal_rep, self.large)
        identifier = make_identifier(
            self.index,
            seed=self.params.seed,
            kind=self.kind,
            region=REGION_CODES[-1] if self.branch.sort_order - 100 == DEVELOPMENT_ZONE_INDEX else REGION_CODES[0],
            new_style=self.registered_on.year >= 2016,
        )
        returns, prev_year_sales, months_operated = self.simulate()
        compliance, flags = self.compliance()
        if flags["abnormal"]:
            cut = self.cal.periods[self.cal.last - flags["abnormal"]]
            returns = [r for r in returns if r.period <= cut]
        taxpayer = {
            "identifier": identifier,
            "name": name,
            "branch_code": self.branch.code,
            "status": "abnormal" if flags["abnormal"] else "normal",
            "industry_code": self.code,
            "registered_on": self.registered_on,
            "general_taxpayer_since": dt.date(self.gt_index // 12, self.gt_index % 12 + 1, 1),
            "filing_frequency": "quarterly" if self.quarterly else "monthly",
            "legal_rep_name": legal_rep,
            **self._size(annual, prev_year_sales, months_operated),
            **self._contacts_and_rating(legal_rep, flags),
            "is_export_enterprise": self.exporter,
            "is_key_taxpayer": annual >= 50_000_000,
        }
        ratings = self.rating_history(self.level, returns)
        return DemoTaxpayer(taxpayer, returns, compliance, self.archetype, ratings)

    # -- identity and scale ---------------------------------------------------------------------------

    def _identity(self) -> None:
        """Industry, archetype, branch and registration."""
        rng, profile, cal = self.rng, self.profile, self.cal
        self.code = rng.choice(profile.codes)
        self.section, self.division = self.code[0], self.code[1:3]
        self.archetype = rng.choices(list(profile.archetypes), weights=list(profile.archetypes.values()))[0]
        branch_weights = [
            (profile.zone_bias if k == DEVELOPMENT_ZONE_INDEX else 1.0) * (1.25 if k < 2 else 1.0)
            for k in range(len(self.branches))
        ]
        self.branch = rng.choices(self.branches, weights=branch_weights)[0]
        # Registration: about three in four were general taxpayers before 2019-03.
        if rng.random() < 0.74:
            gt_index = month_index(rng.randint(2001, 2018), rng.randint(1, 12))
        else:
            gt_index = rng.randint(cal.first + 1, max(cal.first + 1, cal.last - 2))
        offset = rng.choice((0, 0, 0, 1, 3, 6, 12, 24, 36, 60))
        registered_index = gt_index - offset
        day = rng.randint(1, 28) if offset else 1
        self.registered_on = dt.date(registered_index // 12, registered_index % 12 + 1, day)
        self.gt_index, self.registered_index = gt_index, registered_index

    def _scale(self) -> float:
        """Annual VAT sales (lognormal around the industry median, yuan), assets, kind, filing and exports."""
        rng, profile = self.rng, self.profile
        annual = lognormal(rng, profile.median_sales_wan * 10_000, 1.15)
        annual = min(max(annual, 1_200_000), 3_000_000_000)
        self.base_month_fen = int(annual * 100 / 12)
        self.asset_ratio = rng.uniform(2.0, 6.0) if profile.key == "real_estate" else rng.uniform(0.4, 1.6)
        self.large = annual >= 200_000_000
        self.kind = "1"
        if annual < 10_000_000 and rng.random() < profile.individual_share:
            self.kind = "2"
        elif rng.random() < profile.cooperative_share:
            self.kind = "3"
        self.quarterly = rng.random() < 0.015
        self.exporter = self.archetype == EXPORTER or (self.section == "C" and rng.random() < 0.04)
        self.rate_bp = profile.rate_bp
        self.agri = rng.uniform(*profile.agri_share) if profile.agri_share[1] else 0.0
        self.multi = None
        if profile.key in SECOND_INDUSTRY and rng.random() < (0.2 if profile.key == "real_estate" else 0.04):
            self.multi = (SECOND_INDUSTRY[profile.key], rng.uniform(0.35, 0.8))
        return annual

    def _size(self, annual: float, prev_year_sales: int | None, months_operated: int) -> dict:
        """Size as 2022 No.14 art. 6 measures it: last year's VAT sales (annualised) and assets; and employees."""
        size, assets = "", None
        size_row = self.profile.size_row_by_code.get(self.code, self.profile.size_row)
        if prev_year_sales is not None:
            annualised = prev_year_sales * 12 // max(months_operated, 1)
            assets = int(annualised * self.asset_ratio) // 100 * 100
            size = enterprise_size(size_row, annualised, assets)
        return {
            "size": size,
            "size_industry": size_row,
            "employees": max(3, int(annual / self.rng.uniform(400_000, 1_500_000))),
            "prev_year_vat_sales": prev_year_sales,
            "prev_year_months_operated": months_operated if prev_year_sales is not None else None,
            "total_assets_prev_year_end": assets,
        }

    def _contacts_and_rating(self, legal_rep: str, flags: dict) -> dict:
        rng = self.rng
        finance = person_name(rng)
        handler = finance if rng.random() < 0.3 else person_name(rng)
        values = {
            "legal_rep_mobile": mobile(rng),
            "finance_contact_name": finance if rng.random() < 0.96 else "",
            "finance_contact_mobile": "",
            "tax_handler_name": handler if rng.random() < 0.92 else "",
            "tax_handler_mobile": "",
        }
        self.level = self._rating(flags)
        if values["finance_contact_name"]:
            values["finance_contact_mobile"] = mobile(rng)
        if values["tax_handler_name"]:
            same = values["tax_handler_name"] == values["finance_contact_name"]
            values["tax_handler_mobile"] = values["finance_contact_mobile"] if same else mobile(rng)
        return values

    def _rating(self, flags: dict) -> str:
        rng = self.rng
        if flags["fraud"] or flags["abnormal"]:
            return "D"
        if flags["penalties"] >= 2 and rng.random() < 0.6:
            return "C"
        registered_year = self.registered_index // 12
        if registered_year > self.cal.credit_year:
            return ""  # registered after the last evaluation year: not rated yet
        if registered_year == self.cal.credit_year and rng.random() < 0.8:
            return "M"  # 新设立: no full evaluation year yet
        return rng.choices("ABMCD", weights=(14, 72, 4, 7, 3))[0]
