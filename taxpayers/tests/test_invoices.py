"""发票汇总 and 供应商进项明细: imported all or nothing with row errors, and the set-based reads the invoice-chain
risk indicators build on."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from core.periods import Period
from taxpayers.imports import SPECS
from taxpayers.invoice_selectors import (
    fled_supplier_input_by_taxpayer,
    fled_supplier_inputs,
    invoice_input_by_taxpayer,
    new_supplier_input_by_taxpayer,
    supplier_inputs_for_taxpayer,
    top_supplier_sql,
    top_suppliers,
)
from taxpayers.models import ImportJob, InvoiceSummary, SupplierInput, SupplierStatus
from taxpayers.tests.factories import make_uscc
from taxpayers.tests.test_imports import run_import, to_csv, to_xlsx

TODAY = dt.date(2025, 11, 20)
INVOICE_HEADERS = ["纳税人识别号", "所属期", "进项金额", "进项税额", "异常凭证进项税额", "失控发票进项税额"]
SUPPLIER_HEADERS = [
    "纳税人识别号", "所属期", "供应商识别号", "供应商名称", "供应商登记日期", "供应商状态", "状态起始日期",
    "金额", "税额",
]  # fmt: skip
SUPPLIER_1, SUPPLIER_2, SUPPLIER_3 = (make_uscc(n, region="440300") for n in (9001, 9002, 9003))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def invoice_rows(a, b):
    return [
        [a.identifier, "2025-06", "1000000.00", "130000.00", "13000.00", "0"],
        [a.identifier, "2025-07", "800000", "104000", "0", "5200.50"],
        [b.identifier, "2025-06", "0", "0", "", ""],
    ]


def supplier_rows(a):
    return [
        [a.identifier, "2025-06", SUPPLIER_1, "甲原料有限公司", "2012-05-01", "正常", "", "600000", "78000"],
        [a.identifier, "2025-06", SUPPLIER_2, "乙贸易有限公司", "2024-09-10", "走逃（失联）", "2025-10-08", "400000",
         "52000"],
        [a.identifier, "2025-07", SUPPLIER_1, "甲原料有限公司", "2012-05-01", "正常户", "", "800000", "104000"],
    ]  # fmt: skip


# --- the imports --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invoice_summary_imports_then_reimport_changes_nothing(personas, taxpayer_a, taxpayer_b):
    content = to_xlsx(INVOICE_HEADERS, invoice_rows(taxpayer_a, taxpayer_b))
    job = run_import("invoices", "发票汇总.xlsx", content, actor=personas["refund_officer"], today=TODAY)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.total_rows, job.created_count) == (3, 3)
    june = InvoiceSummary.objects.get(taxpayer=taxpayer_a, period="2025-06")
    assert (june.input_tax, june.abnormal_voucher_input_tax, june.lost_control_input_tax) == (
        Decimal("130000.00"), Decimal("13000.00"), Decimal("0.00"),
    )  # fmt: skip
    assert InvoiceSummary.objects.get(taxpayer=taxpayer_a, period="2025-07").lost_control_input_tax == Decimal(
        "5200.50"
    )
    event = AuditEvent.objects.get(verb="import")
    assert "发票汇总" in event.summary and "新增 3" in event.summary

    again = run_import("invoices", "发票汇总.xlsx", content, today=TODAY)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (0, "异常凭证进项税额", "130000.01", "大于本月进项税额（130000.00）"),
        (1, "所属期", "2025-11", "所属期尚未结束"),
        (1, "进项税额", "-1", "不能为负数"),
    ],
)
def test_one_bad_invoice_row_writes_nothing_and_names_row_and_column(
    taxpayer_a, taxpayer_b, row, column, value, reason
):
    rows = invoice_rows(taxpayer_a, taxpayer_b)
    rows[row][INVOICE_HEADERS.index(column)] = value

    job = run_import("invoices", "发票汇总.csv", to_csv(INVOICE_HEADERS, rows), today=TODAY)

    assert job.status == ImportJob.Status.FAILED
    assert job.error_count == 1, job.errors
    error = job.errors[0]
    assert (error["row"], error["column"], error["value"]) == (row + 2, column, value)
    assert reason in error["reason"]
    assert not InvoiceSummary.objects.exists()


@pytest.mark.django_db
def test_supplier_inputs_import_and_refuse_inconsistent_supplier_rows(taxpayer_a):
    job = run_import(
        "supplier_inputs", "供应商.xlsx", to_xlsx(SUPPLIER_HEADERS, supplier_rows(taxpayer_a)), today=TODAY
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    fled = SupplierInput.objects.get(supplier_identifier=SUPPLIER_2)
    assert (fled.supplier_status, fled.supplier_status_since) == (SupplierStatus.ABSCONDED, dt.date(2025, 10, 8))
    assert SupplierInput.objects.filter(supplier_status=SupplierStatus.NORMAL).count() == 2

    rows = supplier_rows(taxpayer_a)
    rows.append(list(rows[1]))  # the same supplier and month twice
    rows[1][6] = ""  # 走逃 without the day it began
    rows[0][4] = "2025-07-01"  # registered after the month it invoiced
    rows[2][2] = SUPPLIER_1[:-1] + ("0" if SUPPLIER_1[-1] != "0" else "1")  # a wrong check character
    job = run_import("supplier_inputs", "供应商.csv", to_csv(SUPPLIER_HEADERS, rows), today=TODAY)

    assert job.status == ImportJob.Status.FAILED
    found = {(e["row"], e["column"]) for e in job.errors}
    assert found == {(2, "供应商登记日期"), (3, "状态起始日期"), (4, "供应商识别号"), (5, "供应商识别号")}
    by_row = {e["row"]: e["reason"] for e in job.errors}
    assert "须填写状态起始日期" in by_row[3] and "与第 3 行是同一纳税人、同一所属期的同一供应商" in by_row[5]
    assert SupplierInput.objects.count() == 3  # nothing of the refused file


@pytest.mark.django_db
def test_the_invoice_templates_import_as_downloaded(client_for, org):
    officer = client_for("refund_officer")
    taxpayers = officer.get(reverse("taxpayers:import_template", args=["taxpayers"])).content
    assert run_import("taxpayers", "纳税人.xlsx", taxpayers).status == ImportJob.Status.SUCCEEDED
    for kind, model in (("invoices", InvoiceSummary), ("supplier_inputs", SupplierInput)):
        response = officer.get(reverse("taxpayers:import_template", args=[kind]))
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert [c.value for c in sheet[1]] == [c.header for c in SPECS[kind].columns]
        job = run_import(kind, f"{kind}.xlsx", response.content)
        assert job.status == ImportJob.Status.SUCCEEDED, job.errors
        assert model.objects.count() == 1
    assert [c.header for c in SPECS["supplier_inputs"].columns] == SUPPLIER_HEADERS


@pytest.mark.django_db
def test_the_upload_page_offers_both_invoice_files(client_for):
    page = client_for("refund_officer").get(reverse("taxpayers:import_upload") + "?kind=supplier_inputs")
    html = page.content.decode()
    assert page.status_code == 200
    assert "发票汇总" in html and "供应商进项明细" in html
    assert reverse("taxpayers:import_template", args=["supplier_inputs"]) in html
    assert page.context["form"].initial["kind"] == "supplier_inputs"


# --- the reads ----------------------------------------------------------------------------------------------------


def supplier(taxpayer, period, identifier, tax, *, status="normal", since=None, registered=dt.date(2015, 1, 1)):
    return SupplierInput(
        taxpayer=taxpayer, period=period, supplier_identifier=identifier, supplier_name=f"供应商{identifier[-4:]}",
        supplier_registered_on=registered, supplier_status=status, supplier_status_since=since,
        input_amount=Decimal(tax) * 10, input_tax=Decimal(tax),
    )  # fmt: skip


@pytest.fixture
def invoices(taxpayer_a, taxpayer_b):
    """A: a supplier that fled 6 months after one invoice and 7 after another, and a dominant one (85 %);
    B: three suppliers, the largest at 50 %, one deregistered (not a fled supplier)."""
    SupplierInput.objects.bulk_create(
        [
            supplier(taxpayer_a, "2025-01", SUPPLIER_1, "85000.00"),
            supplier(taxpayer_a, "2025-01", SUPPLIER_2, "10000.00", status="absconded", since=dt.date(2025, 7, 31)),
            supplier(taxpayer_a, "2024-12", SUPPLIER_2, "5000.00", status="absconded", since=dt.date(2025, 7, 31)),
            supplier(taxpayer_b, "2025-01", SUPPLIER_1, "500.00"),
            supplier(taxpayer_b, "2025-02", SUPPLIER_2, "300.00", status="deregistered", since=dt.date(2025, 3, 1)),
            supplier(taxpayer_b, "2025-02", SUPPLIER_3, "200.00", status="abnormal", since=dt.date(2024, 6, 1)),
            supplier(taxpayer_b, "2024-01", SUPPLIER_3, "99999.00"),  # outside the window
        ]
    )
    InvoiceSummary.objects.bulk_create(
        [
            InvoiceSummary(taxpayer=taxpayer_a, period="2025-01", input_tax=Decimal("95000"),
                           abnormal_voucher_input_tax=Decimal("0"), lost_control_input_tax=Decimal("10000")),
            InvoiceSummary(taxpayer=taxpayer_a, period="2024-12", input_tax=Decimal("5000"),
                           abnormal_voucher_input_tax=Decimal("1000.50")),
            InvoiceSummary(taxpayer=taxpayer_b, period="2025-02", input_tax=Decimal("500")),
        ]
    )  # fmt: skip


WINDOW = {"first": Period(2024, 12), "last": Period(2025, 6)}


@pytest.mark.django_db
def test_abnormal_and_lost_control_input_per_taxpayer(invoices, taxpayer_a, taxpayer_b):
    rows = {row["taxpayer_id"]: row for row in invoice_input_by_taxpayer(**WINDOW)}

    assert rows[taxpayer_a.pk] == {
        "taxpayer_id": taxpayer_a.pk, "months": 2, "input_tax_total": Decimal("100000.00"),
        "abnormal_tax": Decimal("1000.50"), "lost_control_tax": Decimal("10000.00"),
    }  # fmt: skip
    assert rows[taxpayer_b.pk]["abnormal_tax"] == Decimal("0.00")
    flagged = invoice_input_by_taxpayer(**WINDOW).filter(abnormal_tax__gt=0)
    assert [row["taxpayer_id"] for row in flagged] == [taxpayer_a.pk]
    assert list(
        invoice_input_by_taxpayer(**WINDOW, taxpayer_ids=[taxpayer_b.pk]).values_list("taxpayer_id", flat=True)
    ) == [taxpayer_b.pk]


@pytest.mark.django_db
def test_input_from_suppliers_that_fled_within_n_months(invoices, taxpayer_a, taxpayer_b):
    # 2025-01 → 2025-07: 6 months; 2024-12 → 2025-07: 7 months; B's 非正常户 began before its invoice (−8).
    months = {
        (row.taxpayer_id, str(row.period)): row.months_to_status for row in fled_supplier_inputs(**WINDOW, months=7)
    }
    assert months == {(taxpayer_a.pk, "2025-01"): 6, (taxpayer_a.pk, "2024-12"): 7, (taxpayer_b.pk, "2025-02"): -8}

    by_taxpayer = {row["taxpayer_id"]: row for row in fled_supplier_input_by_taxpayer(**WINDOW, months=6)}
    assert by_taxpayer[taxpayer_a.pk] == {
        "taxpayer_id": taxpayer_a.pk, "suppliers": 1, "fled_tax": Decimal("10000.00"),
        "fled_amount": Decimal("100000.00"), "nearest_months": 6,
    }  # fmt: skip
    assert by_taxpayer[taxpayer_b.pk]["fled_tax"] == Decimal("200.00")
    assert not fled_supplier_input_by_taxpayer(**WINDOW, months=5, taxpayer_ids=[taxpayer_a.pk]).exists()


@pytest.mark.django_db
def test_a_status_begun_after_the_day_is_not_known_on_it(invoices, taxpayer_a, taxpayer_b):
    known = fled_supplier_input_by_taxpayer(**WINDOW, months=7, known_on=dt.date(2025, 7, 30))
    assert [row["taxpayer_id"] for row in known] == [taxpayer_b.pk]  # A's supplier fled on 2025-07-31


@pytest.mark.django_db
def test_input_from_suppliers_registered_shortly_before(taxpayer_a, taxpayer_b):
    SupplierInput.objects.bulk_create(
        [
            supplier(taxpayer_a, "2025-03", SUPPLIER_1, "700.00", registered=dt.date(2024, 9, 30)),  # 6 months on
            supplier(taxpayer_a, "2025-04", SUPPLIER_1, "100.00", registered=dt.date(2024, 9, 30)),  # 7 months on
            supplier(taxpayer_a, "2025-04", SUPPLIER_2, "200.00"),
            supplier(taxpayer_b, "2025-04", SUPPLIER_2, "50.00"),
        ]
    )
    rows = {row["taxpayer_id"]: row for row in new_supplier_input_by_taxpayer(**WINDOW, months=6)}
    assert rows[taxpayer_a.pk] == {
        "taxpayer_id": taxpayer_a.pk, "total_tax": Decimal("1000.00"), "new_tax": Decimal("700.00"),
        "new_suppliers": 1,
    }  # fmt: skip
    assert rows[taxpayer_b.pk]["new_tax"] == Decimal("0.00") and rows[taxpayer_b.pk]["new_suppliers"] == 0
    narrowed = new_supplier_input_by_taxpayer(**WINDOW, months=7, taxpayer_ids=[taxpayer_a.pk])
    assert [row["new_tax"] for row in narrowed] == [Decimal("800.00")]


@pytest.mark.django_db
def test_top_supplier_share_over_the_window(invoices, taxpayer_a, taxpayer_b):
    found = {top.taxpayer_id: top for top in top_suppliers(**WINDOW)}

    a = found[taxpayer_a.pk]
    assert (a.supplier_identifier, a.supplier_tax, a.total_tax, a.share) == (
        SUPPLIER_1, Decimal("85000.00"), Decimal("100000.00"), Decimal("0.8500"),
    )  # fmt: skip
    assert found[taxpayer_b.pk].share == Decimal("0.5000")  # 500 of 1,000; 2024-01 lies outside
    assert [top.taxpayer_id for top in top_suppliers(**WINDOW, min_share=Decimal("0.8"))] == [taxpayer_a.pk]
    assert [top.taxpayer_id for top in top_suppliers(**WINDOW, taxpayer_ids=[taxpayer_b.pk])] == [taxpayer_b.pk]
    assert top_suppliers(**WINDOW, taxpayer_ids=[]) == []
    assert "ROW_NUMBER()" in top_supplier_sql(Period(2025, 1), Period(2025, 6))
    with pytest.raises(TypeError):
        top_supplier_sql("2025-01", "2025-06")


@pytest.mark.django_db
def test_one_taxpayers_suppliers_as_evidence(invoices, taxpayer_b):
    rows = list(supplier_inputs_for_taxpayer(taxpayer_id=taxpayer_b.pk, **WINDOW))

    assert [(r["supplier_identifier"], r["tax"], r["status"]) for r in rows] == [
        (SUPPLIER_1, Decimal("500.00"), "normal"),
        (SUPPLIER_2, Decimal("300.00"), "deregistered"),
        (SUPPLIER_3, Decimal("200.00"), "abnormal"),
    ]


@pytest.mark.django_db
def test_the_reads_are_one_query_for_all_taxpayers(invoices, django_assert_num_queries):
    with django_assert_num_queries(1):
        top_suppliers(**WINDOW)
    with django_assert_num_queries(1):
        list(fled_supplier_input_by_taxpayer(**WINDOW))
    with django_assert_num_queries(1):
        list(invoice_input_by_taxpayer(**WINDOW))
