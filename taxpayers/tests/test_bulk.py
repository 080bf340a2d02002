"""The registry's bulk path (taxpayers/bulk.py): rows checked as the import checks them, all or nothing."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import AuditEvent, Branch
from taxpayers.bulk import (
    BulkRowsRefused,
    ReturnRow,
    TaxpayerBundle,
    taxpayers_bulk_delete,
    taxpayers_bulk_load,
)
from taxpayers.models import ComplianceRecord, Taxpayer, VatReturn

from .factories import make_uscc

TODAY = dt.date(2025, 6, 10)


def bundle(n: int, branch_code: str = "BRA", **taxpayer) -> TaxpayerBundle:
    values = {
        "identifier": make_uscc(n),
        "name": f"示范批量{n}有限公司",
        "branch_code": branch_code,
        "status": "normal",
        "industry_code": "C3411",
        "registered_on": dt.date(2015, 3, 1),
        "general_taxpayer_since": dt.date(2016, 1, 1),
        "filing_frequency": "monthly",
        "legal_rep_name": "张三",
        "legal_rep_mobile": "13800138000",
        "finance_contact_name": "",
        "finance_contact_mobile": "",
        "tax_handler_name": "",
        "tax_handler_mobile": "",
        "size": "small",
        "size_industry": "industry",
        "employees": 40,
        "prev_year_vat_sales": 1_200_000_000,
        "prev_year_months_operated": 12,
        "total_assets_prev_year_end": None,
        "is_export_enterprise": False,
        "is_key_taxpayer": False,
        **taxpayer,
    }
    returns = [
        ReturnRow("2025-04", dt.date(2025, 5, 12), 100_000_00, {}, 13_000_00, *([0] * 9), 0, 0, 50_000_00, 0, 0, 0),
        ReturnRow(
            "2025-05", dt.date(2025, 6, 9), 120_000_00, {"C3411": 70_000_00, "F5123": 50_000_00}, 15_600_00,
            1_000_00, *([0] * 8), 0, 0, 14_600_00, 0, 0, 0,
        ),
    ]  # fmt: skip
    records = [
        {"kind": "evasion_penalty", "occurred_on": dt.date(2024, 5, 1), "document_number": f"罚〔2024〕{n}号",
         "amount": 5_000_00, "note": ""},
    ]  # fmt: skip
    return TaxpayerBundle(values, returns, records)


def load(bundles, method=None):
    return taxpayers_bulk_load(bundles=bundles, today=TODAY, method=method)


METHODS = ["bulk_create", "executemany"] + (["copy"] if connection.vendor == "postgresql" else [])


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
def test_bundles_are_written_by_every_loader(org, method):
    result = load([bundle(1), bundle(2, "BUR")], method)

    assert (result.taxpayers, result.returns, result.compliance_records) == (2, 4, 2)
    taxpayer = Taxpayer.objects.get(identifier=make_uscc(1))
    assert taxpayer.branch == org["branch_a"] and taxpayer.prev_year_vat_sales == Decimal("12000000.00")
    may = VatReturn.objects.get(taxpayer=taxpayer, period="2025-05")
    assert (may.sales_total, may.input_special_invoice, may.end_credit) == (
        Decimal("120000.00"), Decimal("1000.00"), Decimal("14600.00"),
    )  # fmt: skip
    assert may.sales_by_industry == {"C3411": "70000.00", "F5123": "50000.00"}
    assert ComplianceRecord.objects.get(taxpayer=taxpayer).amount == Decimal("5000.00")
    assert AuditEvent.objects.filter(verb="taxpayers_bulk_load", summary__contains="纳税人 2 户").count() == 1


def changed(part: str, **values):
    """A bundle with one taxpayer field, or one value of its first return or record, changed."""

    def make():
        item = bundle(1)
        if part == "taxpayer":
            item.taxpayer.update(values)
        elif part == "return":
            item.returns[0] = item.returns[0]._replace(**values)
        else:
            item.compliance[0].update(values)
        return item

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (changed("taxpayer", identifier=make_uscc(1)[:-1] + ("1" if make_uscc(1)[-1] == "0" else "0")), "校验位错误"),
        (changed("taxpayer", branch_code="SEC1"), "是股室"),
        (changed("taxpayer", industry_code="Z9999"), "行业代码"),
        (changed("taxpayer", general_taxpayer_since=dt.date(2014, 1, 1)), "早于登记日期"),
        (changed("taxpayer", registered_on=dt.date(2025, 7, 1)), "晚于今天"),
        (changed("taxpayer", legal_rep_mobile="12345678901"), "手机号码"),
        (changed("taxpayer", size="huge"), "size"),
        (changed("taxpayer", prev_year_months_operated=13), "0 到 12"),
        (changed("taxpayer", filing_frequency="quarterly"), "季度最后一个月"),
        (changed("return", period="2025-06"), "不在 2019-01 到上月之间"),
        (changed("return", period="2025-05"), "申报表重复"),
        (changed("return", output_tax=-1), "负数"),
        (changed("return", sales_by_industry={"Z9999": 1}), "分行业销售额"),
        (changed("record", occurred_on=dt.date(2025, 7, 1)), "晚于今天"),
        (changed("record", kind="parking_fine"), "类型"),
    ],
)
def test_a_row_the_import_would_refuse_refuses_the_whole_load(org, make, reason):
    with pytest.raises(BulkRowsRefused, match=reason):
        load([bundle(2), make()])
    assert not Taxpayer.objects.exists() and not VatReturn.objects.exists()


@pytest.mark.django_db
def test_an_identifier_is_loaded_once(org):
    with pytest.raises(BulkRowsRefused, match="纳税人识别号重复"):
        load([bundle(1), copy.deepcopy(bundle(1))])


@pytest.mark.django_db
def test_delete_removes_the_branches_taxpayers_with_their_rows(org):
    load([bundle(1), bundle(2, "BRB")])
    deleted = taxpayers_bulk_delete(branch_codes=["BRA"])
    assert deleted == 4  # the taxpayer, its two returns and its record
    assert list(Taxpayer.objects.values_list("branch__code", flat=True)) == ["BRB"]
    assert AuditEvent.objects.filter(verb="taxpayers_bulk_delete").count() == 1
    assert Branch.objects.filter(code="BRA").exists()
