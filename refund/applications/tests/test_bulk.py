"""The backfill of past applications (``refund.applications.bulk``): written as recorded, refused where a
service would refuse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import AuditEvent
from core.periods import Period
from refund.applications import bulk
from refund.applications.bulk import BackfillRefused, Confirmation, PastApplication, Step
from refund.applications.computation import compute_application
from refund.models import ApplicationRiskHit, ApplicationTransition, CoachingRecord, RefundApplication
from refund.tests.applications import receive
from refund.tests.candidates import eligible_taxpayer

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = Period(2026, 3)
RECEIVED = dt.date(2026, 3, 10)
State = RefundApplication.State


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def history(taxpayer, personas, **changes) -> PastApplication:
    """Received on 03-10, investigated and confirmed by branch A's officer, approved by the refund officer."""
    computation = compute_application(
        taxpayer_id=taxpayer.pk, application_period=PERIOD, received_on=RECEIVED, kind="both", options=None
    )
    figures = computation.figures
    past = PastApplication(
        taxpayer_id=taxpayer.pk,
        application_period=PERIOD,
        kind="both",
        source=RefundApplication.Source.IMPORT,
        document_number="历受〔2026〕00001号",
        received_on=RECEIVED,
        received_at=at(10, 9),
        received_by=personas["refund_officer"],
        arrival_reason="核心征管系统受理",
        claimed_amount=figures.amount,
        credit_level_at_submission="A",
        case=computation.case,
        decision=computation.decision,
        computed_at=at(10, 9, 1),
        risk_checked_at=at(12, 10),
        steps=[
            Step("investigate", at(10, 14), personas["officer_a"], "前置调查"),
            Step("submit_for_review", at(11, 10), personas["officer_a"], "调查核实无疑点，确认退税额并提交审核"),
            Step("approve", at(12, 11), personas["refund_officer"], "审批通过"),
        ],
        confirmation=Confirmation(figures.amount, figures.incremental, figures.stock),
        assigned_to=personas["officer_a"],
    )
    for name, value in changes.items():
        setattr(past, name, value)
    return past


@pytest.fixture
def taxpayer(org):
    return eligible_taxpayer(org["branch_a"])


@pytest.mark.django_db
def test_a_past_application_is_written_as_recorded(taxpayer, personas):
    past = history(taxpayer, personas)
    [app] = bulk.applications_backfill(applications=[past])

    app.refresh_from_db()
    assert app.state == State.APPROVED and app.branch_id == taxpayer.branch_id
    assert app.due_on == dt.date(2026, 3, 24)  # ten working days after receipt
    assert (app.received_at, app.state_changed_at, app.updated_at) == (at(10, 9), at(12, 11), at(12, 11))
    assert app.computed_amount == past.claimed_amount and app.computed_eligible is True
    assert app.confirmed_amount == app.computed_amount and app.correction_reason == ""
    assert (app.confirmed_by, app.confirmed_at) == (personas["officer_a"], at(11, 10))
    assert (app.approved_by, app.approved_at) == (personas["refund_officer"], at(12, 11))
    assert app.risk_status == RefundApplication.Risk.CLEAR and app.assigned_to == personas["officer_a"]
    chain = list(ApplicationTransition.objects.filter(application=app).order_by("created_at"))
    assert [(t.from_state, t.to_state) for t in chain] == [
        ("", State.RECEIVED),
        (State.RECEIVED, State.INVESTIGATING),
        (State.INVESTIGATING, State.REVIEWING),
        (State.REVIEWING, State.APPROVED),
    ]
    assert [t.created_at for t in chain] == [at(10, 9), at(10, 14), at(11, 10), at(12, 11)]
    assert AuditEvent.objects.filter(verb="refund_applications_import", summary__contains="1 件").count() == 1


