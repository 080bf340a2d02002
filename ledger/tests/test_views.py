"""台账 pages: filters and totals, exports of exactly what the filters show (audited), scoping, the payment form,
the receipt import page, the runs page, and the ledger page's query count."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from accounts.navigation import menu_for
from core.masking import mask_identifier
from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry
from ledger.services import ledger_register_day
from ledger.tests.factories import approved_application, pay

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 25)


@pytest.fixture
def ledger(personas, taxpayer_a, taxpayer_b):
    officer = personas["refund_officer"]
    return {
        "a": pay(taxpayer_a, officer, voucher="V-A", incremental="1234567.89", stock="0.00"),
        "b": pay(taxpayer_b, officer, voucher="V-B", kind="stock", stock="50000.00", day=DAY + dt.timedelta(1)),
    }


def _sheet(response):
    body = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))


def test_the_ledger_page_shows_totals_in_wan_and_rows_in_yuan_with_masked_ids(client_for, ledger, taxpayer_a):
    response = client_for("refund_officer").get(reverse("ledger:entries"))
    assert response.status_code == 200
    page = response.content.decode()
    totals = response.context["totals"]
    assert (totals["count"], totals["amount"], totals["incremental"], totals["stock"]) == (
        2,
        Decimal("1284567.89"),
        Decimal("1234567.89"),
        Decimal("50000.00"),
    )
    assert "128.46" in page and "123.46" in page  # 万元
    assert "1,234,567.89" in page
    assert mask_identifier(taxpayer_a.identifier) in page and taxpayer_a.identifier not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"date_from": "2026-03-26"}, {"b"}),
        ({"date_to": "2026-03-25"}, {"a"}),
        ({"branch": "BRA"}, {"a"}),
        ({"refund_kind": "stock"}, {"b"}),
        ({"regime": "CN-2025-7-class3"}, {"a", "b"}),
        ({"size": "small"}, {"a", "b"}),
        ({"size": "large"}, set()),
        ({"industry": "C"}, {"a", "b"}),
        ({"industry": "F"}, set()),
        ({"credit_check": "not_reduced"}, set()),
        ({"q": "城西"}, {"b"}),
    ],
)
def test_filters_in_the_url_select_the_entries(client_for, ledger, query, expected):
    response = client_for("refund_officer").get(reverse("ledger:entries"), query)
    assert {e.pk for e in response.context["page_obj"]} == {ledger[k].pk for k in expected}


def test_the_export_is_exactly_what_the_filters_show_and_is_audited(client_for, ledger, personas, taxpayer_b):
    response = client_for("supervisor").get(reverse("ledger:entries_export"), {"refund_kind": "stock"})
    rows = _sheet(response)
    assert rows[0][:3] == ("退库日期", "纳税人识别号", "纳税人名称")
    assert [row[2] for row in rows[1:]] == [taxpayer_b.name]
    assert rows[1][1] == mask_identifier(taxpayer_b.identifier)
    event = AuditEvent.objects.get(verb="export")
    assert event.actor == personas["supervisor"] and "退税台账（1 条）" in event.summary
    assert "refund_kind=stock" in event.summary


def test_the_refunded_and_unpaid_lists_for_finance_and_the_treasury(client_for, ledger, org):
    waiting = approved_application(TaxpayerFactory(branch=org["branch_a"], name="待退库公司"))
    client = client_for("refund_officer")
    refunded = _sheet(client.get(reverse("ledger:refunded_export")))
    assert [row[8] for row in refunded[1:]] == ["V-A", "V-B"]  # oldest payment first
    assert [row[1] for row in refunded[1:]] == [e.identifier for e in (ledger["a"], ledger["b"])]  # to reconcile
    unpaid = _sheet(client.get(reverse("ledger:unpaid_export")))
    assert [row[2] for row in unpaid[1:]] == [waiting.taxpayer.name]
    assert unpaid[1][7] == 100000 and unpaid[1][1] == waiting.taxpayer.identifier
    summaries = list(AuditEvent.objects.filter(verb="export").values_list("summary", flat=True))
    assert any("已退税清单（2 条）" in s for s in summaries) and any("未退税清单（1 条）" in s for s in summaries)


def test_a_branch_officer_sees_only_its_branch(client_for, ledger):
    client = client_for("officer_b")
    response = client.get(reverse("ledger:entries"))
    assert {e.pk for e in response.context["page_obj"]} == {ledger["b"].pk}
    assert response.context["totals"]["count"] == 1
    assert client.get(reverse("ledger:entry_detail", args=[ledger["a"].pk])).status_code == 404
    assert client.get(reverse("ledger:entry_detail", args=[ledger["b"].pk])).status_code == 200
    assert client.get(reverse("ledger:entries"), {"branch": "BRA"}).context["page_obj"].paginator.count == 1


def test_the_ledger_page_query_count_does_not_grow_with_rows(client_for, personas, org, django_assert_max_num_queries):
    officer = personas["refund_officer"]
    for n in range(3):
        pay(TaxpayerFactory(branch=org["branch_a"]), officer, voucher=f"V-{n}")
    ledger_register_day(day=DAY)
    client = client_for("refund_officer")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("ledger:entries"))
    for n in range(3, 30):
        pay(TaxpayerFactory(branch=org["branch_b"]), officer, voucher=f"V-{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("ledger:entries")).status_code == 200
    assert len(many) == len(few) <= 12, [q["sql"] for q in many.captured_queries]


def test_the_payment_form_records_the_payment_and_says_what_went_wrong(client_for, org):
    app = approved_application(TaxpayerFactory(branch=org["branch_a"], name="录入测试公司"))
    client = client_for("refund_officer")
    url = reverse("ledger:payment_create", args=[app.pk])
    response = client.post(url, {"voucher_number": "V-F", "amount": "100000.01", "paid_on": "2026-03-25"})
    assert response.status_code == 400
    assert "退库金额 100,000.01 元超过该申请的确认退税额" in response.content.decode()
    response = client.post(url, {"voucher_number": "V-F", "amount": "100000.00", "paid_on": "2026-03-25"}, follow=True)
    assert "已录入 录入测试公司 的退库 100,000.00 元" in response.content.decode()
    assert LedgerEntry.objects.get().application == app
    assert app.taxpayer.name not in client.get(reverse("ledger:unpaid")).content.decode().split("<main")[-1]


def test_a_branch_b_application_is_404_for_the_payment_form_of_another_scope(client_for, personas, org):
    from django.contrib.auth.models import Permission

    app = approved_application(TaxpayerFactory(branch=org["branch_a"]))
    officer = personas["officer_b"]
    officer.user_permissions.add(Permission.objects.get(codename="add_treasurypayment"))
    response = client_for("officer_b").post(
        reverse("ledger:payment_create", args=[app.pk]),
        {"voucher_number": "V", "amount": "1", "paid_on": "2026-03-25"},
    )
    assert response.status_code == 404
    assert not LedgerEntry.objects.exists()


def test_the_import_page_lists_the_errors(client_for):
    file = SimpleUploadedFile(
        "回执.csv", "退库凭证号,申请文书号,退库金额,退库日期\nV-1,SQ-404,12.5,2026-03-25\n".encode()
    )
    response = client_for("refund_officer").post(reverse("ledger:payment_import"), {"file": file})
    page = response.content.decode()
    assert response.status_code == 200
    assert "未导入任何退库记录" in page and "SQ-404" in page and "在系统中不存在" in page
    sample = client_for("refund_officer").get(reverse("ledger:payment_import_sample"))
    assert (
        b"".join(sample.streaming_content)
        == (Path(__file__).parent / "data" / "treasury_receipts_sample.xlsx").read_bytes()
    )


def test_the_runs_page_and_registering_by_hand(client_for, ledger, personas):
    client = client_for("refund_officer")
    page = client.get(reverse("ledger:runs")).content.decode()
    assert "尚未登记的退库" in page and "2026-03-25（1 笔" in page
    response = client.post(reverse("ledger:run_register"), {"day": "2026-03-25"}, follow=True)
    assert "2026-03-25 台账登记完成：当日共 1 笔" in response.content.decode()
    run = response.context["page_obj"][0]
    assert (run.day, run.entry_count, run.bill_count, run.bills_sent, run.bills_failed) == (DAY, 1, 1, 0, 0)
    assert AuditEvent.objects.filter(verb="ledger_register", actor=personas["refund_officer"]).count() == 1


@pytest.mark.parametrize(
    ("username", "labels"),
    [
        ("refund_officer", ["退税台账", "待退库", "国库回执导入", "每日登记", "追缴记录"]),
        ("supervisor", ["退税台账", "每日登记", "追缴记录"]),
        ("risk_officer", ["退税台账", "每日登记", "追缴记录"]),
        ("officer_a", ["退税台账"]),
        ("credit_officer", []),
    ],
)
def test_the_menu_shows_the_ledger_pages_to_roles_that_may_use_them(personas, username, labels):
    assert [item["label"] for item in menu_for(personas[username]) if item["section"] == "台账"] == labels
