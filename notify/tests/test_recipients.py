"""Recipient lists read by the one spreadsheet reader: header by the variables' labels or keys, a list without a
header, blank lines, a repeated or unknown column ignored with a notice, and uploads refused in this page's words."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from notify.models import MessageTemplate
from notify.recipients import RecipientListError, parse_rows, read_pasted, read_upload


@pytest.fixture
def template():
    return MessageTemplate(code="bill", name="退税到账", body="{taxpayer_name}：{amount}元已退库。")


def test_a_header_in_any_order_with_repeated_and_unknown_columns(template):
    table = read_pasted(
        "\n手机号码\t退税金额\t纳税人名称\t电话\t备注\n13800138000\t10\t甲\t0571-1\tx\n\n13900139000\t20\t乙\t\t\n"
    )
    rows, notices = parse_rows(table, template=template)
    assert [(r.row, r.mobile, r.variables) for r in rows] == [
        (3, "13800138000", {"taxpayer_name": "甲", "amount": "10"}),
        (5, "13900139000", {"taxpayer_name": "乙", "amount": "20"}),
    ]
    assert notices == ["以下列不是模板变量，已忽略：电话、备注"]


def test_a_list_without_a_header_takes_the_columns_in_order(template):
    rows, notices = parse_rows(read_pasted("13800138000,甲\n13900139000，乙，20"), template=template)
    assert [(r.mobile, r.variables) for r in rows] == [
        ("13800138000", {"taxpayer_name": "甲", "amount": ""}),
        ("13900139000", {"taxpayer_name": "乙", "amount": "20"}),
    ]
    assert notices == []


def test_an_xlsx_is_read_as_text_and_a_bad_upload_is_refused_in_this_pages_words(template):
    book = openpyxl.Workbook()
    book.active.append(["手机号码", "taxpayer_name", "amount"])
    book.active.append([13800138000, "甲", 1234.5])
    buffer = io.BytesIO()
    book.save(buffer)
    rows, _ = parse_rows(read_upload(SimpleUploadedFile("名单.xlsx", buffer.getvalue())), template=template)
    assert (rows[0].mobile, rows[0].variables["amount"]) == ("13800138000", "1234.5")
    for name, content, message in [
        ("a.xls", b"x", "只能上传 .xlsx 或 .csv 文件"),
        ("a.xlsx", b"not a zip", "无法读取该 xlsx 文件，请用 Excel 另存为 .xlsx 后重试"),
        (
            "a.csv",
            b"a,b\n" + b"x" * 140_000 + b",1\n",
            "csv 文件格式有误（单元格过长或含有空字符），请另存为 .xlsx 后重试",
        ),
    ]:
        with pytest.raises(RecipientListError) as raised:
            read_upload(SimpleUploadedFile(name, content))
        assert raised.value.message == message