@pytest.mark.django_db
def test_a_finding_is_resolved_by_the_confirmation(taxpayer, personas):
    finding = bulk.Finding("upstream_invoice", "进项发票涉及异常凭证，需核实", {"note": "上游"}, at(10, 9, 2), "已核实")
    steps = [
        Step("return", at(10, 9, 5), personas["refund_officer"], "受理扫描发现疑点", {"risk_hit": "upstream_invoice"}),
        Step("investigate", at(11, 9), personas["officer_a"], "重新核实"),
        Step("submit_for_review", at(11, 15), personas["officer_a"], "疑点已核实排除"),
    ]
    [app] = bulk.applications_backfill(applications=[history(taxpayer, personas, finding=finding, steps=steps)])
    hit = ApplicationRiskHit.objects.get(application=app)
    assert (hit.resolved_at, hit.resolved_by, hit.resolution) == (at(11, 15), personas["officer_a"], "已核实")
    assert app.decision_reason == "受理扫描发现疑点" and app.risk_status == RefundApplication.Risk.CLEAR

    open_one = history(taxpayer, personas, finding=finding, steps=steps[:1], document_number="历受〔2026〕00002号")
    RefundApplication.objects.all().delete()
    [app] = bulk.applications_backfill(applications=[open_one])
    assert app.risk_status == RefundApplication.Risk.HIT
    assert ApplicationRiskHit.objects.get(application=app).resolved_at is None


def refused(past: PastApplication, match: str) -> None:
    with pytest.raises(BackfillRefused, match=match):
        bulk.applications_backfill(applications=[past])
    assert not RefundApplication.objects.exists() and not ApplicationTransition.objects.exists()


@pytest.mark.django_db
def test_what_the_services_refuse_is_refused(taxpayer, personas):
    officer = personas["officer_a"]
    refused(history(taxpayer, personas, steps=[Step("approve", at(10, 10), officer)]), "不能从“已受理”执行")
    refused(history(taxpayer, personas, steps=[Step("investigate", at(10, 8), officer)]), "晚于上一步")
    refused(history(taxpayer, personas, steps=[Step("reject", at(10, 10), officer, "")]), "不予退税必须填写原因")
    refused(history(taxpayer, personas, claimed_amount=Decimal("7000000.00")), "超过该纳税人2026年02月的期末留抵税额")
    refused(history(taxpayer, personas, received_on=dt.date(2026, 2, 27)), "早于申请退税所属期")
    refused(history(taxpayer, personas, kind="both", source="fax"), "来源“fax”无效")
    past = history(taxpayer, personas)
    past.confirmation = Confirmation(past.claimed_amount + 1, past.claimed_amount + 1, Decimal("0"), "更正")
    refused(past, "超过申请退税额")
    past.confirmation = Confirmation(past.claimed_amount, past.claimed_amount, Decimal("1.00"), "更正")
    refused(past, "不等于确认退税额")
    past.confirmation = Confirmation(past.claimed_amount - 1, past.claimed_amount - 1, Decimal("0.00"))
    refused(past, "更正规则计算的退税额必须填写原因")
    refused(history(taxpayer, personas, assigned_to=personas["officer_b"]), "不能分派")
    refused(history(taxpayer, personas, received_by=None), "登录的税务人员")
    own = history(taxpayer, personas)
    own.steps[-1] = Step("approve", at(12, 11), personas["officer_a"], "审批通过")  # the confirmer approves
    refused(own, "确认人不能审批自己确认的申请")


@pytest.mark.django_db
def test_one_live_application_per_taxpayer_and_period(taxpayer, personas):
    receive(personas["refund_officer"], taxpayer)
    with pytest.raises(BackfillRefused, match="同一所属期"):
        bulk.applications_backfill(applications=[history(taxpayer, personas)])
    pair = [history(taxpayer, personas), history(taxpayer, personas, document_number="历受〔2026〕00002号")]
    RefundApplication.objects.all().delete()
    with pytest.raises(BackfillRefused, match="同一所属期"):
        bulk.applications_backfill(applications=pair)


@pytest.mark.django_db
def test_coaching_records_are_checked_as_the_service_checks_them(taxpayer, personas):
    [app] = bulk.applications_backfill(applications=[history(taxpayer, personas)])
    record = bulk.PastCoaching(taxpayer.pk, app, "form", "辅导填写申请表", RECEIVED, personas["officer_a"], at(10, 9))
    [row] = bulk.coaching_records_backfill(records=[record], today=dt.date(2026, 3, 20))
    assert CoachingRecord.objects.get(pk=row.pk).created_at == at(10, 9)
    for change, match in (
        ({"topic": "tea"}, "主题无效"),
        ({"coached_on": dt.date(2026, 3, 21)}, "晚于今天"),
        ({"taxpayer_id": taxpayer.pk + 1000}, "不属于这户纳税人"),
    ):
        with pytest.raises(BackfillRefused, match=match):
            bulk.coaching_records_backfill(
                records=[bulk.PastCoaching(**{**record.__dict__, **change})], today=RECEIVED.replace(day=20)
            )
    assert CoachingRecord.objects.count() == 1
