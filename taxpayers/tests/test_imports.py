"""All-or-nothing imports: a bad row writes nothing and is reported; the fixed file imports; again, nothing changes."""

import csv
import datetime as dt
import io
import time
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import AuditEvent
from core.periods import Period
from taxpayers.imports import SPECS
from taxpayers.models import ComplianceRecord, ImportJob, Taxpayer, VatReturn
from taxpayers.services import import_job_create, import_job_run
from taxpayers.tasks import run_import_job
from taxpayers.tests.factories import TaxpayerFactory, make_uscc

TAXPAYER_HEADERS = [
    "纳税人识别号",
    "纳税人名称",
    "主管税务机关",
    "行业代码",
    "登记日期",
    "一般纳税人登记日期",
    "申报期限",
    "法定代表人",
    "法定代表人手机",
    "财务负责人手机",
    "纳税信用级别",
    "企业规模",
    "上年增值税销售额",
    "出口企业(是/否)",
]
RETURN_HEADERS = [
    "纳税人识别号",
    "所属期",
    "申报日期",
    "销售额合计",
    "销项税额",
    "进项-增值税专用发票",
    "进项税额转出",
    "期末留抵税额",
    "分行业销售额",
]
COMPLIANCE_HEADERS = ["纳税人识别号", "类型", "发生日期", "文书号", "金额", "备注"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def taxpayer_rows():
    return [
        [make_uscc(101), "城东精工机械有限公司", "BRA", "C3411", "2015-03-01", "2015-06-01", "按月申报", "张三",
         "13800138000", "139 1234 5678", "A", "小型", "12,000,000.00", "否"],
        [make_uscc(102), "城西新能源科技有限公司", "城西税务分局", "D4415", "2018-07-15", "", "按季申报", "李四",
         "", "", "B级", "微型企业", "", "是"],
        [make_uscc(103), "示范商贸有限公司", "BRA", "F5123", "2020-01-02", "2020-01-02", *[""] * 8],
    ]  # fmt: skip


def return_rows(a, b):
    return [
        [a.identifier, "2025-06", "2025-07-15", "1000000.00", "130000.00", "150000.00", "0", "20000.00",
         "C3411=600000.00;F5123=400000.00"],
        [a.identifier, "2025-07", "2025-08-14", "800000", "104000", "90000", "1000.5", "5000", ""],
        [b.identifier, "2025-06", "", "0", "0", "0", "0", "0", ""],
    ]  # fmt: skip


def compliance_rows(a):
    return [
        [a.identifier, "偷税处罚", "2023-05-10", "税稽罚〔2023〕15号", "52000.00", "已缴清"],
        [
            a.identifier,
            "享受即征即退/先征后返（退）",
            "2022-03-01",
            "即征即退〔2022〕3号",
            "",
            "第一行\n第二行\\C:\t完",
        ],
    ]


def to_csv(headers, rows, encoding="utf-8-sig") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def to_xlsx(headers, rows, numbers=()) -> bytes:
    """Every cell as text except the (row, column) pairs in ``numbers``, written as Excel numbers."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if (r, c) in numbers:
                sheet.write_number(r, c, float(value))
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return output.getvalue()


def run_import(kind, filename, content, *, actor=None, today=None) -> ImportJob:
    job = import_job_create(actor=actor, kind=kind, uploaded_file=SimpleUploadedFile(filename, content))
    return import_job_run(job_id=job.pk, today=today)


def only_error(job):
    assert job.status == ImportJob.Status.FAILED, job.message
    assert job.error_count == 1, job.errors
    return job.errors[0]


# --- one bad row: nothing written, that row reported in Chinese ----------------------------------------------------


@pytest.mark.django_db
def test_taxpayer_file_with_a_wrong_check_digit_writes_nothing_then_imports_fixed_and_again_changes_nothing(personas):
    rows = taxpayer_rows()
    good_identifier = rows[2][0]
    rows[2][0] = good_identifier[:-1] + ("0" if good_identifier[-1] != "0" else "1")

    job = run_import("taxpayers", "纳税人.csv", to_csv(TAXPAYER_HEADERS, rows), actor=personas["refund_officer"])

    error = only_error(job)
    assert error == {
        "row": 4,
        "column": "纳税人识别号",
        "value": rows[2][0],
        "reason": f"纳税人识别号“{rows[2][0]}”校验位错误，请核对统一社会信用代码。",
    }
    assert Taxpayer.objects.count() == 0
    assert job.total_rows == 3 and job.created_count == 0
    assert "未写入任何数据" in job.message
    assert not AuditEvent.objects.filter(verb="import").exists()

    rows[2][0] = good_identifier
    fixed = to_csv(TAXPAYER_HEADERS, rows)
    job = run_import("taxpayers", "纳税人.csv", fixed, actor=personas["refund_officer"])

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    assert job.processed_rows == job.total_rows == 3
    first = Taxpayer.objects.get(identifier=make_uscc(101))
    assert first.branch.code == "BRA"
    assert first.finance_contact_mobile == "13912345678"  # spaces removed by validate_mobile
    assert first.prev_year_vat_sales == Decimal("12000000.00")
    assert (first.size, first.is_export_enterprise) == ("small", False)
    second = Taxpayer.objects.get(identifier=make_uscc(102))
    assert second.branch.code == "BRB"  # by name
    assert second.general_taxpayer_since is None
    assert (second.filing_frequency, second.size) == ("quarterly", "micro")
    # The core system's export carries the level; ratings are imported by the credit section, so it is ignored.
    assert job.message == "以下列未识别，已忽略：纳税信用级别"
    assert second.is_export_enterprise is True
    event = AuditEvent.objects.get(verb="import")
    assert event.actor == personas["refund_officer"]
    assert (event.changes["created"], event.changes["updated"], event.changes["unchanged"]) == (3, 0, 0)

    stamps = dict(Taxpayer.objects.values_list("identifier", "updated_at"))
    again = run_import("taxpayers", "纳税人.csv", fixed, actor=personas["refund_officer"])

    assert again.status == ImportJob.Status.SUCCEEDED
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert dict(Taxpayer.objects.values_list("identifier", "updated_at")) == stamps
    assert again.sha256 == job.sha256


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "row", "column", "value", "reason"),
    [
        ("negative", 3, "期末留抵税额", "-5000.00", "金额不能为负数。"),
        ("unknown", 2, "纳税人识别号", make_uscc(999), f"纳税人识别号“{make_uscc(999)}”在系统中不存在"),
        ("future", 4, "所属期", "2099-01", "所属期尚未结束"),
        ("before_2019", 4, "所属期", "2018-12", "所属期早于 2019-01"),
        ("duplicate", 4, "纳税人识别号", None, "与第 2 行是同一纳税人的同一所属期，同一文件中不能重复。"),
        ("three_decimals", 3, "销售额合计", "1.005", "金额最多保留两位小数"),
        ("bad_industry", 2, "分行业销售额", "X9999=1.00", "不是有效的 GB/T 4754-2017"),
    ],
)
def test_one_bad_return_row_writes_nothing_and_is_reported(taxpayer_a, taxpayer_b, case, row, column, value, reason):
    rows = return_rows(taxpayer_a, taxpayer_b)
    if case == "negative":
        rows[1][7] = "-5000.00"
    elif case == "unknown":
        rows[0][0] = make_uscc(999)
    elif case in ("future", "before_2019"):
        rows[2][1] = value
    elif case == "duplicate":
        rows[2] = [*rows[0]]
        value = taxpayer_a.identifier
    elif case == "three_decimals":
        rows[1][3] = "1.005"
    elif case == "bad_industry":
        rows[0][8] = "X9999=1.00"

    job = run_import("returns", "申报表.csv", to_csv(RETURN_HEADERS, rows))

    error = only_error(job)
    assert (error["row"], error["column"], error["value"]) == (row, column, value)
    assert error["reason"].startswith(reason) or reason in error["reason"]
    assert VatReturn.objects.count() == 0


@pytest.mark.django_db
def test_missing_required_header_is_reported_on_the_header_row(taxpayer_a):
    headers = [h for h in COMPLIANCE_HEADERS if h != "文书号"]
    rows = [
        [cell for i, cell in enumerate(r) if COMPLIANCE_HEADERS[i] != "文书号"] for r in compliance_rows(taxpayer_a)
    ]

    job = run_import("compliance", "合规.csv", to_csv(headers, rows))

    assert only_error(job) == {
        "row": 1,
        "column": "文书号",
        "value": "",
        "reason": "缺少必填列“文书号”，请使用导入模板的表头。",
    }
    assert ComplianceRecord.objects.count() == 0


@pytest.mark.django_db
def test_every_error_of_a_file_is_listed_with_row_column_value_and_reason(taxpayer_a, taxpayer_b):
    rows = return_rows(taxpayer_a, taxpayer_b)
    rows[0][1] = "2025-13"
    rows[1][4] = "abc"
    rows[2][2] = "2099-01-01"

    job = run_import("returns", "申报表.csv", to_csv(RETURN_HEADERS, rows))

    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["column"], e["value"]) for e in job.errors] == [
        (2, "所属期", "2025-13"),
        (3, "销项税额", "abc"),
        (4, "申报日期", "2099-01-01"),
    ]
    assert "格式不正确" in job.errors[0]["reason"]
    assert job.errors[1]["reason"] == "不是有效的数字。"
    assert "不能是将来的日期" in job.errors[2]["reason"]


# --- returns and compliance: upsert on the natural key --------------------------------------------------------------


@pytest.mark.django_db
def test_returns_xlsx_import_update_and_reimport(taxpayer_a, taxpayer_b):
    rows = return_rows(taxpayer_a, taxpayer_b)
    numbers = {(1, 3), (1, 4), (2, 3)}  # some amounts as Excel number cells, as exports often have
    content = to_xlsx(RETURN_HEADERS, rows, numbers=numbers)

    job = run_import("returns", "申报表.xlsx", content)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    june = VatReturn.objects.get(taxpayer=taxpayer_a, period="2025-06")
    assert june.sales_total == Decimal("1000000.00")
    assert june.output_tax == Decimal("130000.00")
    assert june.end_credit == Decimal("20000.00")
    assert june.filed_on == dt.date(2025, 7, 15)
    assert june.sales_by_industry == {"C3411": "600000.00", "F5123": "400000.00"}
    july = VatReturn.objects.get(taxpayer=taxpayer_a, period="2025-07")
    assert july.input_transferred_out == Decimal("1000.50")
    assert july.sales_by_industry == {}

    stamps = dict(VatReturn.objects.values_list("pk", "updated_at"))
    rows[1][7] = "6000.00"
    changed = run_import("returns", "申报表.xlsx", to_xlsx(RETURN_HEADERS, rows, numbers=numbers))

    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 1, 2)
    july.refresh_from_db()
    assert july.end_credit == Decimal("6000.00")
    after = dict(VatReturn.objects.values_list("pk", "updated_at"))
    assert after[july.pk] > stamps[july.pk]
    assert {pk: at for pk, at in after.items() if pk != july.pk} == {
        pk: at for pk, at in stamps.items() if pk != july.pk
    }

    again = run_import("returns", "申报表.xlsx", to_xlsx(RETURN_HEADERS, rows, numbers=numbers))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert dict(VatReturn.objects.values_list("pk", "updated_at")) == after


@pytest.mark.django_db
def test_quarterly_filer_return_must_be_for_a_quarter_end(org):
    quarterly = TaxpayerFactory(branch=org["branch_a"], filing_frequency=Taxpayer.FilingFrequency.QUARTERLY)
    rows = [[quarterly.identifier, "2025年5月", "", "1", "0", "0", "0", "0", ""]]

    error = only_error(run_import("returns", "q.csv", to_csv(RETURN_HEADERS, rows)))

    assert (error["row"], error["column"], error["value"]) == (2, "所属期", "2025-05")
    assert "按季申报" in error["reason"]

    rows[0][1] = "2025年6月"
    assert run_import("returns", "q.csv", to_csv(RETURN_HEADERS, rows)).status == ImportJob.Status.SUCCEEDED
    assert VatReturn.objects.get(taxpayer=quarterly).period == Period(2025, 6)


@pytest.mark.django_db
def test_compliance_import_by_chinese_kind_and_reimport(taxpayer_a):
    content = to_csv(COMPLIANCE_HEADERS, compliance_rows(taxpayer_a))

    job = run_import("compliance", "合规记录.csv", content)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.created_count == 2
    penalty = ComplianceRecord.objects.get(kind=ComplianceRecord.Kind.EVASION_PENALTY)
    assert (penalty.document_number, penalty.amount, penalty.note) == (
        "税稽罚〔2023〕15号",
        Decimal("52000.00"),
        "已缴清",
    )
    immediate = ComplianceRecord.objects.get(kind=ComplianceRecord.Kind.IMMEDIATE_REFUND)
    assert immediate.amount is None and immediate.occurred_on == dt.date(2022, 3, 1)
    assert immediate.note == "第一行\n第二行\\C:\t完"  # COPY escapes survive

    again = run_import("compliance", "合规记录.csv", content)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)


# --- reading files: encodings, xlsx cell types ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_excel_saves(org, encoding):
    job = run_import("taxpayers", "nsr.csv", to_csv(TAXPAYER_HEADERS, taxpayer_rows(), encoding=encoding))

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert Taxpayer.objects.get(identifier=make_uscc(102)).name == "城西新能源科技有限公司"


@pytest.mark.django_db
def test_xlsx_identifier_that_excel_turned_into_a_number_is_refused(org):
    rows = taxpayer_rows()
    rows[1][0] = "914403001922038216"  # a real-shaped all-digit USCC; as a number Excel keeps 15 digits
    content = to_xlsx(TAXPAYER_HEADERS, rows, numbers={(2, 0)})

    error = only_error(run_import("taxpayers", "纳税人.xlsx", content))

    assert (error["row"], error["column"], error["value"]) == (3, "纳税人识别号", "9.14403E+17")
    assert "文本" in error["reason"]
    assert Taxpayer.objects.count() == 0


@pytest.mark.django_db
def test_xlsx_exact_number_phone_and_date_cells_are_read_as_text(org):
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["某某县税务局 纳税人登记信息"])  # a title row above the header, as exports have
    sheet.write_row(1, 0, ["纳税人识别号", "纳税人名称", "主管税务机关", "行业代码", "登记日期", "法定代表人手机"])
    sheet.write_string(2, 0, make_uscc(201))
    sheet.write_string(2, 1, "数值单元格有限公司")
    sheet.write_string(2, 2, "BRA")
    sheet.write_string(2, 3, "3411")
    sheet.write_datetime(2, 4, dt.datetime(2016, 8, 9), date_format)
    sheet.write_number(2, 5, 13800138000)
    workbook.close()

    job = run_import("taxpayers", "nsr.xlsx", output.getvalue())

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    taxpayer = Taxpayer.objects.get(identifier=make_uscc(201))
    assert (taxpayer.legal_rep_mobile, taxpayer.registered_on, taxpayer.industry_code) == (
        "13800138000",
        dt.date(2016, 8, 9),
        "C3411",
    )


@pytest.mark.django_db
def test_absent_optional_column_leaves_existing_value_alone(org):
    taxpayer = TaxpayerFactory(branch=org["branch_a"], legal_rep_mobile="13800138000", size="small")
    headers = ["纳税人识别号", "纳税人名称", "主管税务机关", "行业代码", "登记日期", "企业规模"]
    row = [taxpayer.identifier, "改名后有限公司", "BRA", "C3411", "2015-03-01", ""]

    job = run_import("taxpayers", "nsr.csv", to_csv(headers, [row]))

    assert (job.updated_count, job.unchanged_count) == (1, 0)
    taxpayer.refresh_from_db()
    assert taxpayer.name == "改名后有限公司"
    assert taxpayer.legal_rep_mobile == "13800138000"  # column absent: untouched
    assert taxpayer.size == ""  # column present, cell empty: cleared


def test_headers_come_from_the_models_verbose_names():
    assert [c.header for c in SPECS["taxpayers"].columns][:5] == [
        "纳税人识别号",
        "纳税人名称",
        "主管税务机关",
        "行业代码",
        "登记日期",
    ]
    return_headers = [c.header for c in SPECS["returns"].columns]
    assert return_headers[:3] == ["纳税人识别号", "所属期", "申报日期"]
    assert "期末留抵税额" in return_headers and return_headers[-1] == "分行业销售额"
    assert [c.header for c in SPECS["compliance"].columns] == COMPLIANCE_HEADERS


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("坏文件.xlsx", b"not a zip at all", "文件不是有效的 .xlsx 工作簿"),
        ("空.csv", "纳税人识别号,所属期\n".encode(), "文件中没有数据行。"),
        ("无表头.csv", b"a,b\n1,2\n", "找不到表头"),
    ],
)
def test_unreadable_or_empty_files_are_refused_with_a_reason(org, filename, content, reason):
    job = run_import("returns", filename, content)

    assert job.status == ImportJob.Status.FAILED
    assert reason in job.errors[0]["reason"]


@pytest.mark.django_db
def test_old_xls_is_refused_by_the_upload_form(client_for):
    response = client_for("refund_officer").post(
        reverse("taxpayers:import_upload"), {"kind": "taxpayers", "file": SimpleUploadedFile("a.xls", b"x")}
    )

    assert response.status_code == 200
    assert "不支持旧版 .xls 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- service, task and command -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_a_job_twice_does_nothing_the_second_time(taxpayer_a, taxpayer_b):
    job = import_job_create(
        actor=None,
        kind="returns",
        uploaded_file=SimpleUploadedFile("r.csv", to_csv(RETURN_HEADERS, return_rows(taxpayer_a, taxpayer_b))),
    )
    assert import_job_run(job_id=job.pk).status == ImportJob.Status.SUCCEEDED
    finished_at = ImportJob.objects.get(pk=job.pk).finished_at

    run_import_job(job.pk)  # a second delivery of the task

    job.refresh_from_db()
    assert (job.status, job.created_count, job.finished_at) == (ImportJob.Status.SUCCEEDED, 3, finished_at)
    assert AuditEvent.objects.filter(verb="import").count() == 1
    assert VatReturn.objects.count() == 3


@pytest.mark.django_db
def test_management_command_imports_and_fails_with_exit_code_1(tmp_path, personas, taxpayer_a, taxpayer_b, capsys):
    path = tmp_path / "申报表.csv"
    rows = return_rows(taxpayer_a, taxpayer_b)
    rows[2][3] = "-1"
    path.write_bytes(to_csv(RETURN_HEADERS, rows))

    with pytest.raises(CommandError) as failure:
        call_command("import_data", "returns", str(path), "--user", "refund_officer")

    assert failure.value.returncode == 1
    assert "第 4 行\t销售额合计\t-1\t金额不能为负数。" in capsys.readouterr().err
    assert VatReturn.objects.count() == 0
    assert ImportJob.objects.get().created_by == personas["refund_officer"]

    rows[2][3] = "1"
    path.write_bytes(to_csv(RETURN_HEADERS, rows))
    out = io.StringIO()
    call_command("import_data", "returns", str(path), stdout=out)

    assert "新增 3，更新 0，未变化 0" in out.getvalue()
    assert VatReturn.objects.count() == 3


# --- web ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_inline_as_refund_officer(client_for, org):
    client = client_for("refund_officer")
    upload = SimpleUploadedFile("纳税人.csv", to_csv(TAXPAYER_HEADERS, taxpayer_rows()))

    response = client.post(reverse("taxpayers:import_upload"), {"kind": "taxpayers", "file": upload})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("taxpayers:import_detail", args=[job.pk])
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.created_by.username == "refund_officer"
    assert Taxpayer.objects.count() == 3
    assert job.file.read() == to_csv(TAXPAYER_HEADERS, taxpayer_rows())  # the upload is kept

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "新增 3，更新 0，未变化 0" in page.content.decode()
    listing = client.get(reverse("taxpayers:import_list"))
    assert "纳税人.csv" in listing.content.decode() and "tag-done" in listing.content.decode()


@pytest.mark.django_db
def test_branch_officer_may_not_import(client_for, org):
    client = client_for("officer_a")
    upload = SimpleUploadedFile("纳税人.csv", to_csv(TAXPAYER_HEADERS, taxpayer_rows()))

    assert client.post(reverse("taxpayers:import_upload"), {"kind": "taxpayers", "file": upload}).status_code == 403
    assert client.get(reverse("taxpayers:import_list")).status_code == 403
    assert client.get(reverse("taxpayers:import_template", args=["taxpayers"])).status_code == 403
    assert not ImportJob.objects.exists() and not Taxpayer.objects.exists()
    # a supervisor may look but not upload
    assert client_for("supervisor").get(reverse("taxpayers:import_list")).status_code == 200
    assert client_for("supervisor").get(reverse("taxpayers:import_upload")).status_code == 403


@pytest.mark.django_db
def test_failed_import_page_lists_errors_and_the_error_xlsx_download_is_audited(client_for, taxpayer_a, taxpayer_b):
    rows = return_rows(taxpayer_a, taxpayer_b)
    rows[1][7] = "-5000.00"
    client = client_for("refund_officer")
    client.post(
        reverse("taxpayers:import_upload"),
        {"kind": "returns", "file": SimpleUploadedFile("申报表.csv", to_csv(RETURN_HEADERS, rows))},
    )
    job = ImportJob.objects.get()

    page = client.get(reverse("taxpayers:import_detail", args=[job.pk])).content.decode()
    assert "错误明细" in page and "期末留抵税额" in page and "金额不能为负数。" in page and "-5000.00" in page

    response = client.get(reverse("taxpayers:import_errors_download", args=[job.pk]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["行号", "列名", "值", "错误原因"]
    assert [c.value for c in sheet[2]] == [3, "期末留抵税额", "-5000.00", "金额不能为负数。"]
    event = AuditEvent.objects.get(verb="export")
    assert (event.actor.username, event.object_id, event.object_type) == (
        "refund_officer",
        str(job.pk),
        "taxpayers.importjob",
    )
    assert VatReturn.objects.count() == 0


@pytest.mark.django_db
def test_failed_upload_is_kept_and_its_download_is_audited(client_for, org):
    rows = taxpayer_rows()
    rows[0][8] = "10012345678"  # 11 digits, but not a mainland mobile number block
    content = to_csv(TAXPAYER_HEADERS, rows)
    job = run_import("taxpayers", "纳税人.csv", content)
    error = only_error(job)
    assert (error["column"], error["value"]) == ("法定代表人手机", "10012345678")
    assert "不是有效的中国大陆手机号段" in error["reason"]
    detail = reverse("taxpayers:import_detail", args=[job.pk])
    assert "10012345678" in client_for("refund_officer").get(detail).content.decode()
    masked = client_for("risk_officer").get(detail).content.decode()  # no contacts permission
    assert "100****5678" in masked and "10012345678" not in masked

    response = client_for("refund_officer").get(reverse("taxpayers:import_file_download", args=[job.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert AuditEvent.objects.filter(verb="export", object_id=str(job.pk)).count() == 1
    assert client_for("supervisor").get(reverse("taxpayers:import_file_download", args=[job.pk])).status_code == 403


@pytest.mark.django_db
def test_import_list_query_count_does_not_grow_with_jobs(client_for, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("supervisor")
    url = reverse("taxpayers:import_list")

    def make_job(n):
        upload = SimpleUploadedFile(f"t{n}.csv", to_csv(TAXPAYER_HEADERS, taxpayer_rows()))
        import_job_create(actor=personas["refund_officer"], kind="taxpayers", uploaded_file=upload)

    make_job(0)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(1, 6):
        make_job(n)
    with CaptureQueriesContext(connection) as six:
        page = client.get(url)

    assert page.content.decode().count("tag-waiting") == 6
    assert len(six) == len(one)


@pytest.mark.django_db
def test_progress_partial_polls_until_finished(client_for, org):
    job = import_job_create(
        actor=None,
        kind="taxpayers",
        uploaded_file=SimpleUploadedFile("t.csv", to_csv(TAXPAYER_HEADERS, taxpayer_rows())),
    )
    client = client_for("risk_officer")
    url = reverse("taxpayers:import_detail", args=[job.pk])

    pending = client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in pending.content.decode()
    assert "<html" not in pending.content.decode()
    assert "HX-Refresh" not in pending

    import_job_run(job_id=job.pk)
    done = client.get(url, headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_template_has_chinese_headers_text_identifier_and_imports_as_is(client_for, org):
    response = client_for("refund_officer").get(reverse("taxpayers:import_template", args=["taxpayers"]))

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in SPECS["taxpayers"].columns]
    assert sheet["A2"].number_format == "@" and sheet["J2"].value == "13800138000"
    assert workbook.sheetnames[1] == "填写说明"

    job = run_import("taxpayers", "模板.xlsx", response.content)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert Taxpayer.objects.get().branch == org["branch_a"]
    # the other templates' example rows refer to that example taxpayer, so they import too
    for kind, model in (("returns", VatReturn), ("compliance", ComplianceRecord)):
        template = client_for("refund_officer").get(reverse("taxpayers:import_template", args=[kind])).content
        assert run_import(kind, f"{kind}.xlsx", template).status == ImportJob.Status.SUCCEEDED
        assert model.objects.count() == 1


# --- the Celery path ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_large_upload_is_processed_by_a_celery_worker(settings, monkeypatch, client_for, org):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    settings.IMPORT_INLINE_MAX_BYTES = 64
    a = TaxpayerFactory(branch=org["branch_a"])
    b = TaxpayerFactory(branch=org["branch_b"])
    # A queue of this test's own: its worker takes no other test's messages, and none are left from a past run.
    queue = "test-taxpayers-imports"
    with app.connection() as conn:
        conn.default_channel.queue_purge(queue)
    # The worker's queues=[…] narrows what the shared app consumes; give the next test's worker all queues back.
    monkeypatch.setattr(app.amqp.queues, "_consume_from", app.amqp.queues._consume_from)
    monkeypatch.setattr(run_import_job, "_exec_options", {**run_import_job._get_exec_options(), "queue": queue})
    client = client_for("refund_officer")

    response = client.post(
        reverse("taxpayers:import_upload"),
        {"kind": "returns", "file": SimpleUploadedFile("大文件.csv", to_csv(RETURN_HEADERS, return_rows(a, b)))},
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.PENDING  # not run in the request
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, queues=[queue]):
        deadline = time.monotonic() + 20
        while not job.is_finished and time.monotonic() < deadline:
            time.sleep(0.1)
            job.refresh_from_db()

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created_count, job.processed_rows, job.total_rows) == (3, 3, 3)
    assert VatReturn.objects.filter(taxpayer=a).count() == 2
    event = AuditEvent.objects.get(verb="import")
    assert event.actor.username == "refund_officer"
    assert event.request_id == response["X-Request-ID"]
