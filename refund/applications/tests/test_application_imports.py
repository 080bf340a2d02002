"""Importing applications from the core system's export: a good file, a bad file (every error listed, nothing
written), importing the same file again (nothing twice)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import AuditEvent
from core.periods import Period
from refund.applications.imports import ApplicationImportRejected, applications_import_xlsx
from refund.candidates.services import candidate_lists_build
from refund.models import CandidateItem, RefundApplication
from refund.tests.applications import eligible_taxpayer, receive
from refund.tests.candidates import FIRST_PUSH, screened

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).parents[2] / "tests" / "data" / "applications_import_sample.xlsx"
IDENTIFIERS = ["91330106MA00090017", "91330106MA0009002A", "91330106MA0009003D"]
HEADER = ["申请文书号", "纳税人识别号", "申请退税所属期", "退税类型", "申请退税额", "受理日期"]


@pytest.fixture
def sample_taxpayers(org):
    return [eligible_taxpayer(org["branch_a"], identifier=identifier) for identifier in IDENTIFIERS]


def upload(path: Path = SAMPLE) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def workbook(rows: list[list], header: list[str] = HEADER) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("申请.xlsx", buffer.getvalue())


def test_the_sample_export_is_received_row_by_row(personas, sample_taxpayers, django_capture_on_commit_callbacks):
    officer = personas["refund_officer"]
    candidate_lists_build(actor=officer, push_date=FIRST_PUSH, run=screened())
    with django_capture_on_commit_callbacks(execute=True):
        summary = applications_import_xlsx(actor=officer, file=upload())
    assert len(summary.created) == 3 and summary.skipped == []
    by_number = {a.document_number: a for a in RefundApplication.objects.all()}
    first = by_number["SQ330106202603000101"]
    assert (first.taxpayer, first.application_period, first.kind) == (sample_taxpayers[0], Period(2026, 3), "both")
    assert (first.claimed_amount, first.received_on, first.source) == (1200000, dt.date(2026, 3, 10), "import")
    assert first.state == "received" and first.computed_amount == 1200000
    assert by_number["SQ330106202603000102"].kind == "incremental"
    # The third claims 1,500,000 where the rules give 1,200,000: returned on arrival.
    assert [a.document_number for a in summary.returned] == ["SQ330106202603000103"]
    assert by_number["SQ330106202603000103"].risk_hits.get().code == "recomputation_mismatch"
    assert AuditEvent.objects.filter(verb="refund_applications_import").count() == 1
    assert AuditEvent.objects.filter(verb="refund_application_receive").count() == 3
    applied = CandidateItem.objects.filter(taxpayer__in=sample_taxpayers, applied_at__isnull=False).count()
    assert applied == 3


def test_importing_the_same_file_again_creates_nothing_twice(personas, sample_taxpayers):
    officer = personas["refund_officer"]
    applications_import_xlsx(actor=officer, file=upload())
    again = applications_import_xlsx(actor=officer, file=upload())
    assert again.created == [] and [row.document_number for row in again.skipped] == [
        "SQ330106202603000101",
        "SQ330106202603000102",
        "SQ330106202603000103",
    ]
    assert RefundApplication.objects.count() == 3
    assert RefundApplication.objects.get(document_number="SQ330106202603000101").transitions.count() == 1


def test_a_bad_file_lists_every_error_and_writes_nothing(personas, sample_taxpayers):
    file = workbook(
        [
            ["SQ1", IDENTIFIERS[0], "2026-03", "增量", "1200000.00", dt.date(2026, 3, 10)],  # right
            ["SQ2", 9.1330106e17, "2026-03", "增量", "100", "2026-03-10"],
            ["SQ3", "91330106MA0009999X", "2026-03", "增量", "100", "2026-03-10"],
            ["SQ4", IDENTIFIERS[1], 2026.1, "全额", "-5", "2099-01-01"],
            ["SQ1", IDENTIFIERS[2], "2026-03", "存量", "100.001", "2026-02-27"],
            ["", IDENTIFIERS[0], "2026-03", "增量", "100", "2026-03-11"],
        ]
    )
    with pytest.raises(ApplicationImportRejected) as raised:
        applications_import_xlsx(actor=personas["refund_officer"], file=file)
    errors = {(e.row, e.column): e for e in raised.value.errors}
    assert "截断" in errors[(3, "纳税人识别号")].reason
    assert (4, "纳税人识别号") in errors  # an identifier whose check character is wrong
    assert "数值格式" in errors[(5, "申请退税所属期")].reason
    assert errors[(5, "退税类型")].value == "全额"
    assert errors[(5, "申请退税额")].reason == "金额不能为负数。"
    assert "将来" in errors[(5, "受理日期")].reason
    assert "第 2 行" in errors[(6, "申请文书号")].reason
    assert "两位小数" in errors[(6, "申请退税额")].reason
    assert errors[(7, "申请文书号")].reason == "必填项不能为空。"
    assert "同一所属期" in errors[(7, "纳税人识别号")].reason
    assert all(e.reason and e.row for e in raised.value.errors)
    assert "未导入任何申请" in raised.value.message
    assert not RefundApplication.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="refund_application").exists()


def test_a_row_repeating_a_live_application_rejects_the_whole_file(personas, sample_taxpayers):
    officer = personas["refund_officer"]
    receive(officer, sample_taxpayers[1], document_number="人工001")
    with pytest.raises(ApplicationImportRejected) as raised:
        applications_import_xlsx(actor=officer, file=upload())
    [error] = raised.value.errors
    assert error.row == 3 and error.value == "SQ330106202603000102" and "同一所属期不能重复申请" in error.reason
    assert RefundApplication.objects.count() == 1  # the rows before it were rolled back


def test_an_unknown_taxpayer_and_a_missing_column_are_reported(personas, org):
    with pytest.raises(ApplicationImportRejected) as raised:
        applications_import_xlsx(actor=personas["refund_officer"], file=upload())
    assert {e.value for e in raised.value.errors} == set(IDENTIFIERS)
    assert all("不存在" in e.reason for e in raised.value.errors)
    with pytest.raises(ApplicationImportRejected) as raised:
        applications_import_xlsx(actor=personas["refund_officer"], file=workbook([], header=HEADER[:-1]))
    assert raised.value.errors[0].reason.startswith("缺少必填列“受理日期”")
