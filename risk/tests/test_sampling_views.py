"""事后复核 pages: the samples by month, a month's sample with its seed and each refund's reasons, its audited
export, the parameters page, the menu; a branch-scoped reader sees only its branch's refunds."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from ledger.tests.factories import pay
from risk.models import MonthlySample, SampleParameterVersion
from risk.sampling.services import monthly_sample_draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(org, personas, taxpayer_a, taxpayer_b):
    """March 2026: a large refund in branch A and a small one in branch B; every refund drawn (largest 1, 100%)."""
    officer = personas["refund_officer"]
    pay(taxpayer_a, officer, voucher="V-A", incremental="800000", stock="0")
    pay(taxpayer_b, officer, voucher="V-B", incremental="1000", stock="0")
    for name, value in (("largest", "1"), ("random_pct", "100")):
        SampleParameterVersion.objects.create(
            parameter=name, value=value, effective_from=dt.date(2026, 1, 1), reason="测试"
        )
    return monthly_sample_draw(actor=None, period="2026-03", seed=99)


def test_the_risk_officer_reads_the_samples_and_a_months_rows_with_their_reasons(client_for, sample, taxpayer_a):
    client = client_for("risk_officer")
    listing = client.get(reverse("risk:reviews")).content.decode()
    assert "2026年03月" in listing and ">99<" in listing
    page = client.get(reverse("risk:review", args=["2026-03"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="font-monospace" id="sample-seed">99</span>' in html
    assert "当月退税额最大" in html and "随机抽取" in html
    assert "当月退税额最大的笔数 1笔（2026-01-01起）" in html
    assert [row.name for row in page.context["page_obj"]] == [taxpayer_a.name, sample.rows.last().name]
    assert client.get(reverse("risk:review", args=["2026-02"])).status_code == 404


def test_the_export_is_audited_with_a_chinese_name_and_masked_identifiers(client_for, sample, taxpayer_a):
    response = client_for("supervisor").get(reverse("risk:review_export", args=["2026-03"]))
    assert response.status_code == 200
    assert "2026%E5%B9%B403%E6%9C%88" in response["Content-Disposition"]  # 2026年03月…
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "纳税人识别号", "纳税人名称")
    assert rows[1][2] == taxpayer_a.name and "*" in rows[1][1] and rows[1][7] == "当月退税额最大"
    assert len(rows) == 3
    event = AuditEvent.objects.get(verb="export", object_type="risk.monthlysample")
    assert "2 条" in event.summary


def test_a_branch_scoped_reader_sees_only_its_branchs_refunds(client_for, personas, sample, taxpayer_a):
    officer = personas["officer_a"]
    officer.user_permissions.add(
        Permission.objects.get(codename="view_monthlysample"), Permission.objects.get(codename="export_monthlysample")
    )
    client = client_for("officer_a")
    page = client.get(reverse("risk:review", args=["2026-03"]))
    assert [row.name for row in page.context["page_obj"]] == [taxpayer_a.name]
    response = client.get(reverse("risk:review_export", args=["2026-03"]))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active.values)
    assert [row[2] for row in rows[1:]] == [taxpayer_a.name]


def test_the_risk_officer_draws_a_month_from_the_page_and_a_second_click_opens_the_same_sample(client_for):
    client = client_for("risk_officer")
    response = client.post(reverse("risk:review_draw"), {"period": "2026-03"})
    assert response.status_code == 302 and response["Location"] == reverse("risk:review", args=["2026-03"])
    first = MonthlySample.objects.get()
    assert first.drawn_by.username == "risk_officer" and first.population_count == 0
    client.post(reverse("risk:review_draw"), {"period": "2026年3月"})
    assert MonthlySample.objects.get().pk == first.pk
    refused = client.post(reverse("risk:review_draw"), {"period": "明年"})
    assert refused.status_code == 400 and "请按“2026-03”的格式填写月份" in refused.content.decode()


def test_the_parameters_page_records_a_version_and_the_supervisor_only_reads(client_for):
    officer = client_for("risk_officer")
    page = officer.get(reverse("risk:review_parameters")).content.decode()
    assert "A 农、林、牧、渔业" in page and "500000元" in page
    response = officer.post(
        reverse("risk:review_parameters"),
        {"parameter": "random_pct", "value": "8", "effective_from": "2026-04-01", "reason": "加大抽查力度"},
    )
    assert response.status_code == 302
    version = SampleParameterVersion.objects.get()
    assert (version.parameter, version.value, version.reason) == ("random_pct", "8", "加大抽查力度")
    assert "加大抽查力度" in officer.get(reverse("risk:review_parameters")).content.decode()
    refused = officer.post(
        reverse("risk:review_parameters"),
        {"parameter": "random_pct", "value": "150", "effective_from": "2026-04-01", "reason": "错"},
    )
    assert refused.status_code == 400 and "不能超过100%" in refused.content.decode()
    supervisor = client_for("supervisor")
    assert 'id="sample-parameter-form"' not in supervisor.get(reverse("risk:review_parameters")).content.decode()
    assert supervisor.post(reverse("risk:review_parameters"), {}).status_code == 403


def test_menu_entries_under_risk_management(client_for):
    html = client_for("risk_officer").get(reverse("risk:reviews")).content.decode()
    assert reverse("risk:review_parameters") in html and "事后复核样本" in html
    assert "事后复核样本" not in client_for("officer_a").get(reverse("home")).content.decode()
