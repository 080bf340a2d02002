"""Writing the demo county: the organisation and the demo logins (``accounts.bulk``), then the taxpayers with
their returns and records (``taxpayers.bulk``, which checks every row as the import does), then their invoice
data (``invoice_seeding``), in one transaction.

The taxpayers go in chunks of ``taxpayers.bulk.CHUNK_TAXPAYERS``: COPY on PostgreSQL (a million taxpayers for the
benchmarks), the driver's ``executemany`` on SQLite (the embedded demo), or ``bulk_create`` (portable but slow:
the reference the tests compare the others with).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from accounts.audit import record_event
from accounts.bulk import branches_ensure, logins_ensure
from taxpayers.bulk import taxpayers_bulk_delete, taxpayers_bulk_load
from taxpayers.models import Taxpayer

from . import county
from .invoice_seeding import seed_demo_invoices


@dataclass(frozen=True)
class SeedResult:
    taxpayers: int
    returns: int
    compliance_records: int
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
        loaded = taxpayers_bulk_load(
            bundles=county.generate(params), today=params.today, method=method, progress=progress
        )
        invoices = seed_demo_invoices(params)
        record_event(
            actor=None,
            verb="demo_seeded",
            object_type="taxpayers.demo",
            object_repr="示范县演示数据",
            summary=(
                f"生成演示数据：纳税人 {loaded.taxpayers:,} 户，增值税申报 {loaded.returns:,} 条，"
                f"涉税记录 {loaded.compliance_records:,} 条"
                f"（随机种子 {params.seed}，所属期截至 {county.last_period(params.today)}）"
            ),
        )
    return SeedResult(
        loaded.taxpayers, loaded.returns, loaded.compliance_records, len(users), loaded.method,
        time.perf_counter() - started, invoices.summaries, invoices.supplier_rows,
    )  # fmt: skip
