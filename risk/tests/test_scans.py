"""Scans store hits, grades and the parameters used; parameter versions and grade rules are kept with history and
audited; the risk officer may edit them."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from core.errors import ApplicationError
from risk.grading import HitCounts, Rule, grade_of
from risk.models import GradeRule, IndicatorParameterVersion, RiskGrade, RiskHit, Scan, ScanResult
from risk.selectors import application_grade, parameters_in_force
from risk.services import (
    grade_rule_change,
    indicator_parameter_change,
    risk_scan_all,
    risk_scan_application,
    risk_scan_candidates,
    risk_scan_execute,
)
from taxpayers.models import ComplianceRecord, Taxpayer

from .builders import AS_OF, application, taxpayer

pytestmark = pytest.mark.django_db


@pytest.fixture
def risky_and_clean():
    """A taxpayer with a high-severity hit (false invoices) and a focus-industry one (low), and a clean one."""
    risky = taxpayer(industry_code="C3411")
    ComplianceRecord.objects.create(
        taxpayer=risky,
        kind=ComplianceRecord.Kind.FALSE_SPECIAL_INVOICE,
        occurred_on=dt.date(2025, 5, 1),
        document_number="罚1",
    )
    low = taxpayer(industry_code="F5124")
    clean = taxpayer(industry_code="C3411")
    return risky, low, clean


def test_a_scan_of_all_taxpayers_stores_hits_grades_and_the_parameters_used(personas, risky_and_clean):
    risky, low, _ = risky_and_clean
    scan = risk_scan_all(actor=personas["risk_officer"], as_of=AS_OF)
    assert scan.status == Scan.Status.SUCCEEDED and scan.started_by == personas["risk_officer"]
    hits = {(h.taxpayer_id, h.indicator_code): h for h in scan.hits.all()}
    assert set(hits) == {(risky.pk, "ABN_WRONGDOING"), (low.pk, "POL_FOCUS_INDUSTRY")}
    assert hits[(risky.pk, "ABN_WRONGDOING")].evidence == {"record_count": 1, "latest_on": "2025-05-01"}
    grades = {r.taxpayer_id: r.grade for r in scan.results.all()}
    assert grades == {risky.pk: RiskGrade.HIGH, low.pk: RiskGrade.LOW}  # the clean one is 低 without a row
    assert (scan.taxpayer_count, scan.hit_count, scan.high_count, scan.medium_count) == (
        Taxpayer.objects.count(),
        2,
        1,
        0,
    )
    assert scan.parameters_used["POL_FOCUS_INDUSTRY"]["sections"] == {
        "value": "A,F",
        "version_id": None,
        "effective_from": None,
    }
    assert scan.grade_rules_used["high"]["min_high_hits"] == 1
    assert AuditEvent.objects.filter(verb="risk.scan", object_id=str(scan.pk)).exists()


def test_running_a_scan_again_replaces_its_results(personas, risky_and_clean):
    scan = risk_scan_all(actor=personas["risk_officer"], as_of=AS_OF)
    again = risk_scan_execute(scan=scan)
    assert again.pk == scan.pk
    assert RiskHit.objects.filter(scan=scan).count() == 2
    assert ScanResult.objects.filter(scan=scan).count() == 2


def test_a_scan_of_one_application_names_it_and_always_grades_it(personas, risky_and_clean):
    risky, _, clean = risky_and_clean
    app = application(risky, received_on=dt.date(2026, 3, 9))
    scan = risk_scan_application(actor=personas["risk_officer"], application=app)
    assert scan.kind == Scan.Kind.APPLICATION and scan.as_of == dt.date(2026, 3, 9) and scan.taxpayer_count == 1
    assert [(h.indicator_code, h.application_id) for h in scan.hits.all()] == [("ABN_WRONGDOING", app.pk)]
    assert application_grade(app.pk).grade == RiskGrade.HIGH
    clean_app = application(clean, received_on=dt.date(2026, 3, 9))
    clean_scan = risk_scan_application(actor=None, application=clean_app)
    assert clean_scan.hit_count == 0
    result = application_grade(clean_app.pk)
    assert (result.grade, result.application_id, result.taxpayer_id) == (RiskGrade.LOW, clean_app.pk, clean.pk)


def test_the_parameter_version_in_force_on_the_scan_day_is_used_and_history_is_kept(personas, risky_and_clean):
    _, low, _ = risky_and_clean
    officer = personas["risk_officer"]
    first = indicator_parameter_change(
        actor=officer, code="POL_FOCUS_INDUSTRY", parameter="sections", value="a， c",
        effective_from=dt.date(2026, 1, 1), reason="增加制造业",
    )  # fmt: skip
    later = indicator_parameter_change(
        actor=officer, code="POL_FOCUS_INDUSTRY", parameter="sections", value="F",
        effective_from=dt.date(2026, 6, 1), reason="下半年只关注批发零售业",
    )  # fmt: skip
    assert first.value == "A,C" and IndicatorParameterVersion.objects.count() == 2
    assert parameters_in_force(dt.date(2025, 12, 31))["POL_FOCUS_INDUSTRY"]["sections"].text == "A,F"
    assert parameters_in_force(AS_OF)["POL_FOCUS_INDUSTRY"]["sections"].version_id == first.pk
    assert parameters_in_force(dt.date(2026, 6, 1))["POL_FOCUS_INDUSTRY"]["sections"].version_id == later.pk

    scan = risk_scan_all(actor=officer, as_of=AS_OF)
    focus = {h.taxpayer_id for h in scan.hits.filter(indicator_code="POL_FOCUS_INDUSTRY")}
    assert low.pk not in focus and len(focus) == 2  # the two C taxpayers, by the version of 2026-01-01
    assert scan.parameters_used["POL_FOCUS_INDUSTRY"]["sections"] == {
        "value": "A,C",
        "version_id": first.pk,
        "effective_from": "2026-01-01",
    }
    event = AuditEvent.objects.get(verb="risk.parameter_change", object_id=str(first.pk))
    assert event.actor == officer and event.changes["value"] == ["A,F", "A,C"]


@pytest.mark.parametrize(
    ("code", "parameter", "value", "message"),
    [
        ("POL_FOCUS_INDUSTRY", "sections", "Z", "门类"),
        ("OPS_INPUT_SURGE", "ratio", "两倍", "数字"),
        ("OPS_INPUT_SURGE", "ratio", "-1", "负数"),
        ("OPS_INPUT_SURGE", "nothing", "1", "没有这个指标参数"),
        ("NOPE", "ratio", "1", "没有这个指标参数"),
    ],
)
def test_a_parameter_value_is_checked(personas, code, parameter, value, message):
    with pytest.raises(ApplicationError, match=message):
        indicator_parameter_change(
            actor=personas["risk_officer"], code=code, parameter=parameter, value=value,
            effective_from=AS_OF, reason="调整",
        )  # fmt: skip
    assert not IndicatorParameterVersion.objects.exists()


def test_grade_rules_are_versioned_and_grade_the_scan(personas, risky_and_clean):
    risky, low, _ = risky_and_clean
    officer = personas["risk_officer"]
    with pytest.raises(ApplicationError):
        grade_rule_change(actor=officer, grade="high", effective_from=AS_OF, reason="无门槛")
    with pytest.raises(ApplicationError):
        grade_rule_change(actor=officer, grade="low", min_total_hits=1, effective_from=AS_OF, reason="低")
    # From 2026-01-01 a single hit of any severity is 中, and 高 needs two high hits.
    grade_rule_change(
        actor=officer, grade="medium", min_total_hits=1, effective_from=dt.date(2026, 1, 1), reason="从严"
    )
    grade_rule_change(actor=officer, grade="high", min_high_hits=2, effective_from=dt.date(2026, 1, 1), reason="会商")
    assert GradeRule.objects.count() == 2
    scan = risk_scan_all(actor=officer, as_of=AS_OF)
    grades = {r.taxpayer_id: r.grade for r in scan.results.all()}
    assert grades == {risky.pk: RiskGrade.MEDIUM, low.pk: RiskGrade.MEDIUM}
    assert scan.grade_rules_used["high"]["min_high_hits"] == 2
    before = risk_scan_all(actor=officer, as_of=dt.date(2025, 12, 31))
    assert {r.taxpayer_id: r.grade for r in before.results.all()}[risky.pk] == RiskGrade.HIGH
    assert AuditEvent.objects.filter(verb="risk.grade_rule_change").count() == 2


def test_grade_of_counts():
    rules = {"high": Rule("high", min_high_hits=1, min_medium_hits=3), "medium": Rule("medium", min_medium_hits=1)}
    assert grade_of(HitCounts(), rules) == RiskGrade.LOW
    assert grade_of(HitCounts(low=5), rules) == RiskGrade.LOW
    assert grade_of(HitCounts(medium=2), rules) == RiskGrade.MEDIUM
    assert grade_of(HitCounts(medium=3), rules) == RiskGrade.HIGH
    assert grade_of(HitCounts(high=1), rules) == RiskGrade.HIGH
    assert HitCounts.of(["high", "low", "low"]) == HitCounts(high=1, low=2)


def test_the_risk_officer_may_edit_and_scan_and_the_supervisor_may_only_look(personas):
    officer, supervisor, refund = personas["risk_officer"], personas["supervisor"], personas["refund_officer"]
    edits = ("risk.add_indicatorparameterversion", "risk.add_graderule", "risk.add_scan")
    assert all(officer.has_perm(p) for p in edits) and officer.has_perm("risk.view_riskhit")
    assert supervisor.has_perm("risk.view_scan") and not any(supervisor.has_perm(p) for p in edits)
    assert not refund.has_perm("risk.view_scan")


def test_a_scan_of_a_candidate_list_grades_every_item(personas, risky_and_clean, org):
    from refund.models import CandidateItem, CandidateList

    risky, _, clean = risky_and_clean
    push = dt.date(2026, 3, 17)
    branch_list = CandidateList.objects.create(
        push_date=push, application_period="2026-03", audience="branch", branch=risky.branch
    )
    service_list = CandidateList.objects.create(push_date=push, application_period="2026-03", audience="service")
    items = {
        tp.pk: CandidateItem.objects.create(
            candidate_list=branch_list, push_date=push, application_period="2026-03", branch=tp.branch, taxpayer=tp,
            source="screening",
        )
        for tp in (risky, clean)
    }  # fmt: skip
    for candidate_list in (branch_list, service_list):  # the service section's list: every item of the push date
        scan = risk_scan_candidates(actor=personas["risk_officer"], candidate_list=candidate_list, as_of=AS_OF)
        assert scan.taxpayer_count == 2
        assert [(h.taxpayer_id, h.candidate_item_id) for h in scan.hits.all()] == [(risky.pk, items[risky.pk].pk)]
        grades = {r.candidate_item_id: r.grade for r in scan.results.all()}
        assert grades == {items[risky.pk].pk: RiskGrade.HIGH, items[clean.pk].pk: RiskGrade.LOW}
