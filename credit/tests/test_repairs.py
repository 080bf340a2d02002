"""Repair, 复核 and 复评 cases on PostgreSQL: the lifecycle, the 15-working-day due date, refusals from the rules,
the rating row and the signal a decision sends, and the audit trail."""

import datetime as dt
import functools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import AuditEvent
from core.errors import ConflictError
from credit.models import CreditCase, CreditCaseTransition, CreditPrediction, CreditRating, DishonestyEvent
from credit.repairs import services
from credit.repairs.services import CaseRefused
from credit.selectors import rating_in_force
from credit.signals import rating_changed
from credit.tests.helpers import rated_with_a_late_return, receive_case
from credit.warnings.services import credit_predictions_refresh

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(taxpayer_a):
    """taxpayer_a rated C (69 points) for 2025, with a late return still open at the rating."""
    return taxpayer_a, rated_with_a_late_return(taxpayer_a)


_receive = functools.partial(receive_case, statement="已补办申报")


def test_a_repair_runs_from_receipt_to_a_new_rating_and_tells_the_apps_above(
    personas, rated, django_capture_on_commit_callbacks
):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: late.corrected_on})
    # 2025 rules, corrected after 90 days: 40 % of the 5 points; 69 + 2 = 71 is B.
    assert (case.state, case.score_before, case.points_restored, case.score_after, case.level_after) == (
        "received",
        Decimal("69"),
        Decimal("2"),
        Decimal("71"),
        "B",
    )
    item = case.items.get()
    assert (item.deduction, item.restored, item.band) == (Decimal("5"), Decimal("2"), "after_90_days")
    services.credit_case_review(actor=officer, case_id=case.pk)
    services.credit_case_raise(
        actor=officer, case_id=case.pk, question="纠正日期以补申报日为准？", on=dt.date(2026, 5, 12)
    )
    services.credit_case_answer(actor=officer, case_id=case.pk, answer="以补申报日为准。", on=dt.date(2026, 5, 14))

    received = []

    def receiver(sender, **kwargs):
        received.append({key: kwargs[key] for key in ("taxpayer_id", "level", "effective_on")})

    rating_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = services.credit_case_decide(
                actor=officer, case_id=case.pk, granted_event_ids=[late.pk], on=dt.date(2026, 5, 20)
            )
    finally:
        rating_changed.disconnect(receiver)
    assert case.state == "approved" and case.decided_on == dt.date(2026, 5, 20)
    new = case.new_rating
    assert (new.level, new.score, new.basis, new.evaluated_on, new.year) == (
        "B",
        Decimal("71"),
        "repaired",
        dt.date(2026, 5, 20),
        2025,
    )
    assert rating_in_force(taxpayer, dt.date(2026, 5, 19)).level == "C"
    assert rating_in_force(taxpayer, dt.date(2026, 5, 20)).level == "B"
    assert received == [{"taxpayer_id": taxpayer.pk, "level": "B", "effective_on": dt.date(2026, 5, 20)}]
    assert list(CreditCaseTransition.objects.filter(case=case).values_list("to_state", flat=True)) == [
        "received",
        "reviewing",
        "raised",
        "answered",
        "approved",
    ]
    verbs = list(
        AuditEvent.objects.filter(object_id=str(case.pk), object_type="credit.creditcase")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [f"credit_case_{a}" for a in ("receive", "review", "raise", "answer", "decide")]
    assert AuditEvent.objects.filter(verb="credit_case_decide").get().actor == officer


def test_the_due_date_counts_15_working_days_across_the_national_day_holiday(personas, rated):
    taxpayer, late = rated
    case = _receive(
        personas["credit_officer"], taxpayer, {late.pk: late.corrected_on}, received_on=dt.date(2026, 9, 25)
    )
    # Friday 25 September: 28–30 September, then the holiday to 7 October, Saturday 10 October a make-up day.
    assert case.due_on == dt.date(2026, 10, 22)
    assert case.is_overdue(dt.date(2026, 10, 23)) and not case.is_overdue(dt.date(2026, 10, 22))


@pytest.mark.parametrize(
    ("event", "correction", "reason"),
    [
        ({"indicator": "010106", "recorded_on": dt.date(2025, 9, 10)}, dt.date(2026, 5, 6), "可修复情形"),
        ({"indicator": "010103", "recorded_on": dt.date(2025, 9, 10)}, None, "尚未纠正"),
        (
            {"indicator": "010103", "recorded_on": dt.date(2025, 9, 10), "corrected_on": dt.date(2025, 9, 20)},
            dt.date(2025, 9, 20),
            "评价结果确定前已经纠正",
        ),
        (
            {"indicator": "010103", "recorded_on": dt.date(2025, 9, 10), "no_penalty": True},
            dt.date(2026, 5, 6),
            "首违不罚",
        ),
    ],
    ids=["not_repairable", "not_corrected", "already_corrected", "no_penalty"],
)
def test_ineligible_requests_are_refused_with_the_reason(personas, rated, event, correction, reason):
    taxpayer, _ = rated
    row = DishonestyEvent.objects.create(taxpayer=taxpayer, tax="增值税", **event)
    with pytest.raises(CaseRefused) as refused:
        _receive(personas["credit_officer"], taxpayer, {row.pk: correction})
    assert reason in refused.value.message
    assert not CreditCase.objects.exists() and not AuditEvent.objects.filter(verb="credit_case_receive").exists()


def test_an_application_after_the_end_of_the_year_after_the_record_is_too_late(personas, taxpayer_a):
    CreditRating.objects.create(
        taxpayer=taxpayer_a,
        year=2024,
        level="C",
        score=Decimal("69"),
        evaluated_on=dt.date(2025, 4, 20),
        rule_set="2014",
    )
    row = DishonestyEvent.objects.create(
        taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2024, 5, 10), corrected_on=dt.date(2025, 12, 1)
    )
    with pytest.raises(CaseRefused, match="已超过申请修复的期限（2025-12-31）"):
        receive_case(
            personas["credit_officer"],
            taxpayer_a,
            {row.pk: row.corrected_on},
            year=2024,
            received_on=dt.date(2026, 1, 5),
        )
    # Within the year after the record, the old standard gives 20 % of the 3 points: 69.6, still C.
    case = receive_case(
        personas["credit_officer"], taxpayer_a, {row.pk: row.corrected_on}, year=2024, received_on=dt.date(2025, 12, 15)
    )
    assert (case.points_restored, case.score_after, case.level_after) == (Decimal("0.6"), Decimal("69.6"), "C")


