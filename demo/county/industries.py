"""The county's industries (GB/T 4754-2017) with what drives their returns, and enterprise size.

The tables themselves are data (``industries.toml``: the industries, and the size ladders); here are the rules that
read them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# Credit profiles ("archetypes"): how a taxpayer's input tax compares with its output tax.
PAYER = "payer"  # ordinary payer: input below output, tax every month, no credit
SEASONAL = "seasonal"  # purchases peak before sales: credit builds and is used up within the year
STOCK = "stock"  # carried a credit at 2019-03 (存量留抵) that lingers; many took the 2022 stock refund
GROWER = "grower"  # runs of six+ months of rising credit (the 2019 No.39 / 2025 No.7 class-3 test)
INVESTOR = "investor"  # capital spending: large credits that persist (2025 No.7 class 1 in manufacturing)
DEVELOPER = "developer"  # real-estate development: credit builds while building, used at delivery
EXPORTER = "exporter"  # zero-rated exports keep a credit; 免抵退 reduces it outside these columns
ARCHETYPES = (PAYER, SEASONAL, STOCK, GROWER, INVESTOR, DEVELOPER, EXPORTER)


@dataclass(frozen=True)
class IndustryProfile:
    """One row of ``industries.toml`` (the columns are explained at its top)."""

    key: str
    weight: float
    codes: tuple[str, ...]
    words: tuple[str, ...]
    size_row: str
    rate_bp: int
    median_sales_wan: int
    archetypes: dict[str, float]
    zone_bias: float = 1.0
    agri_share: tuple[float, float] = (0.0, 0.0)
    immediate_refund_share: float = 0.008
    size_row_by_code: dict[str, str] = field(default_factory=dict)
    individual_share: float = 0.0
    cooperative_share: float = 0.0


_DATA = tomllib.loads(Path(__file__).with_name("industries.toml").read_text(encoding="utf-8"))


def _profiles(rows: list[dict]) -> tuple[IndustryProfile, ...]:
    profiles = []
    for row in rows:
        unknown = set(row["archetypes"]) - set(ARCHETYPES)
        if unknown:
            raise ValueError(f"industries.toml: {row['key']} has unknown archetypes {sorted(unknown)}")
        for name in ("codes", "words", "agri_share"):
            if name in row:
                row[name] = tuple(row[name])
        profiles.append(IndustryProfile(**row))
    return tuple(profiles)


INDUSTRIES: tuple[IndustryProfile, ...] = _profiles(_DATA["industry"])

# Secondary businesses for the few multi-industry taxpayers (sales_by_industry is filled in).
SECOND_INDUSTRY = {
    "machinery": "F5174",
    "light_industry": "F5132",
    "materials": "F5165",
    "electrical": "F5175",
    "construction": "C3311",
    "wholesale": "C3484",
    "real_estate": "K7020",
    "energy": "E4910",
}

# 2022 No.14 / No.21 industry route (13 industries) and the 2025 No.7 "制造业等4个行业", by section
# letter or division; used only to decide which taxpayers plausibly took refunds in the past.
SECTIONS_2022 = set("CMDGFAHOPQR")
DIVISIONS_2022 = {"65", "77"}
SECTIONS_2025_CLASS1 = set("CM")
DIVISIONS_2025_CLASS1 = {"65", "77"}

# Enterprise size (工信部联企业〔2011〕300号): ``industries.toml``'s ``size_ladders``, 万元.
_SIZE_LADDERS: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    row: tuple(tuple(step) for step in ladder) for row, ladder in _DATA["size_ladders"].items()
}


def enterprise_size(size_row: str, sales_fen: int, assets_fen: int) -> str:
    """micro / small / medium / large: every listed lower limit must be met, else one tier down."""
    values = {"Y": sales_fen / 1_000_000, "Z": assets_fen / 1_000_000}  # fen -> 万元
    ladder = _SIZE_LADDERS.get(size_row, _SIZE_LADDERS["other"])
    for tier, position in (("large", 1), ("medium", 2), ("small", 3)):
        if all(values[row[0]] >= row[position] for row in ladder):
            return tier
    return "micro"
