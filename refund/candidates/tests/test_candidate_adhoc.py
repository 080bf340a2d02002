"""即时名单: a taxpayer repaired to A or B is screened again with the run's own statement and put on the day's
即时名单, which the refund officer pushes the same day; the regular push dates leave it alone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import AuditEvent
from core.errors import ApplicationError
from credit.signals import rating_changed
from notify.models import InboxNotification
from refund import tasks
from refund.candidates.adhoc import RunPending, candidate_adhoc_after_rating, candidate_adhoc_push
from refund.candidates.services import candidate_lists_build
from refund.models import CandidateItem, CandidateList, ScreeningRun
from refund.rules.conditions import CONDITION_BITS
from refund.tests.candidates import FIRST_PUSH, screened
from refund.tests.credit_loop import REPAIRED_ON, rated_taxpayer, repaired
from refund.tests.screening_data import live_outcome

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: dt.date, hour: int = 10):
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def failed_on_rating(org):
    """A C taxpayer of branch A that the 2026-03-10 run failed only on its rating, and an A taxpayer beside it."""
    taxpayer = rated_taxpayer(org["branch_a"], "C", name="城东修复建筑有限公司")
    other = rated_taxpayer(org["branch_b"], "A")
    run = screened(day=REPAIRED_ON)
    result = run.results.get(taxpayer=taxpayer)
    assert (result.eligible, result.failed_mask) == (False, CONDITION_BITS["credit_a_or_b"])
    return taxpayer, other, run


def test_a_repaired_taxpayer_is_screened_again_and_listed_on_the_days_adhoc_list(failed_on_rating):
    taxpayer, _other, run = failed_on_rating
    repaired(taxpayer)

    with time_machine.travel(_at(REPAIRED_ON), tick=False):
        outcome = candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=REPAIRED_ON)

    # The run's row is replaced by the statement's decision, which is the rules' own.
    result = run.results.get(taxpayer=taxpayer)
    live = live_outcome(taxpayer, date=REPAIRED_ON)
    assert result.eligible is True and live.eligible is True
    assert result.refundable_total == live.refundable_total > 0
    assert outcome.result == result
    run.refresh_from_db()
    assert run.eligible_count == 2
    assert run.refundable_total == sum(r.refundable_total for r in run.results.filter(eligible=True))

    adhoc = CandidateList.objects.get(kind=CandidateList.Kind.ADHOC)
    assert (adhoc.push_date, str(adhoc.application_period), adhoc.audience) == (REPAIRED_ON, "2026-03", "service")
    assert (adhoc.item_count, adhoc.pushed_count, adhoc.unpushed_count) == (1, 0, 1)
    assert adhoc.refundable_total == result.refundable_total
    item = adhoc.items.get()
    assert (item.taxpayer, item.branch, item.screening_result) == (taxpayer, taxpayer.branch, result)
    assert (item.refundable_total, item.regime, item.stage) == (
        result.refundable_total,
        result.regime,
        "declared",
    )  # its 2026-02 return is on file
    assert str(adhoc) == "2026-03-10 即时名单"

    rescreen = AuditEvent.objects.get(verb="screening_rescreen_rating")
    added = AuditEvent.objects.get(verb="candidate_adhoc_add")
    assert rescreen.actor is None and added.actor is None  # the scheduler
    assert "城东修复建筑有限公司" in rescreen.summary and "B级" in rescreen.summary and "符合条件" in rescreen.summary
    assert "即时名单" in added.summary

    # A second delivery of the same task changes nothing.
    with time_machine.travel(_at(REPAIRED_ON, 11), tick=False):
        again = candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=REPAIRED_ON)
    assert again.item is None
    assert CandidateItem.objects.count() == 1
    adhoc.refresh_from_db()
    assert adhoc.item_count == 1


def test_still_ineligible_after_the_repair_puts_nobody_on_a_list(failed_on_rating):
    taxpayer, _other, _run = failed_on_rating
    repaired(taxpayer, "C")  # a partial repair that leaves it at C

    with time_machine.travel(_at(REPAIRED_ON), tick=False):
        outcome = candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="C", effective_on=REPAIRED_ON)

    assert outcome.item is None and outcome.result.eligible is False
    assert not CandidateList.objects.filter(kind=CandidateList.Kind.ADHOC).exists()
    assert "仍不符合条件（纳税信用级别为A级或B级）" in AuditEvent.objects.get(verb="screening_rescreen_rating").summary


def test_the_refund_officer_pushes_the_adhoc_list_the_same_day(failed_on_rating, personas):
    taxpayer, _other, _run = failed_on_rating
    repaired(taxpayer)
    with time_machine.travel(_at(REPAIRED_ON), tick=False):
        candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=REPAIRED_ON)
        adhoc = CandidateList.objects.get(kind=CandidateList.Kind.ADHOC)

        assert candidate_adhoc_push(actor=personas["refund_officer"], candidate_list=adhoc) == 1

        adhoc.refresh_from_db()
        assert (adhoc.pushed_count, adhoc.unpushed_count) == (1, 0) and adhoc.notified_at is not None
        told = set(InboxNotification.objects.values_list("user__username", flat=True))
        assert told == {"service_officer", "officer_a"}  # the service section and the taxpayer's branch
        notice = InboxNotification.objects.filter(user__username="officer_a").get()
        assert "即时名单" in notice.title and "1 户" in notice.title
        event = AuditEvent.objects.get(verb="candidate_adhoc_push")
        assert event.actor == personas["refund_officer"]
        with pytest.raises(ApplicationError, match="没有尚未推送"):
            candidate_adhoc_push(actor=personas["refund_officer"], candidate_list=adhoc)


def test_only_an_adhoc_list_is_pushed_by_hand(org, personas):
    rated_taxpayer(org["branch_a"], "A")
    screened()
    service = candidate_lists_build(actor=None, push_date=FIRST_PUSH).service_list
    with pytest.raises(ApplicationError, match="只有即时名单"):
        candidate_adhoc_push(actor=personas["refund_officer"], candidate_list=service)


def test_a_run_older_than_the_new_rating_is_not_used_a_new_one_is_started(org):
    taxpayer = rated_taxpayer(org["branch_a"], "C")
    old = screened(day=dt.date(2026, 3, 5))
    repaired(taxpayer)

    with pytest.raises(RunPending):
        candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=REPAIRED_ON)

    pending = ScreeningRun.objects.exclude(pk=old.pk).get()
    assert (pending.status, pending.application_date, pending.triggered_by) == ("pending", REPAIRED_ON, "schedule")
    assert not old.results.filter(taxpayer=taxpayer, eligible=True).exists()


def test_the_push_dates_lists_leave_out_a_taxpayer_already_on_that_days_adhoc_list(org):
    taxpayer = rated_taxpayer(org["branch_a"], "C")
    other = rated_taxpayer(org["branch_a"], "A")
    run = screened(day=FIRST_PUSH)
    repaired(taxpayer, on=dt.date(2026, 3, 12))
    with time_machine.travel(_at(FIRST_PUSH, 7), tick=False):
        candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=dt.date(2026, 3, 12))
    assert CandidateItem.objects.get().candidate_list.kind == "adhoc"

    outcome = candidate_lists_build(actor=None, push_date=FIRST_PUSH, run=run)

    assert outcome.created is True
    regular = CandidateItem.objects.filter(candidate_list__kind="regular")
    assert list(regular.values_list("taxpayer_id", flat=True)) == [other.pk]
    assert outcome.service_list.item_count == 1
    assert CandidateList.objects.filter(push_date=FIRST_PUSH, kind="adhoc").get().item_count == 1


def test_only_a_rating_of_a_or_b_asks_for_a_rescreen(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.rescreen_after_rating, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        for level in ("C", "B", "D", "A"):
            rating_changed.send(sender=None, taxpayer_id=7, level=level, effective_on=REPAIRED_ON)
    assert sent == [(7, "B", "2026-03-10"), (7, "A", "2026-03-10")]


def test_the_adhoc_list_is_scanned_for_risk_before_it_is_pushed(failed_on_rating, personas):
    from refund.candidates import risk

    class Recording:
        def __init__(self):
            self.scanned = []

        def scan(self, *, candidate_list, actor):
            self.scanned.append((candidate_list.pk, candidate_list.item_count, actor))

    taxpayer, _other, _run = failed_on_rating
    repaired(taxpayer)
    registered, recording = risk.registered_candidate_scanner(), Recording()
    risk.register_candidate_scanner(recording)
    try:
        with time_machine.travel(_at(REPAIRED_ON), tick=False):
            candidate_adhoc_after_rating(taxpayer_id=taxpayer.pk, level="B", effective_on=REPAIRED_ON)
            adhoc = CandidateList.objects.get(kind=CandidateList.Kind.ADHOC)
            candidate_adhoc_push(actor=personas["refund_officer"], candidate_list=adhoc)
    finally:
        risk.unregister_candidate_scanner()
        if registered is not None:
            risk.register_candidate_scanner(registered)
    assert recording.scanned == [(adhoc.pk, 1, personas["refund_officer"])]
