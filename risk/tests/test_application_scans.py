"""The risk library's scan of each application on arrival and again before approval (risk.application_scans), its
grade (低/中/高) stored with the parameter versions used, the application page's panel, and what the grade does
to approval — on PostgreSQL, with the real indicators and grade rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from refund.applications import risk as gate
from refund.applications.batch import applications_approve_batch
from refund.applications.risk import GradeRefused
from refund.applications.services import application_approve
from refund.models import RefundApplication
from refund.tests.applications import RECEIVED_ON, eligible_taxpayer, reviewing
from risk.models import RiskGrade, Scan, ScanResult
from risk.services import grade_rule_change

pytestmark = pytest.mark.risk_grade
State = RefundApplication.State
RULES_FROM = dt.date(2026, 1, 1)


@pytest.fixture
def officer(personas):
    return personas["refund_officer"]


def _rules(risk_officer, *, high: int, medium: int) -> None:
    """Grade rules by the number of hits of any severity (the crafted taxpayer hits three indicators)."""
    grade_rule_change(
        actor=risk_officer, grade=RiskGrade.HIGH, effective_from=RULES_FROM, reason="测试", min_total_hits=high
    )
    grade_rule_change(
        actor=risk_officer, grade=RiskGrade.MEDIUM, effective_from=RULES_FROM, reason="测试", min_total_hits=medium
    )


def _scans(application) -> list[Scan]:
    return list(Scan.objects.filter(application_id=application.pk).order_by("started_at", "id"))


def test_arrival_scans_the_application_and_stores_the_grade_with_the_parameters_used(officer, org, client_for):
    application = reviewing(officer, eligible_taxpayer(org["branch_a"], name="城东零申报有限公司"))
    (scan,) = _scans(application)
    assert scan.kind == Scan.Kind.APPLICATION and scan.message == "受理时扫描" and scan.as_of == RECEIVED_ON
    assert scan.parameters_used["OPS_ZERO_DECLARATION"]  # the versions (here the defaults) the scan used
    assert scan.parameters_used["APP_RECOMPUTE"]["tolerance"]["value"] == "0.00"
    result = ScanResult.objects.get(scan=scan, application_id=application.pk)
    assert result.grade == RiskGrade.HIGH and result.high_hits >= 1  # six months of zero sales, a growing credit

    page = client_for("refund_officer").get(reverse("refund:application_detail", args=[application.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="risk-grade"' in html and 'data-grade="high"' in html and "高风险" in html
    assert 'data-indicator="OPS_ZERO_DECLARATION"' in html
    assert "高风险申请须经集体会商作出决定后方可审批" in html
    assert "OPS_" not in html.replace('data-indicator="OPS_', "")  # codes only in attributes, never as text


def test_low_is_approved_in_a_batch(officer, org, personas):
    _rules(personas["risk_officer"], high=90, medium=80)
    application = reviewing(officer, eligible_taxpayer(org["branch_a"]))
    summary = applications_approve_batch(actor=officer, applications=[application])
    assert [o.application.pk for o in summary.approved] == [application.pk]
    scans = _scans(application)
    assert [s.message for s in scans] == ["受理时扫描", "审批前复核"]
    assert ScanResult.objects.get(scan=scans[-1]).grade == RiskGrade.LOW


def test_medium_is_refused_by_the_batch_with_the_reason_and_approved_one_by_one(officer, org, personas):
    _rules(personas["risk_officer"], high=90, medium=1)
    medium = reviewing(officer, eligible_taxpayer(org["branch_a"]))
    summary = applications_approve_batch(actor=officer, applications=[medium])
    (refused,) = summary.refused
    assert refused.reason.startswith("风险等级为中风险（3 个疑点：")
    assert refused.reason.endswith("须逐件审核后在申请页面单独审批，未纳入批量审批。")
    medium.refresh_from_db()
    assert medium.state == State.REVIEWING
    assert ScanResult.objects.get(scan=_scans(medium)[-1]).grade == RiskGrade.MEDIUM  # the refused scan is kept

    application_approve(actor=officer, application=medium)
    medium.refresh_from_db()
    assert medium.state == State.APPROVED


def test_high_needs_a_consultation_decision(officer, org):
    high = reviewing(officer, eligible_taxpayer(org["branch_a"]))  # the default rules: any high-severity hit
    with pytest.raises(GradeRefused, match="须经集体会商作出决定后方可审批，目前尚无集体会商决定"):
        application_approve(actor=officer, application=high)
    high.refresh_from_db()
    assert high.state == State.REVIEWING
    assert [s.message for s in _scans(high)] == ["受理时扫描", "审批前复核"]

    resolver = lambda app: app.pk == high.pk  # noqa: E731 — what the consultation feature will answer
    gate.register_consultation_decision(resolver)
    try:
        application_approve(actor=officer, application=high)
    finally:
        gate.unregister_consultation_decision(resolver)
    high.refresh_from_db()
    assert high.state == State.APPROVED
