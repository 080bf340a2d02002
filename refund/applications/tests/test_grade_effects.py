"""What the risk grade does to approval (审批), through refund's registry with a stand-in scanner: 低 — batch
approval; 中 — one by one, a batch refuses it with the reason; 高 — only after a collective consultation (集体会商)
decision, which the consultation hook reports. The risk app's own scanner is tested in ``risk/tests``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from refund.applications import risk as gate
from refund.applications.batch import applications_approve_batch
from refund.applications.risk import GradeRefused
from refund.applications.services import application_approve
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, receive, reviewing

State = RefundApplication.State
LABELS = {"low": "低风险", "medium": "中风险", "high": "高风险"}


class StubScanner:
    """Grades each application as told (``grades`` by taxpayer name), low otherwise; remembers each scan."""

    def __init__(self):
        self.grades: dict[str, str] = {}
        self.scans: list[tuple[int, str]] = []

    def scan(self, *, application, stage, actor):
        self.scans.append((application.pk, stage))
        grade = self.grades.get(application.taxpayer.name, "low")
        return SimpleNamespace(grade=grade, label=LABELS[grade], summary="" if grade == "low" else "1 个疑点：测试疑点")

    def panel(self, application, user=None):
        return '<section id="risk-grade">stub</section>'


@pytest.fixture
def scanner():
    stub = StubScanner()
    gate.register_application_scanner(stub)
    yield stub
    gate.unregister_application_scanner()


@pytest.fixture
def officer(personas):
    return personas["refund_officer"]


def _app(officer, org, name: str) -> RefundApplication:
    return reviewing(officer, eligible_taxpayer(org["branch_a"], name=name))


def test_arrival_and_approval_each_scan_once(officer, org, scanner):
    application = _app(officer, org, "低风险甲")
    assert scanner.scans == [(application.pk, "arrival")]
    application_approve(actor=officer, application=application)
    assert scanner.scans == [(application.pk, "arrival"), (application.pk, "approval")]
    application.refresh_from_db()
    assert application.state == State.APPROVED


def test_a_returned_application_is_not_scanned_before_approval(officer, org, scanner):
    application = receive(officer, eligible_taxpayer(org["branch_a"], name="回退乙"), claimed=1)
    assert application.state == State.RETURNED and scanner.scans == [(application.pk, "arrival")]


def test_batch_approves_low_and_refuses_medium_and_high_each_with_its_reason(officer, org, scanner):
    scanner.grades = {"中风险丙": "medium", "高风险丁": "high"}
    low, medium, high = (_app(officer, org, name) for name in ("低风险甲", "中风险丙", "高风险丁"))
    summary = applications_approve_batch(actor=officer, applications=[low, medium, high])
    assert [o.application.pk for o in summary.approved] == [low.pk]
    refused = {o.application.pk: o.reason for o in summary.refused}
    reason = "风险等级为中风险（1 个疑点：测试疑点），须逐件审核后在申请页面单独审批，未纳入批量审批。"
    assert refused[medium.pk] == reason
    assert "须经集体会商作出决定后方可审批" in refused[high.pk] and "高风险" in refused[high.pk]
    states = dict(RefundApplication.objects.values_list("pk", "state"))
    assert (states[low.pk], states[medium.pk], states[high.pk]) == (State.APPROVED, State.REVIEWING, State.REVIEWING)


def test_medium_is_approved_one_by_one(officer, org, scanner):
    scanner.grades = {"中风险丙": "medium"}
    application = _app(officer, org, "中风险丙")
    application_approve(actor=officer, application=application)
    application.refresh_from_db()
    assert application.state == State.APPROVED


def test_high_waits_for_a_consultation_decision(officer, org, scanner):
    scanner.grades = {"高风险丁": "high"}
    application = _app(officer, org, "高风险丁")
    with pytest.raises(GradeRefused, match="集体会商") as refused:
        application_approve(actor=officer, application=application)
    assert refused.value.code == "risk_grade_refused"
    application.refresh_from_db()
    assert application.state == State.REVIEWING and application.approved_at is None

    decided = {application.pk}
    resolver = lambda app: app.pk in decided  # noqa: E731 — the consultation feature's answer
    gate.register_consultation_decision(resolver)
    try:
        summary = applications_approve_batch(actor=officer, applications=[application])
        assert "逐件审核" in summary.refused[0].reason  # decided, but still not in a batch
        application_approve(actor=officer, application=application)
    finally:
        gate.unregister_consultation_decision(resolver)
    application.refresh_from_db()
    assert application.state == State.APPROVED


def test_without_a_scanner_the_grade_has_no_effect(officer, org):
    assert gate.registered_scanner() is None  # taken out for tests not marked ``risk_grade``
    application = _app(officer, org, "未扫描戊")
    assert applications_approve_batch(actor=officer, applications=[application]).refused == []
