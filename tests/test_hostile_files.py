"""Every sheet reader of the product survives hostile files: a Chinese row/column or file-level error, never an
exception, and error reports that keep a bounded excerpt of what the file held.

The readers: the three taxpayer imports (``taxpayers.imports.check_file``), the applications export
(``refund.applications.imports.read_applications``), the higher bureau's lists
(``refund.candidates.upper_lists``) and the treasury's receipts (``ledger.receipts``), all reading through the one
spreadsheet reader (``core.spreadsheets``). Each is given every file of the corpus below.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest

from core.cells import Cell, CellError, cell_text, money
from core.spreadsheets import EXCERPT_CHARS, RowError
from ledger.receipts import read_receipts
from refund.applications.imports import read_applications
from refund.candidates.upper_lists import read_upper_list
from taxpayers import imports
from taxpayers.tests.test_imports import to_xlsx

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 17)
IDENTIFIER = "91330100MA27XXXX1X"
HAN = re.compile(r"[\u4e00-\u9fff]")

# Each reader: its headers, one ordinary row with "{amount}" where a money cell goes, and how to read a file.
READERS = {
    "taxpayer returns": (
        ["纳税人识别号", "所属期", "申报日期", "进项-增值税专用发票", "期末留抵税额"],
        [IDENTIFIER, "2026-10", "2026-11-10", "100.00", "{amount}"],
        lambda fh, name: imports.check_file("returns", fh, name, today=TODAY),
    ),
    "applications": (
        ["申请文书号", "纳税人识别号", "申请退税所属期", "退税类型", "申请退税额", "受理日期"],
        ["SQ0001", IDENTIFIER, "2026-11", "增量", "{amount}", "2026-11-12"],
        lambda fh, name: read_applications(fh, name, today=TODAY),
    ),
    "upper lists": (
        ["纳税人识别号", "金额", "备注"],
        [IDENTIFIER, "{amount}", "上级下发"],
        lambda fh, name: read_upper_list(fh, name),
    ),
    "treasury receipts": (
        ["退库凭证号", "申请文书号", "纳税人识别号", "退库金额", "退库日期"],
        ["PZ0001", "SQ0001", IDENTIFIER, "{amount}", "2026-11-16"],
        lambda fh, name: read_receipts(fh, name, today=TODAY),
    ),
}


def _sheet(headers, row, amount, *, number=False) -> bytes:
    cells = [amount if c == "{amount}" else c for c in row]
    numbers = {(1, row.index("{amount}"))} if number else set()
    return to_xlsx(headers, [cells], numbers=numbers)


def _truncated_sheet_xml(headers, row) -> bytes:
    """A valid zip whose sheet XML is cut off half-way through its rows."""
    good = _sheet(headers, row, "100.00")
    source, output = zipfile.ZipFile(io.BytesIO(good)), io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]
            target.writestr(item, data)
    return output.getvalue()


def _corpus(headers, row) -> dict[str, tuple[str, bytes]]:
    header_line = ",".join(headers)
    plain = ",".join(c.replace("{amount}", "1.00") for c in row)
    return {
        "a 1e30 number cell": ("f.xlsx", _sheet(headers, row, "1e30", number=True)),
        "a 31-digit amount": ("f.xlsx", _sheet(headers, row, "1" * 31)),
        "an amount of 10^14": ("f.xlsx", _sheet(headers, row, "100000000000000")),
        "a truncated sheet": ("f.xlsx", _truncated_sheet_xml(headers, row)),
        "random bytes named xlsx": ("f.xlsx", bytes(range(256)) * 40),
        "an empty file": ("f.xlsx", b""),
        "html named xlsx": ("f.xlsx", b"<html><body>not a workbook</body></html>"),
        "a csv field over the reader's limit": ("f.csv", f"{header_line}\n{'x' * 140_000},{plain}\n".encode()),
        "a csv with a NUL byte": ("f.csv", f"{header_line}\n{plain}\x00\n".encode()),
        "a huge cell": ("f.xlsx", _sheet(headers, row, "9" * 300_000)),
    }


CASES = [(reader, case) for reader, (headers, row, _) in READERS.items() for case in _corpus(headers, row)]


@pytest.mark.parametrize(("reader", "case"), CASES, ids=[f"{r}: {c}" for r, c in CASES])
def test_each_reader_refuses_each_hostile_file_in_chinese(reader, case):
    headers, row, read = READERS[reader]
    name, content = _corpus(headers, row)[case]
    result = read(io.BytesIO(content), name)
    errors = list(result.errors)
    assert errors, f"{reader} accepted {case}"
    for error in errors:
        assert HAN.search(error.reason), error.reason  # a sentence for the officer, not an exception's text
        assert len(error.value) <= EXCERPT_CHARS + 30
        assert len(error.column) <= EXCERPT_CHARS + 30


def test_a_huge_cell_is_reported_by_an_excerpt_with_its_length():
    error = RowError(2, "金额", "9" * 300_000, "不是有效的数字。")
    assert error.value.startswith("9" * EXCERPT_CHARS)
    assert error.value.endswith("（共 300,000 个字符）")
    assert len(error.as_dict()["value"]) < 250


@pytest.mark.parametrize("raw", [1e30, 1e27, "1" * 31, "100000000000000"])
def test_amounts_beyond_the_money_field_are_a_cell_error(raw):
    cell = Cell(cell_text(raw), raw)
    with pytest.raises(CellError, match="金额过大"):
        money(cell)
    assert money(Cell("99999999999999.99", "99999999999999.99")) == Decimal("99999999999999.99")


# --- the upload pages: every hostile file, posted as the officer who may upload --------------------------------

UPLOAD_PAGES = {
    # page: (url, persona, form fields besides the file, name of the file field, the reader's headers and row)
    "taxpayer returns import": ("/taxpayers/imports/upload/", "refund_officer", {"kind": "returns"}, "file",
                                "taxpayer returns"),
    "taxpayer registry import": ("/taxpayers/imports/upload/", "refund_officer", {"kind": "taxpayers"}, "file",
                                 "taxpayer returns"),
    "applications import": ("/refund/applications/import/", "refund_officer", {}, "file", "applications"),
    "treasury receipts import": ("/ledger/import/", "refund_officer", {}, "file", "treasury receipts"),
    "SMS batch recipients": ("/notify/batches/new/", "service_officer", {"name": "测试批次"}, "recipients_file",
                             "upper lists"),
}
PAGE_CASES = [
    (page, case) for page, spec in UPLOAD_PAGES.items() for case in _corpus(*READERS[spec[4]][:2])
]


def _row_counts() -> dict:
    from django.apps import apps

    models = ("taxpayers.Taxpayer", "taxpayers.VatReturn", "taxpayers.ComplianceRecord", "refund.RefundApplication",
              "ledger.TreasuryPayment", "ledger.LedgerEntry", "notify.SmsBatch", "notify.SmsMessage")
    return {label: apps.get_model(label).objects.count() for label in models}


@pytest.mark.parametrize(("page", "case"), PAGE_CASES, ids=[f"{p}: {c}" for p, c in PAGE_CASES])
def test_each_upload_page_answers_each_hostile_file_without_a_server_error_or_a_write(
    client_for, settings, tmp_path, page, case
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from notify.models import MessageTemplate

    settings.MEDIA_ROOT = tmp_path
    url, persona, fields, file_field, reader = UPLOAD_PAGES[page]
    if page == "SMS batch recipients":
        template = MessageTemplate.objects.create(code="hostile", name="测试模板", body="{taxpayer_name}您好")
        fields = {**fields, "template": template.pk}
    name, content = _corpus(*READERS[reader][:2])[case]
    client = client_for(persona)
    client.raise_request_exception = False
    before = _row_counts()
    response = client.post(url, {**fields, file_field: SimpleUploadedFile(name, content)})
    assert response.status_code < 500, f"{page} answered {response.status_code} to {case}"
    assert _row_counts() == before, f"{page} wrote rows for {case}"


def test_formula_cells_are_refused_in_treasury_receipts():
    """Excel's cached result of a formula may be stale or empty: a voucher number once read as "0"."""
    import xlsxwriter

    headers, row, read = READERS["treasury receipts"]
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, headers)
    sheet.write_row(1, 0, [c.replace("{amount}", "100.00") for c in row])
    sheet.write_formula(1, 0, '=CONCATENATE("PZ","0001")', None, 0)  # voucher: cached value 0
    sheet.write_formula(1, 3, "=50+50", None, 100)  # amount
    workbook.close()
    result = read(io.BytesIO(output.getvalue()), "回执.xlsx")
    refused = {(e.column, e.value) for e in result.errors if "公式" in e.reason}
    assert refused == {("退库凭证号", '=CONCATENATE("PZ","0001")'), ("退库金额", "=50+50")}
