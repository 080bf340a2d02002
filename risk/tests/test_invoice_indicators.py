"""The invoice-chain indicators (发票链条) fire on crafted invoice data and stay silent just below their thresholds,
set-based over every taxpayer and narrowed to one (the on-demand path), on PostgreSQL. As of 2026-03-10: the
12-month window is 2025-03 … 2026-02, the 6-month one 2025-09 … 2026-02."""

from __future__ import annotations

import datetime as dt

import pytest

from taxpayers.tests.factories import make_uscc

from .builders import assert_fires_only_on, fired, invoice_month, supplier_month, taxpayer

pytestmark = pytest.mark.django_db

S1, S2, S3 = (make_uscc(n, region="320599") for n in (7001, 7002, 7003))
INVOICE_CODES = {
    "INV_ABNORMAL_VOUCHER", "INV_LOST_CONTROL", "INV_FLED_SUPPLIER", "INV_TOP_SUPPLIER", "INV_NEW_SUPPLIER",
}  # fmt: skip


def test_input_on_abnormal_vouchers():
    risky, clean, small_share = taxpayer(), taxpayer(), taxpayer()
    for tp, abnormal in ((risky, "10000"), (clean, "9999.99")):
        invoice_month(tp, "2025-10", input_tax="500000", abnormal=abnormal)
        invoice_month(tp, "2025-11", input_tax="500000")
        invoice_month(tp, "2025-02", input_tax="500000", abnormal="400000")  # before the window
    invoice_month(small_share, "2025-10", input_tax="3000000", abnormal="29999.99")  # 0.99%
    evidence = assert_fires_only_on("INV_ABNORMAL_VOUCHER", risky, clean)
    assert evidence == {
        "abnormal_tax": "10000.00",
        "input_tax_total": "1000000.00",
        "share_pct": "1.00",
        "months": 2,
    }
    assert small_share.pk not in fired("INV_ABNORMAL_VOUCHER")
    assert small_share.pk in fired("INV_ABNORMAL_VOUCHER", share_pct="0.9")


def test_input_on_lost_control_invoices():
    risky, clean = taxpayer(), taxpayer()
    invoice_month(risky, "2026-01", input_tax="200000", lost="1000")
    invoice_month(clean, "2026-01", input_tax="200000", lost="999.99", abnormal="50000")
    evidence = assert_fires_only_on("INV_LOST_CONTROL", risky, clean)
    assert evidence == {"lost_control_tax": "1000.00", "input_tax_total": "200000.00", "share_pct": "0.50", "months": 1}


def test_input_from_suppliers_that_fled_within_six_months():
    risky, clean, later = taxpayer(), taxpayer(), taxpayer()
    fled = {"status": "absconded", "since": dt.date(2026, 2, 15), "registered_on": dt.date(2024, 5, 1)}
    supplier_month(risky, "2025-10", S1, "6000", **fled)  # 4 months before 走逃
    supplier_month(risky, "2025-11", S1, "4000", **fled)
    supplier_month(risky, "2025-11", S2, "90000")
    # Seven months before its 非正常户: too early; the other one is just below the amount.
    supplier_month(clean, "2025-06", S2, "50000", status="abnormal", since=dt.date(2026, 1, 5))
    supplier_month(clean, "2025-12", S3, "9999.99", status="abnormal", since=dt.date(2026, 1, 5))
    # A status that begins after the scan's day is not known yet.
    supplier_month(later, "2025-12", S3, "20000", status="abnormal", since=dt.date(2026, 3, 20))
    evidence = assert_fires_only_on("INV_FLED_SUPPLIER", risky, clean)
    assert evidence == {
        "suppliers": 1,
        "fled_tax": "10000.00",
        "fled_amount": "76923.08",
        "nearest_months": 3,
        "first_supplier": S1,
    }
    assert later.pk not in fired("INV_FLED_SUPPLIER")
    assert later.pk in fired("INV_FLED_SUPPLIER", as_of=dt.date(2026, 4, 10))
    assert clean.pk in fired("INV_FLED_SUPPLIER", status_within_months="7")


def test_one_supplier_above_eighty_percent_of_the_input():
    risky, clean, small = taxpayer(), taxpayer(), taxpayer()
    supplier_month(risky, "2025-12", S1, "50000")
    supplier_month(risky, "2026-01", S1, "30000")
    supplier_month(risky, "2026-01", S2, "20000")
    supplier_month(clean, "2026-01", S1, "79999.99")
    supplier_month(clean, "2026-01", S2, "20000.01")
    supplier_month(small, "2026-01", S1, "99999.99")  # all of it, but below the input the indicator looks at
    evidence = assert_fires_only_on("INV_TOP_SUPPLIER", risky, clean)
    assert evidence == {
        "supplier_identifier": S1,
        "supplier_name": f"供应商{S1[-4:]}有限公司",
        "supplier_tax": "80000.00",
        "total_tax": "100000.00",
        "share_pct": "80.00",
    }
    assert small.pk not in fired("INV_TOP_SUPPLIER")


def test_input_from_newly_registered_suppliers():
    risky, clean = taxpayer(), taxpayer()
    for tp, registered_on in ((risky, dt.date(2025, 8, 20)), (clean, dt.date(2025, 7, 31))):
        supplier_month(tp, "2025-10", S3, "30000", registered_on=registered_on)
        supplier_month(tp, "2026-02", S3, "20000", registered_on=registered_on)  # 6 months on, or 7 for clean
        supplier_month(tp, "2026-02", S1, "100000")
    evidence = assert_fires_only_on("INV_NEW_SUPPLIER", risky, clean)
    assert evidence == {"new_suppliers": 1, "new_tax": "50000.00", "total_tax": "150000.00", "share_pct": "33.33"}
    assert risky.pk not in fired("INV_NEW_SUPPLIER", share_pct="34")
