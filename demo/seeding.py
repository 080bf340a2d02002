"""Writing the demo county: the organisation and the demo logins (``accounts.bulk``), then the taxpayers with
their returns and records (``taxpayers.bulk``, which checks every row as the import does), then their invoice
data (``invoice_seeding``), in one transaction.

The taxpayers go in chunks of ``taxpayers.bulk.CHUNK_TAXPAYERS``: COPY on PostgreSQL (a million taxpayers for the
benchmarks), the driver's ``executemany`` on SQLite (the embedded demo), or ``bulk_create`` (portable but slow:
the reference the tests compare the others with).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction

from accounts.audit import record_event
from accounts.bulk import branches_ensure, logins_ensure
from credit.rules.parameters import evaluation_date
from credit.services import credit_ratings_bulk_write
from taxpayers.bulk import taxpayers_bulk_delete, taxpayers_bulk_load
from taxpayers.models import Taxpayer

from . import county
from .invoice_seeding import seed_demo_invoices


@dataclass(frozen=True)
class SeedResult:
    taxpayers: int
    returns: int
    compliance_records: int
    ratings: int
    users: int
    method: str  # a key of taxpayers.bulk.LOADERS
    seconds: float
    invoice_summaries: int = 0
    supplier_rows: int = 0


def demo_data_exists() -> bool:
    return Taxpayer.objects.exists()


def delete_demo_data() -> int:
    """Delete the demo county's taxpayers (those of the demo branches) with their returns and records."""
    return taxpayers_bulk_delete(branch_codes=[unit.code for unit in county.branch_units(county.MAX_BRANCHES)])


def seed_demo_county(
    params: county.DemoParams, *, method: str | None = None, progress: Callable[[int], None] | None = None
) -> SeedResult:
    """Create the demo county in one transaction and return what was loaded."""
    started = time.perf_counter()
    with transaction.atomic():
        branches_ensure(units=county.org_units(params.branches))
        users = logins_ensure(logins=county.demo_users(params.branches), password=county.DEMO_PASSWORD)
        histories: dict[str, tuple[int, str]] = {}
        loaded = taxpayers_bulk_load(
            bundles=_keeping_ratings(county.generate(params), histories),
            today=params.today,
            method=method,
            progress=progress,
        )
        ratings = credit_ratings_bulk_write(ratings=_ratings(histories, params.branches), note=RATING_NOTE)
        invoices = seed_demo_invoices(params)
        record_event(
            actor=None,
            verb="demo_seeded",
            object_type="taxpayers.demo",
            object_repr="示范县演示数据",
            summary=(
                f"生成演示数据：纳税人 {loaded.taxpayers:,} 户，增值税申报 {loaded.returns:,} 条，"
                f"涉税记录 {loaded.compliance_records:,} 条，纳税信用评价结果 {ratings:,} 条"
                f"（随机种子 {params.seed}，所属期截至 {county.last_period(params.today)}）"
            ),
        )
    return SeedResult(
        loaded.taxpayers, loaded.returns, loaded.compliance_records, ratings, len(users), loaded.method,
        time.perf_counter() - started, invoices.summaries, invoices.supplier_rows,
    )  # fmt: skip


RATING_NOTE = "示范县演示数据"


def _keeping_ratings(
    bundles: Iterable[county.DemoTaxpayer], histories: dict[str, tuple[int, str]]
) -> Iterator[county.DemoTaxpayer]:
    """The bundles as they are, each one's rating history kept by identifier for after the load."""
    for bundle in bundles:
        if bundle.ratings[1]:
            histories[bundle.taxpayer["identifier"]] = bundle.ratings
        yield bundle


def _ratings(histories: dict[str, tuple[int, str]], branches: int) -> Iterator[tuple]:
    """(taxpayer id, year, level, evaluation date, score) of every rating kept, in the order of the taxpayers' ids."""
    codes = [unit.code for unit in county.branch_units(branches)]
    ids = Taxpayer.objects.filter(branch__code__in=codes).order_by("pk").values_list("identifier", "pk")
    for identifier, pk in ids.iterator(chunk_size=5000):
        first_year, levels = histories.get(identifier, (0, ""))
        for offset, level in enumerate(levels):
            year = first_year + offset
            yield pk, year, level, evaluation_date(year), county.score_of(identifier, year, level)
