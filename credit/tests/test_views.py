"""The credit pages: uploads with their error list and audit, templates, and branch scoping."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from credit.models import CreditImport, CreditRating, DishonestyEvent

from .helpers import xlsx_upload

pytestmark = pytest.mark.django_db


def _rating(taxpayer, level="C"):
    return CreditRating.objects.create(
        taxpayer=taxpayer, year=2025, level=level, evaluated_on=dt.date(2026, 4, 18), rule_set="2025"
    )


def test_the_credit_officer_uploads_a_ratings_file(client_for, taxpayer_a):
    client = client_for("credit_officer")
    upload = xlsx_upload(
        [
            ["纳税人识别号", "评价年度", "信用级别", "评价得分", "生效日期"],
            [taxpayer_a.identifier, 2025, "B", 82, "2026-04-18"],
        ],
        name="2025年度评价结果.xlsx",
    )
    response = client.post(reverse("credit:import_upload", args=["ratings"]), {"file": upload})
    assert response.status_code == 302 and response["Location"] == reverse("credit:imports")
    assert CreditRating.objects.get(taxpayer=taxpayer_a).level == "B"
    record = CreditImport.objects.get()
    assert record.created_by.username == "credit_officer" and record.original_name == "2025年度评价结果.xlsx"
    assert AuditEvent.objects.filter(verb="import", object_id=str(record.pk)).exists()
    page = client.get(reverse("credit:imports"))
    assert "2025年度评价结果.xlsx" in page.content.decode()


def test_a_refused_upload_lists_its_errors_and_writes_nothing(client_for, taxpayer_a):
    client = client_for("credit_officer")
    upload = xlsx_upload(
        [
            ["纳税人识别号", "指标代码", "记录日期"],
            [taxpayer_a.identifier, "010103", "2026-04-16"],
            [taxpayer_a.identifier, "abc", "2026-04-16"],
        ]
    )
    response = client.post(reverse("credit:import_upload", args=["events"]), {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="import-errors"' in body and "6 位数字" in body and "未导入任何数据" in body
    assert DishonestyEvent.objects.count() == 0 and CreditImport.objects.count() == 0


def test_the_templates_carry_the_headers_the_import_reads(client_for):
    client = client_for("credit_officer")
    for kind, first in (("ratings", "纳税人识别号"), ("events", "纳税人识别号"), ("flags", "纳税人识别号")):
        response = client.get(reverse("credit:import_template", args=[kind]))
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert sheet.cell(1, 1).value == first
    headers = [c.value for c in load_workbook(io.BytesIO(client.get(
        reverse("credit:import_template", args=["events"])).content)).worksheets[0][1]]  # fmt: skip
    assert "指标代码" in headers and "首违不罚" in headers
    assert client.get(reverse("credit:import_template", args=["nonsense"])).status_code == 404


def test_a_template_filled_in_as_downloaded_imports(client_for, taxpayer_a):
    """The example row of each template, with a real identifier, passes the checks."""
    client = client_for("credit_officer")
    for kind in ("ratings", "events", "flags"):
        workbook = load_workbook(io.BytesIO(client.get(reverse("credit:import_template", args=[kind])).content))
        sheet = workbook.worksheets[0]
        sheet.cell(2, 1).value = taxpayer_a.identifier
        buffer = io.BytesIO()
        workbook.save(buffer)
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(f"{kind}.xlsx", buffer.getvalue())
        response = client.post(reverse("credit:import_upload", args=[kind]), {"file": upload})
        assert response.status_code == 302, response.content.decode()[-3000:]


def test_another_branchs_officer_cannot_see_the_ratings_or_events(client_for, taxpayer_a, taxpayer_b):
    _rating(taxpayer_a, "C")
    _rating(taxpayer_b, "A")
    DishonestyEvent.objects.create(taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2026, 5, 1))
    officer_b = client_for("officer_b")
    ratings = officer_b.get(reverse("credit:ratings")).content.decode()
    assert taxpayer_b.name in ratings and taxpayer_a.name not in ratings
    events = officer_b.get(reverse("credit:events")).content.decode()
    assert taxpayer_a.name not in events
    assert officer_b.get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).status_code == 404
    officer_a = client_for("officer_a")
    page = officer_a.get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert "C级" in page and "未按规定期限填报财务报表" in page
    everyone = client_for("credit_officer").get(reverse("credit:ratings")).content.decode()
    assert taxpayer_a.name in everyone and taxpayer_b.name in everyone


def test_the_rating_list_filters_by_year_and_level(client_for, taxpayer_a, taxpayer_b):
    _rating(taxpayer_a, "C")
    _rating(taxpayer_b, "A")
    body = client_for("credit_officer").get(reverse("credit:ratings"), {"level": "A", "year": "2025"}).content.decode()
    assert taxpayer_b.name in body and taxpayer_a.name not in body


def test_the_credit_officer_finds_the_pages_in_the_menu(client_for):
    body = client_for("credit_officer").get(reverse("home")).content.decode()
    for label in ("信用数据导入", "信用评价结果", "失信行为"):
        assert label in body
    assert "信用数据导入" not in client_for("officer_a").get(reverse("home")).content.decode()
