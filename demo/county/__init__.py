"""The demo county (示范县): a deterministic generator of taxpayers, VAT returns and compliance records.

Why it exists: the demo, the browser tests and the benchmarks need a county that looks like a real one — a few
thousand general taxpayers over five branches, a realistic industry and size mix, ratings mostly B, monthly
returns since 2019-03 whose credits make a plausible share eligible under each refund regime, some penalties and
即征即退 cases.

The generator is pure: plain rows from ``random.Random(seed)``, no ORM, no clock (``today`` is an argument, so
tests can pin "last month"). ``demo.seeding`` writes them through the registry's bulk path
(``taxpayers.bulk``), which checks them as the import checks its rows. Same seed, same data; each taxpayer draws
from its own generator seeded from the master, so a run of 300 is the first 300 taxpayers of a run of 3,000.

Everything is synthetic (``names``). Amounts inside the generator are integer fen (分) — exact and fast at a
million taxpayers. The parts: ``org`` (the bureau and the demo logins), ``industries`` (and
``industries.toml``), ``names``, ``months``, ``taxpayer`` (identity and scale), ``simulation`` (the monthly
returns), ``compliance`` (the records), ``ratings`` (a 纳税信用 rating a year since 2019, written by the seeding
through ``credit.services.credit_ratings_bulk_write``).
"""

from .industries import INDUSTRIES, enterprise_size
from .months import DemoParams, credit_year, last_period, month_index, period_text
from .names import REGION_CODES
from .org import (
    BUREAU,
    DEMO_PASSWORD,
    DEVELOPMENT_ZONE_INDEX,
    MAX_BRANCHES,
    SECTIONS,
    branch_units,
    demo_users,
    org_units,
)
from .ratings import score_of
from .taxpayer import DemoTaxpayer, generate

__all__ = [
    "BUREAU",
    "DEMO_PASSWORD",
    "DEVELOPMENT_ZONE_INDEX",
    "INDUSTRIES",
    "MAX_BRANCHES",
    "REGION_CODES",
    "SECTIONS",
    "DemoParams",
    "DemoTaxpayer",
    "branch_units",
    "credit_year",
    "demo_users",
    "enterprise_size",
    "generate",
    "last_period",
    "month_index",
    "org_units",
    "period_text",
    "score_of",
]
