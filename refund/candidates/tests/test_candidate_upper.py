"""上级下发名单: xlsx imports checked whole (Chinese row/column errors), merged into the push date's lists."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from core.errors import ApplicationError
from credit.tests.factories import TaxpayerFactory
from refund.candidates.services import UpperListRejected, candidate_lists_build, upper_list_import
from refund.models import CandidateItem, UpperListEntry, UpperListImport
from refund.tests.candidates import FIRST_PUSH, MONTH_END_PUSH, eligible_taxpayer, screened
from taxpayers.tests.factories import make_uscc

pytestmark = pytest.mark.django_db


def xlsx(rows, name="上级下发名单.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def _errors(exc_info) -> list[tuple]:
    return [(e.row, e.column, e.value, e.reason) for e in exc_info.value.errors]


def test_a_clean_file_is_stored_and_merged_with_its_source(org, personas):
    known = eligible_taxpayer(org["branch_a"])
    other = TaxpayerFactory(branch=org["branch_b"], general_taxpayer_since=None)  # small-scale: never screened
    upload = xlsx(
        [
            ["市税务局留抵退税疑点名单"],  # a title row above the header
            ["序号", "纳税人识别号", "纳税人名称", "金额", "备注"],
            [1, known.identifier, known.name, "1,200,000.50", "市局模型测算"],
            [2, other.identifier.lower(), other.name, None, ""],
        ]
    )
    outcome = upper_list_import(
        actor=personas["refund_officer"],
        push_date=FIRST_PUSH,
        source_name="市税务局货物和劳务税处",
        uploaded_file=upload,
    )
    assert outcome.created is True
    entries = {e.taxpayer_id: e for e in UpperListEntry.objects.all()}
    assert entries[known.pk].amount == Decimal("1200000.50") and entries[known.pk].row == 3
    assert entries[other.pk].amount is None
    assert AuditEvent.objects.get(verb="upper_list_import").actor == personas["refund_officer"]

    again = upper_list_import(actor=None, push_date=FIRST_PUSH, source_name="市税务局", uploaded_file=upload)
    assert again.created is False and UpperListImport.objects.count() == 1

    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    merged = CandidateItem.objects.get(taxpayer=other)
    assert (merged.source, merged.upper_source, merged.eligible, merged.branch_id) == (
        "upper",
        "市税务局货物和劳务税处",
        None,
        org["branch_b"].pk,
    )
    assert CandidateItem.objects.get(taxpayer=known).upper_note == "市局模型测算"


def test_every_bad_row_is_reported_in_chinese_and_nothing_is_stored(org):
    known = TaxpayerFactory(branch=org["branch_a"])
    absent = make_uscc(999_999)
    upload = xlsx(
        [
            ["纳税人识别号", "金额", "备注"],
            [known.identifier, "100.00", ""],
            ["91330106MA0000001X", "", ""],  # wrong check character
            [absent, "", ""],
            [known.identifier, "", "重复"],
            ["", "5", ""],
            [make_uscc(3), "-5", ""],
            [make_uscc(4), "12.345", ""],
            [9.14403e17, "", ""],  # an identifier Excel turned into a number
        ]
    )
    with pytest.raises(UpperListRejected) as exc_info:
        upper_list_import(actor=None, push_date=FIRST_PUSH, source_name="市局", uploaded_file=upload)
    errors = _errors(exc_info)
    by_row = {row: (column, reason) for row, column, _, reason in errors}
    assert by_row[3][0] == "纳税人识别号" and "校验" in by_row[3][1]
    assert by_row[4] == ("纳税人识别号", f"纳税人识别号“{absent}”在系统中不存在，请核对，或先导入该纳税人的登记信息。")
    assert by_row[5] == ("纳税人识别号", "与第 2 行的纳税人识别号重复，同一文件中不能重复。")
    assert by_row[6] == ("纳税人识别号", "必填项不能为空。")
    assert by_row[7] == ("金额", "金额不能为负数。")
    assert by_row[8] == ("金额", "金额最多保留两位小数（单位：元）。")
    assert "文本" in by_row[9][1]
    assert "校验未通过：共" in exc_info.value.message
    assert not UpperListImport.objects.exists() and not UpperListEntry.objects.exists()


def test_a_file_without_the_identifier_column_or_rows_is_refused(org):
    with pytest.raises(UpperListRejected) as exc_info:
        upper_list_import(
            actor=None, push_date=FIRST_PUSH, source_name="市局", uploaded_file=xlsx([["名称", "金额"], ["x", 1]])
        )
    assert "找不到表头" in _errors(exc_info)[0][3]
    with pytest.raises(UpperListRejected) as exc_info:
        upper_list_import(actor=None, push_date=FIRST_PUSH, source_name="市局", uploaded_file=xlsx([["纳税人识别号"]]))
    assert _errors(exc_info) == [(2, "", "", "文件中没有数据行。")]
    with pytest.raises(UpperListRejected) as exc_info:
        upper_list_import(
            actor=None,
            push_date=FIRST_PUSH,
            source_name="市局",
            uploaded_file=SimpleUploadedFile("a.xlsx", b"not a zip"),
        )
    assert "不是有效的 .xlsx" in _errors(exc_info)[0][3]


def test_a_pushed_date_takes_no_more_imports(org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    with pytest.raises(ApplicationError, match="名单推送后不再更改"):
        upper_list_import(
            actor=None,
            push_date=FIRST_PUSH,
            source_name="市局",
            uploaded_file=xlsx([["纳税人识别号"], [taxpayer.identifier]]),
        )
    outcome = upper_list_import(
        actor=None,
        push_date=MONTH_END_PUSH,
        source_name="市局",
        uploaded_file=xlsx([["纳税人识别号"], [taxpayer.identifier]]),
    )
    assert outcome.upload.push_date == MONTH_END_PUSH


def test_the_import_page_lists_the_errors(client_for, org):
    TaxpayerFactory(branch=org["branch_a"])
    client = client_for("refund_officer")
    page = client.get(reverse("refund:upper_list_import"))
    assert page.status_code == 200
    dates = [value for value, _ in page.context["form"].fields["push_date"].choices]
    assert dates, "the form offers the push dates not yet built"
    response = client.post(
        reverse("refund:upper_list_import"),
        {"push_date": dates[0], "source_name": "市局", "file": xlsx([["纳税人识别号", "金额"], ["123", "abc"]])},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "错误明细（2 处）" in text
    assert "不是有效的数字。" in text
    assert not UpperListImport.objects.exists()
