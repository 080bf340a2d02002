"""The xlsx writer: text stays text — a cell that starts like a formula (``=``, ``+``, ``-``, ``@``) is never one."""

import io
import zipfile
from decimal import Decimal

from openpyxl import load_workbook

from core.xlsx import write_xlsx

HOSTILE = ("=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")')


def test_formula_like_text_is_written_as_text():
    buffer = io.BytesIO()
    rows = [(text, "13800138000", Decimal("1.50")) for text in HOSTILE]
    assert write_xlsx(buffer, ("内容", "手机号码", "金额"), rows, title="导出") == len(HOSTILE)
    sheet_xml = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)["导出"]
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in cells] == list(HOSTILE)
    assert {row[1] for row in cells} == {"13800138000"}  # a phone number stays a string
    assert {row[2] for row in cells} == {1.5}
