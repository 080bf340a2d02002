"""The indicator library's pages: definitions and parameters in Chinese, an edit kept as a version, grade rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from risk.indicators import INDICATORS
from risk.models import GradeRule, IndicatorParameterVersion

pytestmark = pytest.mark.django_db


def test_the_library_lists_every_indicator_by_family_without_codes(client_for):
    response = client_for("risk_officer").get(reverse("risk:indicators"))
    assert response.status_code == 200
    page = response.content.decode()
    for indicator in INDICATORS.values():
        assert indicator.title in page
        assert f">{indicator.code}<" not in page
    assert f"共 {len(INDICATORS)} 项指标" in page
    for family in ("政策适用范围", "纳税信用等级", "发票链条", "生产经营情况", "内部控制管理", "异常情况"):
        assert f'<h2 class="h6 mt-3">{family}</h2>' in page
    assert "本类指标待" not in page and 'id="risk-family-6"' in page
    assert "A 农、林、牧、渔业" in page  # focus industries by their names


def test_a_parameter_edit_adds_a_version_and_shows_it_in_the_history(client_for, personas):
    client = client_for("risk_officer")
    url = reverse("risk:indicator", args=["OPS_INPUT_SURGE"])
    today = dt.date.today()
    response = client.post(
        url, {"parameter": "ratio", "value": "3", "effective_from": today.isoformat(), "reason": "按省局口径"}
    )
    assert response.status_code == 302
    version = IndicatorParameterVersion.objects.get()
    assert (version.indicator_code, version.parameter, version.value, version.changed_by) == (
        "OPS_INPUT_SURGE",
        "ratio",
        "3",
        personas["risk_officer"],
    )
    assert AuditEvent.objects.filter(verb="risk.parameter_change").count() == 1
    page = client.get(url).content.decode()
    assert "按省局口径" in page and "3倍" in page and "申请前进项税额激增" in page

    refused = client.post(url, {"parameter": "ratio", "value": "三", "effective_from": today, "reason": "x"})
    assert refused.status_code == 400 and "月均进项倍数不低于应为数字" in refused.content.decode()
    assert IndicatorParameterVersion.objects.count() == 1


def test_the_supervisor_sees_the_library_without_the_form(client_for):
    page = client_for("supervisor").get(reverse("risk:indicator", args=["POL_FOCUS_INDUSTRY"])).content.decode()
    assert "重点关注行业" in page and 'id="parameter-form"' not in page


def test_an_unknown_indicator_is_404(client_for):
    assert client_for("risk_officer").get(reverse("risk:indicator", args=["NOPE"])).status_code == 404


def test_a_grade_rule_is_recorded_from_the_page(client_for):
    client = client_for("risk_officer")
    url = reverse("risk:grade_rules")
    assert "默认" in client.get(url).content.decode()
    response = client.post(
        url, {"grade": "high", "min_high_hits": "2", "effective_from": "2026-01-01", "reason": "高风险须两项"}
    )
    assert response.status_code == 302
    rule = GradeRule.objects.get()
    assert (rule.grade, rule.min_high_hits, rule.min_medium_hits) == ("high", 2, None)
    refused = client.post(url, {"grade": "medium", "effective_from": "2026-01-01", "reason": "无门槛"})
    assert refused.status_code == 400 and "请至少设置一个" in refused.content.decode()