def test_a_year_without_a_rating_needs_no_application(personas, taxpayer_a):
    row = DishonestyEvent.objects.create(
        taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2025, 9, 10), corrected_on=dt.date(2025, 10, 1)
    )
    with pytest.raises(CaseRefused, match="自动修复"):
        _receive(personas["credit_officer"], taxpayer_a, {row.pk: row.corrected_on})


def test_no_re_evaluation_after_a_repair_and_no_second_open_case(personas, rated):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    _receive(officer, taxpayer, {late.pk: late.corrected_on})
    with pytest.raises(ConflictError):
        _receive(officer, taxpayer, {late.pk: late.corrected_on})
    with pytest.raises(CaseRefused, match="不再受理复评"):
        _receive(officer, taxpayer, {late.pk: None}, kind="re_evaluation")


def test_a_re_evaluation_granted_removes_the_disputed_deduction(personas, rated):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: None}, kind="re_evaluation")
    assert (case.points_restored, case.score_after, case.level_after) == (Decimal("5"), Decimal("74"), "B")
    services.credit_case_review(actor=officer, case_id=case.pk)
    case = services.credit_case_decide(
        actor=officer, case_id=case.pk, granted_event_ids=[late.pk], on=dt.date(2026, 5, 20)
    )
    assert case.new_rating.basis == "re_evaluated" and case.new_rating.score == Decimal("74")


