"""国库退库回执导入: all or nothing, errors with row, column, value and reason, and re-import pays nothing twice."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent
from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry, TreasuryPayment
from ledger.services import PaymentImportRejected, payments_import_xlsx
from ledger.tests.factories import approved_application
from refund.models import RefundApplication

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).parent / "data" / "treasury_receipts_sample.xlsx"
HEADERS = ["退库凭证号", "申请文书号", "纳税人识别号", "申请退税所属期", "退库金额", "退库日期", "增量", "存量"]


def _upload(path: Path = SAMPLE) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def _xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return SimpleUploadedFile("回执.xlsx", buffer.getvalue())


@pytest.fixture
def sample_applications(org):
    """The applications the sample file names: one by document number, one by identifier and period."""
    first = approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ202603000001")
    second = approved_application(
        TaxpayerFactory(branch=org["branch_b"], identifier="91330106MA0900002G"),
        kind="incremental",
        incremental="30000.00",
    )
    return first, second


def test_the_sample_file_imports_and_a_second_import_pays_nothing_twice(personas, sample_applications):
    officer = personas["refund_officer"]
    outcome = payments_import_xlsx(actor=officer, file=_upload())

    assert (len(outcome.created), outcome.skipped, outcome.total_amount) == (2, 0, Decimal("130000.00"))
    first, second = (RefundApplication.objects.get(pk=a.pk) for a in sample_applications)
    assert first.state == second.state == "paid"
    entry = LedgerEntry.objects.get(application=first)
    assert (entry.payment.voucher_number, entry.payment.source, entry.paid_on) == (
        "(2026)退字000101号",
        "import",
        dt.date(2026, 3, 25),
    )
    assert (entry.incremental_amount, entry.stock_amount) == (Decimal("60000.00"), Decimal("40000.00"))
    assert LedgerEntry.objects.get(application=second).incremental_amount == Decimal("30000.00")
    assert AuditEvent.objects.filter(verb="ledger_payment_record").count() == 2
    assert "新增退库 2 笔，合计 130,000.00 元" in AuditEvent.objects.get(verb="import").summary

    again = payments_import_xlsx(actor=officer, file=_upload())
    assert (len(again.created), again.skipped) == (0, 2)
    assert TreasuryPayment.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_one_bad_row_imports_nothing_and_every_error_names_row_column_value_reason(personas, org):
    good = approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-1")
    small = approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-2")
    file = _xlsx(
        [
            ["V-1", "SQ-1", None, None, "100000.00", "2026-03-25", None, None],
            ["V-2", "SQ-2", None, None, "100000.01", "2026-03-25", None, None],  # over the confirmed amount
            ["V-1", "SQ-9", None, None, "5", "2026-03-25", None, None],  # repeated voucher, unknown document
            ["V-4", None, "91330106MA0999999X", "2026-03", "abc", "2026/13/01", None, None],
            ["V-5", None, None, None, "5", "2026-03-25", None, None],
        ]
    )
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(actor=personas["refund_officer"], file=file)

    errors = [(e.row, e.column, e.value, e.reason) for e in exc.value.errors]
    assert ("4", "退库凭证号", "V-1", "与第 2 行的退库凭证号重复，同一文件中不能重复。") in [
        (str(r), c, v, m) for r, c, v, m in errors
    ]
    rows = {(row, column) for row, column, _, _ in errors}
    assert {
        (4, "退库凭证号"),
        (5, "纳税人识别号"),
        (5, "退库金额"),
        (5, "退库日期"),
        (6, "申请文书号"),
        (3, "退库金额"),
    } <= rows
    over = next(e for e in exc.value.errors if e.row == 3)
    assert over.value == "100,000.01" and "超过该申请的确认退税额 100,000.00 元" in over.reason
    assert not TreasuryPayment.objects.exists()
    good.refresh_from_db()
    small.refresh_from_db()
    assert good.state == small.state == "approved"


def test_a_voucher_already_used_for_something_else_is_an_error(personas, org):
    first = approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-1")
    approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-2")
    payments_import_xlsx(
        actor=personas["refund_officer"], file=_xlsx([["V-1", "SQ-1", None, None, "100000", "2026-03-25"]])
    )
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(
            actor=personas["refund_officer"],
            file=_xlsx(
                [["V-1", "SQ-2", None, None, "100000", "2026-03-25"], ["V-2", "SQ-1", None, None, "1", "2026-03-26"]]
            ),
        )
    reasons = {e.row: e.reason for e in exc.value.errors}
    assert "申请、金额或日期与本行不同" in reasons[2]
    assert reasons[3].startswith("该申请已于 2026-03-25 全额退库（累计 100,000.00 元）")
    assert LedgerEntry.objects.get().application == first


def test_a_part_payment_split_in_the_file(personas, org):
    app = approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-1")
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(
            actor=personas["refund_officer"], file=_xlsx([["V-1", "SQ-1", None, None, "50000", "2026-03-25"]])
        )
    assert "请分别填写其中增量和存量" in exc.value.errors[0].reason
    payments_import_xlsx(
        actor=personas["refund_officer"],
        file=_xlsx([["V-1", "SQ-1", None, None, "50000", "2026-03-25", "20000", "30000"]]),
    )
    entry = LedgerEntry.objects.get(application=app)
    assert (entry.incremental_amount, entry.stock_amount) == (Decimal("20000.00"), Decimal("30000.00"))


def test_a_file_without_the_needed_columns_says_which(personas):
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(
            actor=personas["refund_officer"], file=_xlsx([["V-1", "5"]], headers=["退库凭证号", "金额"])
        )
    reasons = " ".join(e.reason for e in exc.value.errors)
    assert "缺少必填列“退库日期”" in reasons and "需要“申请文书号”" in reasons


def test_a_business_error_is_reported_in_the_column_it_concerns(personas, org):
    approved_application(TaxpayerFactory(branch=org["branch_a"]), document_number="SQ-1")  # approved 2026-03-20
    with pytest.raises(PaymentImportRejected) as exc:
        payments_import_xlsx(
            actor=personas["refund_officer"], file=_xlsx([["V-1", "SQ-1", None, None, "100000", "2026-03-19"]])
        )
    error = exc.value.errors[0]
    assert (error.row, error.column, error.value) == (2, "退库日期", "2026-03-19")
    assert "早于该申请的审批日期 2026-03-20" in error.reason
