"""推送前风险扫描: building a push date's lists scans their taxpayers; a risky candidate stays on its list, flagged
for the branch's 申请前调查, with the evidence on its page; a branch sees only its own candidates' flags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from refund.candidates import risk as registry
from refund.candidates.services import candidate_lists_build
from refund.models import CandidateItem, CandidateList
from refund.tests.candidates import FIRST_PUSH, eligible_taxpayer, screened
from risk.models import RiskGrade, Scan
from risk.services import grade_rule_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(org, personas):
    """Branch A: two candidates, one in a focus industry (commerce); branch B: one. The crafted candidates' credit
    grows from nothing in six months (3 hits each); the bureau's rules here grade 4 hits 中 and 3 低, so the one in
    a focus industry is the risky one. (A hit the refund rules also see — false invoices, 即征即退 — would keep it
    off the list altogether.)"""
    for grade, thresholds in ((RiskGrade.HIGH, {"min_high_hits": 2}), (RiskGrade.MEDIUM, {"min_total_hits": 4})):
        grade_rule_change(
            actor=personas["risk_officer"], grade=grade, effective_from=dt.date(2026, 1, 1), reason="测试", **thresholds
        )
    risky = eligible_taxpayer(org["branch_a"], name="城东风险贸易有限公司", industry_code="F5124")
    clean = eligible_taxpayer(org["branch_a"], name="城东清白制造有限公司")
    other = eligible_taxpayer(org["branch_b"], name="城西新材料有限公司")
    screened()
    outcome = candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    items = {t: CandidateItem.objects.get(taxpayer=t) for t in (risky, clean, other)}
    return {"outcome": outcome, "risky": items[risky], "clean": items[clean], "other": items[other]}


def test_building_the_lists_scans_every_candidate_before_the_push(pushed):
    service = CandidateList.regular.get(audience=CandidateList.Audience.SERVICE)
    scan = Scan.objects.get(kind=Scan.Kind.CANDIDATES)
    assert (scan.candidate_list_id, scan.as_of, scan.status) == (service.pk, FIRST_PUSH, Scan.Status.SUCCEEDED)
    grades = {r.candidate_item_id: r.grade for r in scan.results.all()}
    assert grades == {
        pushed["risky"].pk: RiskGrade.MEDIUM,
        pushed["clean"].pk: RiskGrade.LOW,
        pushed["other"].pk: RiskGrade.LOW,
    }
    hit = scan.hits.get(indicator_code="POL_FOCUS_INDUSTRY")
    assert (hit.candidate_item_id, hit.evidence) == (pushed["risky"].pk, {"industry_code": "F5124"})
    # The risky candidate stays on its list.
    assert CandidateItem.objects.filter(pk=pushed["risky"].pk, candidate_list__branch__code="BRA").exists()
    # Building again returns the lists unchanged and scans nothing more.
    assert candidate_lists_build(actor=None, push_date=FIRST_PUSH).created is False
    assert Scan.objects.filter(kind=Scan.Kind.CANDIDATES).count() == 1


def test_only_medium_and_high_candidates_are_flagged(pushed):
    flags = registry.candidate_flags([pushed["risky"], pushed["clean"], pushed["other"]])
    assert set(flags) == {pushed["risky"].pk}
    flag = flags[pushed["risky"].pk]
    assert (flag.grade, flag.label) == ("medium", "中风险") and flag.summary.startswith("4 个疑点：")


def test_the_list_flags_the_risky_candidate_and_its_page_shows_the_evidence(client_for, pushed):
    branch_list = CandidateList.regular.get(branch__code="BRA")
    client = client_for("officer_a")
    page = client.get(reverse("refund:candidate_list_detail", args=[branch_list.pk])).content.decode()
    assert page.count("需申请前调查") == 1 and 'data-risk="medium"' in page
    assert "城东风险贸易有限公司" in page and "城东清白制造有限公司" in page

    detail = client.get(reverse("refund:candidate_item", args=[pushed["risky"].pk])).content.decode()
    assert "推送前风险扫描" in detail and 'data-indicator="POL_FOCUS_INDUSTRY"' in detail
    assert "F5124" in detail and "请分局在纳税人申请前做申请前调查" in detail
    clean = client.get(reverse("refund:candidate_item", args=[pushed["clean"].pk])).content.decode()
    assert 'data-grade="low"' in clean and "可按常规辅导申请" in clean
    # Another branch's candidate (and so its flag) stays out of reach.
    assert client.get(reverse("refund:candidate_item", args=[pushed["other"].pk])).status_code == 404


def test_without_a_scanner_the_lists_are_built_unscanned(org):
    registered = registry.registered_candidate_scanner()
    registry.unregister_candidate_scanner()
    try:
        eligible_taxpayer(org["branch_a"])
        screened()
        candidate_lists_build(actor=None, push_date=FIRST_PUSH)
        assert registry.candidate_flags(list(CandidateItem.objects.all())) == {}
    finally:
        registry.register_candidate_scanner(registered)
    assert not Scan.objects.exists()
    assert CandidateItem.objects.count() == 1
