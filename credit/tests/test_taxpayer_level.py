"""The registry's pages show each taxpayer's 纳税信用级别 as a read of its latest rating (the reader credit registers
with ``taxpayers.ratings``): the list filters and sorts on it in one query, the detail page, the export, the API and
the admin show it, and a repair or a newer year changes what they show."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from credit.tests.factories import TaxpayerFactory, rate
from taxpayers.models import Taxpayer
from taxpayers.ratings import with_latest_rating

pytestmark = pytest.mark.django_db

LIST_URL = reverse("taxpayers:list")


def names_in(response) -> list[str]:
    return [t.name for t in response.context["page_obj"]]


def test_the_latest_rating_is_the_level_a_repair_or_a_newer_year_changes_it(org):
    taxpayer = TaxpayerFactory(branch=org["branch_a"], credit_level="C", credit_year=2024)
    unrated = TaxpayerFactory(branch=org["branch_a"], credit_level="")

    def level(pk):
        row = with_latest_rating(Taxpayer.objects.filter(pk=pk)).values("credit_level", "credit_year").get()
        return row["credit_level"], row["credit_year"]

    assert level(taxpayer.pk) == ("C", 2024)
    assert level(unrated.pk) == ("", None)
    rate(taxpayer, "B", on=dt.date(2025, 6, 3), year=2024, basis="repaired")
    assert level(taxpayer.pk) == ("B", 2024)
    rate(taxpayer, "A", on=dt.date(2026, 4, 1), year=2025)
    assert level(taxpayer.pk) == ("A", 2025)


def test_the_list_filters_and_sorts_on_the_level_in_one_query(client_for, org):
    for name, level in [("甲公司", "D"), ("乙公司", "M"), ("丙公司", "A"), ("丁公司", ""), ("戊公司", "C")]:
        TaxpayerFactory(branch=org["branch_a"], name=name, credit_level=level)
    TaxpayerFactory(branch=org["branch_b"], name="己公司", credit_level="B")
    client = client_for("refund_officer")
    by_credit = client.get(LIST_URL, {"sort": "credit_level"})
    assert [t.credit_level for t in by_credit.context["page_obj"]] == ["A", "B", "M", "C", "D", ""]
    by_credit_desc = client.get(LIST_URL, {"sort": "-credit_level"})
    assert [t.credit_level for t in by_credit_desc.context["page_obj"]] == ["", "D", "C", "M", "B", "A"]
    assert names_in(client.get(LIST_URL, {"credit_level": "B"})) == ["己公司"]
    html = client.get(LIST_URL, {"credit_level": "A"}).content.decode()
    assert "A级" in html and "2025" in html


def test_the_list_reads_levels_without_a_query_per_row(client_for, org, django_assert_max_num_queries):
    client = client_for("refund_officer")
    TaxpayerFactory.create_batch(2, branch=org["branch_a"], credit_level="A")
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL, {"sort": "credit_level"})
    TaxpayerFactory.create_batch(30, branch=org["branch_b"], credit_level="C")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST_URL, {"sort": "credit_level"})
    assert len(response.context["page_obj"]) == 32


def test_the_detail_page_export_and_api_show_the_latest_rating(client_for, personas, org):
    taxpayer = TaxpayerFactory(branch=org["branch_a"], credit_level="A", credit_year=2024, name="评价甲")
    TaxpayerFactory(branch=org["branch_a"], credit_level="", name="未评乙")
    client = client_for("refund_officer")
    html = client.get(reverse("taxpayers:detail", args=[taxpayer.pk])).content.decode()
    assert "A级" in html and "2024 年度评价" in html

    response = client.get(reverse("taxpayers:export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    level, year = rows[0].index("信用级别"), rows[0].index("信用评价年度")
    by_name = {row[1]: (row[level], row[year]) for row in rows[1:]}
    assert by_name == {"评价甲": ("A", 2024), "未评乙": (None, None)}

    api = APIClient()
    api.force_authenticate(personas["refund_officer"])
    body = api.get(reverse("api:taxpayer-list"), {"credit_level": "A"}).json()
    assert [(r["name"], r["credit_level"], r["credit_year"]) for r in body["results"]] == [("评价甲", "A", 2024)]
    detail = api.get(reverse("api:taxpayer-detail", args=[taxpayer.pk])).json()
    assert (detail["credit_level"], detail["credit_year"]) == ("A", 2024)


def test_the_admin_lists_and_filters_the_level(client, org, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    TaxpayerFactory(branch=org["branch_a"], credit_level="D", name="丁级公司")
    TaxpayerFactory(branch=org["branch_a"], credit_level="", name="新设公司")
    url = reverse("admin:taxpayers_taxpayer_changelist")
    html = client.get(url, {"credit_level": "D"}).content.decode()
    assert "丁级公司" in html and "新设公司" not in html
    html = client.get(url, {"credit_level": "none"}).content.decode()
    assert "新设公司" in html and "丁级公司" not in html
