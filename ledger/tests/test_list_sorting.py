"""台账 lists sorted from their column headers (退税台账, 待退库, 每日登记): a sorted request orders the rows as asked,
the header says which way, filters and pages keep the sort, and a key that names no column falls back to the
list's default order."""

import datetime as dt

import pytest
from django.urls import reverse

from ledger.services import ledger_register_day
from ledger.tests.factories import approved_application, pay

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 25)
UNKNOWN = ("identifier", "-taxpayer__password", "amount;drop", "")


@pytest.fixture
def entries(personas, taxpayer_a, taxpayer_b):
    """城东 paid 100,000.00 on the 25th, 城西 50,000.00 on the 26th."""
    officer = personas["refund_officer"]
    return {
        "a": pay(taxpayer_a, officer, voucher="V-A", day=DAY),
        "b": pay(taxpayer_b, officer, voucher="V-B", day=DAY + dt.timedelta(1), kind="stock", stock="50000.00"),
    }


def _rows(response, key):
    return [getattr(row, key) for row in response.context["page_obj"]]


@pytest.mark.parametrize(
    ("sort", "expected", "column", "direction"),
    [
        ("paid_on", ["a", "b"], "paid_on", "asc"),
        ("-amount", ["a", "b"], "amount", "desc"),
        ("amount", ["b", "a"], "amount", "asc"),
        ("branch", ["a", "b"], "branch", "asc"),
        ("-branch", ["b", "a"], "branch", "desc"),
    ],
)
def test_the_ledger_sorts_by_a_column(client_for, entries, sort, expected, column, direction):
    response = client_for("refund_officer").get(reverse("ledger:entries"), {"sort": sort})
    assert _rows(response, "pk") == [entries[key].pk for key in expected]
    assert response.context["columns"][column].direction == direction


@pytest.mark.parametrize("sort", UNKNOWN)
def test_the_ledger_ignores_a_sort_that_names_no_column(client_for, entries, sort):
    response = client_for("refund_officer").get(reverse("ledger:entries"), {"sort": sort})
    assert response.status_code == 200
    assert _rows(response, "pk") == [entries["b"].pk, entries["a"].pk]  # the latest payment first
    assert response.context["columns"]["paid_on"].direction == "desc"


def test_the_ledger_keeps_its_sort_when_filtering_paging_and_exporting(client_for, entries):
    page = client_for("refund_officer").get(reverse("ledger:entries"), {"sort": "amount", "q": "城"})
    html = page.content.decode()
    assert '<input type="hidden" name="sort" value="amount">' in html
    assert "sort=amount" in page.context["page_query"] and "sort=amount" in page.context["export_query"]
    assert "?sort=-amount&amp;q=%E5%9F%8E" in html  # the header link turns the order round, filters kept


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("", ["old", "new"]), ("-approved", ["new", "old"]), ("-amount", ["new", "old"]), ("amount", ["old", "new"])],
)
def test_unpaid_sorts_by_a_column(client_for, taxpayer_a, taxpayer_b, sort, expected):
    apps = {
        "old": approved_application(taxpayer_a, approved_on=DAY, incremental="1000.00", stock="0.00"),
        "new": approved_application(taxpayer_b, approved_on=DAY + dt.timedelta(3)),
    }
    response = client_for("refund_officer").get(reverse("ledger:unpaid"), {"sort": sort})
    assert _rows(response, "pk") == [apps[key].pk for key in expected]


def test_unpaid_ignores_a_sort_that_names_no_column(client_for, taxpayer_a, taxpayer_b):
    old = approved_application(taxpayer_a, approved_on=DAY)
    new = approved_application(taxpayer_b, approved_on=DAY + dt.timedelta(3))
    response = client_for("refund_officer").get(reverse("ledger:unpaid"), {"sort": "taxpayer__identifier"})
    assert _rows(response, "pk") == [old.pk, new.pk]  # the oldest approval first
    assert response.context["columns"]["approved"].direction == "asc"


def test_the_runs_sort_by_day_and_amount(client_for, entries):
    ledger_register_day(day=DAY)
    ledger_register_day(day=DAY + dt.timedelta(1))
    client = client_for("refund_officer")
    days = [DAY + dt.timedelta(1), DAY]
    assert _rows(client.get(reverse("ledger:runs")), "day") == days  # the latest day first
    assert _rows(client.get(reverse("ledger:runs"), {"sort": "day"}), "day") == days[::-1]
    assert _rows(client.get(reverse("ledger:runs"), {"sort": "-total_amount"}), "day") == [DAY, DAY + dt.timedelta(1)]
    assert _rows(client.get(reverse("ledger:runs"), {"sort": "bill_sms__recipient"}), "day") == days
