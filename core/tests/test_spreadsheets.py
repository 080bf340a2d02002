"""The one spreadsheet reader: the header found below a title, columns by their Chinese names, blank rows
skipped, the row limit, repeats, formulas refused, and every problem as row / column / value / reason."""

import datetime as dt
import io
from decimal import Decimal

import pytest
import xlsxwriter

from core.cells import Cell, CellError, ReadContext, cell_text, money, past_date, period_cell, text_cell
from core.periods import Period
from core.spreadsheets import (
    Column,
    HeaderMap,
    RowError,
    SheetReader,
    SheetSpec,
    Unique,
    normalise_header,
    read_sheet,
)

TODAY = dt.date(2026, 3, 20)
SPEC = SheetSpec(
    columns=(
        Column("code", "编号", text_cell, required=True, aliases=("单号",)),
        Column("amount", "金额", money, blank=None),
        Column("day", "日期", past_date, required=True),
    ),
    ignored=("序号",),
    not_found_hint="，请使用模板。",
    missing_hint="，请补上。",
    max_rows=3,
    unique=(Unique(("code",), "与第 {row} 行的编号重复。"),),
)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def test_the_header_below_a_title_any_order_and_other_spellings():
    result = read_sheet(
        csv_file('一月份明细,,\n\n序号, 日期 ,金额(元),*单号\n1,2026-03-01,"1,200.50",A1\n,,,\n2,2026/3/2,,A2\n'),
        "a.csv",
        SPEC,
        context=ReadContext(TODAY),
    )
    assert result.errors == [] and result.warnings == []
    assert result.header.row == 3 and result.headers == {"day": "日期", "amount": "金额(元)", "code": "*单号"}
    assert [(row.row, row.values) for row in result.rows] == [
        (4, {"code": "A1", "amount": Decimal("1200.50"), "day": dt.date(2026, 3, 1)}),
        (6, {"code": "A2", "amount": None, "day": dt.date(2026, 3, 2)}),  # row 5 is blank
    ]


def test_every_problem_is_a_row_column_value_reason_and_no_row_is_good():
    result = read_sheet(
        csv_file("编号,金额,日期,备注\nA1,-1,2026-03-01,\nA1,5,2099-01-01,\n,abc,,\n"), "a.csv", SPEC,
        context=ReadContext(TODAY),
    )  # fmt: skip
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (2, "金额", "-1"),
        (3, "日期", "2099-01-01"),
        (3, "编号", "A1"),
        (4, "编号", ""),
        (4, "金额", "abc"),
        (4, "日期", ""),
    ]
    reasons = [e.reason for e in result.errors]
    assert (
        reasons[0] == "金额不能为负数。" and reasons[2] == "与第 2 行的编号重复。" and reasons[3] == "必填项不能为空。"
    )
    assert result.rows == [] and result.warnings == ["以下列未识别，已忽略：备注"]


def test_header_problems_stop_the_reading():
    missing = read_sheet(csv_file("编号,金额,金额\nA1,1,2\n"), "a.csv", SPEC)
    assert [(e.row, e.column, e.reason) for e in missing.errors] == [
        (1, "金额", "列“金额”出现了两次，请删除多余的一列。"),
        (1, "日期", "缺少必填列“日期”，请补上。"),
    ]
    absent = read_sheet(csv_file("名称\nx\n"), "a.csv", SPEC)
    assert [e.reason for e in absent.errors] == ["找不到表头：前 10 行中没有“编号”列，请使用模板。"]
    empty = read_sheet(csv_file("标题\n编号,日期\n\n"), "a.csv", SPEC)
    assert [(e.row, e.reason) for e in empty.errors] == [(3, "文件中没有数据行。")]


def test_the_row_limit_and_an_unreadable_file():
    rows = "".join(f"A{i},,2026-03-01\n" for i in range(5))
    result = read_sheet(csv_file(f"编号,金额,日期\n{rows}"), "a.csv", SPEC, context=ReadContext(TODAY))
    assert len(result.rows) == 3 and [(e.row, e.reason) for e in result.errors] == [
        (5, "超过 3 行，请拆分后分批导入。")
    ]
    broken = read_sheet(io.BytesIO(b"not a zip"), "a.xlsx", SPEC)
    assert broken.rows == [] and broken.errors[0].row == 0 and "不是有效的 .xlsx" in broken.errors[0].reason
    assert "只支持" in read_sheet(io.BytesIO(b""), "a.txt", SPEC).errors[0].reason


