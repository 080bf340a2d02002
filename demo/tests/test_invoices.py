"""The demo county's invoice data: deterministic, consistent with the returns to the fen, and with a plausible
few risky firms that the invoice-chain reads find."""

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Sum

from core.periods import Period
from demo import county
from demo.county.invoices import INVOICE_MONTHS, SupplierPool, taxpayer_invoices
from demo.seeding import delete_demo_data, seed_demo_county
from taxpayers.invoice_selectors import fled_supplier_input_by_taxpayer, invoice_input_by_taxpayer, top_suppliers
from taxpayers.models import InvoiceSummary, SupplierInput, Taxpayer, VatReturn

TODAY = dt.date(2025, 6, 18)
LAST = county.month_index(2025, 5)


def _inputs(rng: random.Random) -> dict[int, int]:
    return {m: int(rng.lognormvariate(13, 1)) for m in range(LAST - INVOICE_MONTHS + 1, LAST + 1)}


def test_each_taxpayer_draws_the_same_rows_whoever_else_is_drawn():
    pool = SupplierPool(7, TODAY)
    inputs = _inputs(random.Random(1))
    first = taxpayer_invoices(pool, seed=7, identifier="91330599MA0000001X", inputs=inputs)
    assert first == taxpayer_invoices(SupplierPool(7, TODAY), seed=7, identifier="91330599MA0000001X", inputs=inputs)
    assert first != taxpayer_invoices(pool, seed=8, identifier="91330599MA0000001X", inputs=inputs)
    summaries, suppliers = first
    assert [s.input_tax for s in summaries] == [inputs[m] for m in sorted(inputs)]
    by_period = defaultdict(int)
    for row in suppliers:
        by_period[row.period] += row.input_tax
    assert all(by_period[s.period] == s.input_tax for s in summaries)


def test_a_plausible_few_firms_look_risky():
    pool = SupplierPool(2026, TODAY)
    rng = random.Random(3)
    firms = 2000
    dominant = flagged = fled = 0
    for n in range(firms):
        summaries, suppliers = taxpayer_invoices(pool, seed=2026, identifier=f"F{n}", inputs=_inputs(rng))
        totals = defaultdict(int)
        for row in suppliers:
            totals[row.supplier_identifier] += row.input_tax
        dominant += max(totals.values()) > 0.8 * sum(totals.values())
        flagged += any(s.abnormal_voucher_input_tax or s.lost_control_input_tax for s in summaries)
        fled += any(row.supplier_status in ("abnormal", "absconded") for row in suppliers)
    assert 0.03 * firms < dominant < 0.1 * firms
    assert 0.01 * firms < flagged < 0.07 * firms
    assert 0.01 * firms < fled < 0.06 * firms


@pytest.mark.django_db
def test_the_seeded_county_has_invoices_that_agree_with_its_returns():
    result = seed_demo_county(county.DemoParams(taxpayers=150, seed=11, today=TODAY))

    assert result.invoice_summaries == InvoiceSummary.objects.count() > 150 * 12
    assert result.supplier_rows == SupplierInput.objects.count() > result.invoice_summaries * 3
    first = Period(2025, 5).minus(INVOICE_MONTHS - 1)
    assert InvoiceSummary.objects.filter(period__lt=first).count() == 0
    monthly = VatReturn.objects.filter(taxpayer__filing_frequency="monthly", period__gte=first)
    returns = {(t, p): tax for t, p, tax in monthly.values_list("taxpayer_id", "period", "input_special_invoice")}
    summaries = {
        (row.taxpayer_id, row.period): row.input_tax
        for row in InvoiceSummary.objects.filter(taxpayer__filing_frequency="monthly")
    }
    assert summaries == returns
    by_month = SupplierInput.objects.values("taxpayer_id", "period").annotate(tax=Sum("input_tax"))
    sums = {(row["taxpayer_id"], row["period"]): row["tax"] for row in by_month}
    assert all(
        sums.get((row.taxpayer_id, row.period), Decimal("0.00")) == row.input_tax
        for row in InvoiceSummary.objects.all()
    )

    window = {"first": Period(2024, 6), "last": Period(2025, 5)}
    assert invoice_input_by_taxpayer(**window).count() > 100
    shares = top_suppliers(**window)
    assert all(Decimal("0") < top.share <= Decimal("1") for top in shares)
    list(fled_supplier_input_by_taxpayer(**window, months=6))  # runs on the county's rows

    delete_demo_data()
    assert not Taxpayer.objects.exists() and not SupplierInput.objects.exists()
