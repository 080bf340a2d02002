"""Writing the demo county's invoice data (``county.invoices``) after its taxpayers and returns.

The returns are read back from the database — the special-invoice input tax of each month of the last
``county.invoices.INVOICE_MONTHS`` — so the invoices agree with them whatever path wrote them; the rows go through
the invoice bulk path (``taxpayers.invoice_bulk``), which checks them as the import does.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from core.periods import Period
from taxpayers.invoice_bulk import InvoiceLoadResult, TaxpayerInvoices, invoices_bulk_load
from taxpayers.models import Taxpayer, VatReturn

from . import county
from .county.invoices import INVOICE_MONTHS, SupplierPool, taxpayer_invoices


def _monthly_inputs(frequency: str, returns: list[tuple], first: int) -> dict[int, int]:
    """Month index → special-invoice input tax (fen); a quarterly return's input spread evenly over its quarter."""
    inputs: dict[int, int] = {}
    for period, amount in returns:
        fen = int(amount * 100)
        if frequency == Taxpayer.FilingFrequency.QUARTERLY:
            thirds = (fen // 3, fen // 3, fen - 2 * (fen // 3))
            for offset, part in zip((2, 1, 0), thirds, strict=True):
                inputs[period.index - offset] = part
        else:
            inputs[period.index] = fen
    return {month: fen for month, fen in inputs.items() if month >= first}


def generate_invoices(params: county.DemoParams, branch_codes: list[str]) -> Iterator[TaxpayerInvoices]:
    """The invoice rows of the taxpayers of ``branch_codes``, from their returns in the database."""
    last = Period.parse(county.last_period(params.today))
    first = last.minus(INVOICE_MONTHS - 1)
    pool = SupplierPool(params.seed, params.today)
    returns = (
        VatReturn.objects.filter(taxpayer__branch__code__in=branch_codes, period__gte=first.minus(2))
        .order_by("taxpayer_id", "period")
        .values_list("taxpayer_id", "taxpayer__identifier", "taxpayer__filing_frequency", "period",
                     "input_special_invoice")
    )  # fmt: skip
    for (taxpayer_id, identifier, frequency), rows in groupby(returns.iterator(chunk_size=10_000), lambda r: r[:3]):
        inputs = _monthly_inputs(frequency, [row[3:] for row in rows], first.index)
        if not inputs:
            continue
        summaries, suppliers = taxpayer_invoices(pool, seed=params.seed, identifier=identifier, inputs=inputs)
        yield TaxpayerInvoices(taxpayer_id, summaries, suppliers)


def seed_demo_invoices(params: county.DemoParams) -> InvoiceLoadResult:
    """Write the invoice data of the demo county's taxpayers (in the caller's transaction)."""
    codes = [unit.code for unit in county.branch_units(params.branches)]
    return invoices_bulk_load(items=generate_invoices(params, codes), today=params.today)