def test_formulas_are_refused_when_the_import_says_so():
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["编号", "金额", "日期"])
    sheet.write_row(1, 0, ["A1", "", "2026-03-01"])
    sheet.write_formula(1, 1, "=50+50", None, 100)
    workbook.close()
    spec = SheetSpec(columns=SPEC.columns, refuse_formulas="单元格是公式。")
    result = read_sheet(io.BytesIO(output.getvalue()), "a.xlsx", spec, context=ReadContext(TODAY))
    assert [(e.column, e.value, e.reason) for e in result.errors] == [("金额", "=50+50", "单元格是公式。")]
    values = read_sheet(io.BytesIO(output.getvalue()), "a.xlsx", SPEC, context=ReadContext(TODAY))
    assert values.rows[0].values["amount"] == Decimal("100.00")  # its cached value otherwise


def test_a_row_check_reads_a_cell_only_when_it_matters():
    def check(row, context):
        if row.values.get("code") == "B":
            row.read("amount", money, required=True)

    spec = SheetSpec(columns=(Column("code", "编号"), Column("amount", "金额", None)), check_row=check)
    result = read_sheet(csv_file("编号,金额\nA,abc\nB,\nB,12\n"), "a.csv", spec)
    assert [(e.row, e.column, e.reason) for e in result.errors] == [(3, "金额", "必填项不能为空。")]
    assert [row.values for row in result.rows] == [{"code": "A"}, {"code": "B", "amount": Decimal("12.00")}]


def test_a_sheet_without_a_header_row_reads_its_columns_in_order():
    columns = (Column("mobile", "手机号码"), Column("name", "名称"))
    reader = SheetReader(
        SheetSpec(columns=columns), [(1, ["13800138000", "甲"]), (2, [])], header=HeaderMap.positional(columns)
    )
    assert [reader.check(n, r).values for n, r in reader.data_rows()] == [{"mobile": "13800138000", "name": "甲"}]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (None, ""),
        (" 甲 ", "甲"),
        (True, "是"),
        (13800138000.0, "13800138000"),
        (1234.5, "1234.5"),
        (1e30, "1" + "0" * 30),
        (dt.datetime(2024, 5, 22), "2024-05-22"),
        (dt.datetime(2024, 5, 22, 9, 30), "2024-05-22 09:30"),
        (dt.date(2024, 5, 22), "2024-05-22"),
    ],
)
def test_every_cell_is_read_as_text(raw, text):
    assert cell_text(raw) == text


def test_numbers_that_lost_digits_and_months_that_lost_a_zero_are_refused():
    with pytest.raises(CellError, match="截断"):
        text_cell(Cell("914403000000000000", 9.14403e17))
    assert text_cell(Cell("'0123", "'0123")) == "0123"
    with pytest.raises(CellError, match="数值格式"):
        period_cell(Cell("2024.1", 2024.1))
    assert period_cell(Cell("2024年5月", "2024年5月")) == Period(2024, 5)
    assert period_cell(Cell("", dt.datetime(2024, 5, 31))) == Period(2024, 5)


def test_headers_compare_without_spaces_case_stars_and_hints():
    assert normalise_header(" *退库金额（元） ") == normalise_header("退库金额") == "退库金额"
    assert normalise_header("Mobile") == "mobile"
    assert RowError(2, "金额", "9" * 300, "x").value.endswith("（共 300 个字符）")


def test_a_header_check_and_the_imports_own_row_checks_settle_into_the_report():
    def either(header):
        if not {"code", "amount"} & header.positions.keys():
            header.errors.append(RowError(header.row, "编号", "", "需要编号或金额。"))

    spec = SheetSpec(columns=(Column("code", "编号"), Column("amount", "金额"), Column("day", "日期")), marker="day",
                     check_header=either)  # fmt: skip
    assert [e.reason for e in read_sheet(csv_file("日期\n1\n"), "a.csv", spec).errors] == ["需要编号或金额。"]
    result = read_sheet(csv_file("日期,编号\n1,A\n2,B\n3,C\n"), "a.csv", spec)
    for row in result.rows:
        if row.values["code"] != "B":
            row.fail("code", row.values["code"], "系统中没有。")
    assert [row.values["code"] for row in result.settle()] == ["B"]
    assert [(e.row, e.column, e.value) for e in result.errors] == [(2, "编号", "A"), (4, "编号", "C")]