def test_a_partly_granted_case_rates_only_what_was_granted(personas, rated):
    taxpayer, late = rated
    report = DishonestyEvent.objects.create(
        taxpayer=taxpayer, indicator="010103", recorded_on=dt.date(2025, 9, 16), corrected_on=dt.date(2026, 5, 8)
    )
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: late.corrected_on, report.pk: report.corrected_on})
    assert case.points_restored == Decimal("3.2")  # 2 + 40 % of 3
    services.credit_case_review(actor=officer, case_id=case.pk)
    case = services.credit_case_decide(
        actor=officer,
        case_id=case.pk,
        granted_event_ids=[report.pk],
        reason="逾期申报纠正日期待核实",
        on=dt.date(2026, 5, 20),
    )
    assert case.state == "partly" and case.new_rating.score == Decimal("70.2") and case.new_rating.level == "B"
    assert dict(case.items.values_list("event_id", "granted")) == {late.pk: False, report.pk: True}


def test_a_refusal_needs_a_reason_writes_no_rating_and_sends_nothing(
    personas, rated, django_capture_on_commit_callbacks
):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: late.corrected_on})
    services.credit_case_review(actor=officer, case_id=case.pk)
    with pytest.raises(services.ApplicationError, match="说明理由"):
        services.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=[])
    with django_capture_on_commit_callbacks() as callbacks:
        case = services.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=[], reason="纠正不实")
    assert case.state == "refused" and case.new_rating is None and callbacks == []
    assert CreditRating.objects.filter(taxpayer=taxpayer).count() == 1


def test_steps_out_of_order_are_refused(personas, rated):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: late.corrected_on})
    with pytest.raises(ConflictError):
        services.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=[late.pk])
    with pytest.raises(ConflictError):
        services.credit_case_answer(actor=officer, case_id=case.pk, answer="答复")
    services.credit_case_withdraw(actor=officer, case_id=case.pk, reason="纳税人撤回")
    with pytest.raises(ConflictError):
        services.credit_case_review(actor=officer, case_id=case.pk)
    # Withdrawn, the taxpayer may apply again.
    assert _receive(officer, taxpayer, {late.pk: late.corrected_on}).state == "received"


def test_a_re_evaluation_is_filed_before_the_next_annual_evaluation(personas, rated):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    # Set on 2026-04-18 under the 2025 rules: the window closes the day before the 2026 year is rated.
    with pytest.raises(CaseRefused, match="复评申请期限已过（2027-03-31）"):
        _receive(officer, taxpayer, {late.pk: None}, kind="re_evaluation", received_on=dt.date(2027, 4, 6))


PREDICTED = ("current_level", "score", "level", "score_if_repaired", "level_if_repaired", "points_at_stake")


def test_a_granted_decision_predicts_the_taxpayer_again_at_once_as_the_daily_job_would(
    personas, rated, django_capture_on_commit_callbacks
):
    """The 工作台's 现行 and predicted counts follow a decision the moment it commits, not the next morning."""
    taxpayer, late = rated
    officer = personas["credit_officer"]
    decided_on = dt.date(2026, 5, 20)
    with time_machine.travel(dt.datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        credit_predictions_refresh(today=decided_on)
        assert CreditPrediction.objects.get(taxpayer=taxpayer).current_level == "C"
        case = _receive(officer, taxpayer, {late.pk: late.corrected_on})
        services.credit_case_review(actor=officer, case_id=case.pk)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=[late.pk], on=decided_on)
        assert CreditPrediction.objects.get(taxpayer=taxpayer).current_level == "C"  # not before the commit
        for callback in callbacks:
            callback()
        after = CreditPrediction.objects.values(*PREDICTED).get(taxpayer=taxpayer)
        assert after["current_level"] == "B"
        credit_predictions_refresh(today=decided_on)  # the daily job's own figures for the same day
        assert CreditPrediction.objects.values(*PREDICTED).get(taxpayer=taxpayer) == after
        assert CreditPrediction.objects.filter(taxpayer=taxpayer).count() == 1


def test_a_refusal_leaves_the_prediction_to_the_daily_job(personas, rated, django_capture_on_commit_callbacks):
    taxpayer, late = rated
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer, {late.pk: late.corrected_on})
    services.credit_case_review(actor=officer, case_id=case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.credit_case_decide(
            actor=officer, case_id=case.pk, granted_event_ids=[], reason="不符合修复条件", on=dt.date(2026, 5, 20)
        )
    assert not CreditPrediction.objects.filter(taxpayer=taxpayer).exists()
