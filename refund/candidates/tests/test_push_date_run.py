"""``manage.py push_date_run``: a whole push date end to end, and again without any change; the beat entries."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import AuditEvent
from core.periods import Period
from notify.models import InboxNotification, SmsMessage
from refund.candidates.routine import candidate_auto_remind, push_date_scheduled, push_eve_screening
from refund.models import CandidateItem, CandidateList, CandidateSettings, ScreeningResult, ScreeningRun
from refund.tests.candidates import FIRST_PUSH, PERIOD, eligible_taxpayer, ineligible_taxpayer

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("push_date_run", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict:
    return {
        "runs": ScreeningRun.objects.count(),
        "results": ScreeningResult.objects.count(),
        "lists": CandidateList.objects.count(),
        "items": CandidateItem.objects.count(),
        "sms": SmsMessage.objects.count(),
        "inbox": InboxNotification.objects.count(),
        "audit": AuditEvent.objects.count(),
        "changed": sorted(CandidateItem.objects.values_list("pk", "stage", "reminded_at", "updated_at")),
    }


@pytest.fixture
def county(org, personas):
    """Two candidates in branch A, one in B, one taxpayer that fails; officers to notify."""
    return [
        eligible_taxpayer(org["branch_a"]),
        eligible_taxpayer(org["branch_a"], legal_rep_mobile="13912345678"),
        eligible_taxpayer(org["branch_b"], legal_rep_mobile="13700137000"),
        ineligible_taxpayer(org["branch_b"]),
    ]


def test_one_command_runs_the_push_date_and_a_second_run_changes_nothing(county, personas):
    out = _run("--date", FIRST_PUSH.isoformat())

    assert "推送日 2026-03-17" in out and "（本次执行）" in out and "（本次生成）" in out
    run = ScreeningRun.objects.get()
    assert (run.status, run.application_period, run.application_date) == ("succeeded", Period(2026, 3), FIRST_PUSH)
    assert run.total_count == 4 and run.eligible_count == 3
    assert CandidateList.objects.filter(push_date=FIRST_PUSH).count() == 3
    assert CandidateItem.objects.count() == 3
    # officer_a (branch A) and officer_b (branch B) get their list, the service officer the whole date.
    inbox = {n.user.username: n for n in InboxNotification.objects.select_related("user")}
    assert set(inbox) == {"officer_a", "officer_b", "service_officer"}
    assert "城东税务分局 2 户" in inbox["officer_a"].title
    assert "全局 3 户" in inbox["service_officer"].title
    assert inbox["officer_a"].link.startswith("/refund/candidates/")
    # The reminders went out before the notice: it says so, and asks for nothing.
    service = inbox["service_officer"]
    assert service.title == "2026-03-17 候选名单：全局 3 户，已自动提醒 3 户"
    assert "已自动向 3 户发送提醒短信" in service.body and "无需再发送提醒短信" in service.body
    assert "请在候选名单中" not in service.body and "户待提醒" not in service.body
    assert SmsMessage.objects.count() == 3
    assert "提醒短信 3 条进入发件箱" in out
    assert CandidateItem.objects.filter(reminded_at__isnull=False).count() == 3
    before = _counts()

    out = _run("--date", FIRST_PUSH.isoformat())

    assert _counts() == before
    assert "（此前已生成，未更改）" in out and "站内通知 0 条" in out and "提醒短信 0 条" in out


def test_a_fresh_run_is_reused_and_no_remind_sends_nothing(county):
    run = ScreeningRun.objects.create(application_period=PERIOD, application_date=FIRST_PUSH)
    from refund.screening.services import screening_run_execute

    screening_run_execute(run_id=run.pk)
    out = _run("--date", FIRST_PUSH.isoformat(), "--no-remind")
    assert f"筛查 #{run.pk}（沿用已完成的筛查）" in out
    assert ScreeningRun.objects.count() == 1
    assert not SmsMessage.objects.exists()
    assert CandidateList.objects.get(audience="service").screening_run_id == run.pk


def test_a_day_that_is_no_push_date_exits_2(county):
    with pytest.raises(CommandError, match="不是候选名单推送日") as exc_info:
        _run("--date", "2026-03-18")
    assert exc_info.value.returncode == 2
    with pytest.raises(CommandError, match="尚未提供") as exc_info:
        _run("--date", "2031-05-30")  # past the holiday data: never guessed
    assert exc_info.value.returncode == 2
    assert not ScreeningRun.objects.exists() and not CandidateList.objects.exists()


@time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
def test_without_a_date_it_runs_the_latest_push_date(county):
    out = _run("--no-remind")
    assert "推送日 2026-03-17" in out
    assert CandidateList.objects.filter(push_date=FIRST_PUSH).exists()


# --- the beat entries ------------------------------------------------------------------------------------------


def test_the_eve_screening_starts_only_before_a_push_date(county, django_capture_on_commit_callbacks):
    assert push_eve_screening(today=dt.date(2026, 3, 10)) is None
    with django_capture_on_commit_callbacks(execute=False):
        run = push_eve_screening(today=dt.date(2026, 3, 16))
    assert (run.application_period, run.application_date, run.triggered_by) == (Period(2026, 3), FIRST_PUSH, "schedule")


def test_the_0730_entry_does_nothing_on_other_days_and_builds_on_push_dates(county):
    assert push_date_scheduled(today=dt.date(2026, 3, 18)) is None
    assert not ScreeningRun.objects.exists()
    outcome = push_date_scheduled(today=FIRST_PUSH)
    assert outcome.lists_created and outcome.items == 3 and outcome.reminders is None
    assert not SmsMessage.objects.exists()  # reminders wait for 09:00 (if enabled) or a click


def test_the_0900_entry_reminds_only_when_enabled(county):
    push_date_scheduled(today=FIRST_PUSH)
    assert candidate_auto_remind(today=FIRST_PUSH) is None
    assert not SmsMessage.objects.exists()
    CandidateSettings.objects.update_or_create(pk=1, defaults={"auto_remind": True})
    assert candidate_auto_remind(today=dt.date(2026, 3, 18)) is None  # no push date
    outcome = candidate_auto_remind(today=FIRST_PUSH)
    assert outcome.enqueued == 3 and SmsMessage.objects.count() == 3
    assert candidate_auto_remind(today=FIRST_PUSH).enqueued == 0
    assert SmsMessage.objects.count() == 3


def _service_notices() -> list:
    return list(InboxNotification.objects.filter(user__username="service_officer").order_by("pk"))


@time_machine.travel(dt.datetime(2026, 3, 17, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
def test_the_notice_says_the_0900_run_will_remind_and_then_what_it_did(county):
    CandidateSettings.objects.update_or_create(pk=1, defaults={"auto_remind": True})
    no_mobile = eligible_taxpayer(county[0].branch, legal_rep_mobile="", tax_handler_mobile="")
    push_date_scheduled(today=FIRST_PUSH)
    [notice] = _service_notices()
    assert notice.title == "2026-03-17 候选名单：全局 4 户，3 户将于 09:00 自动提醒"
    assert "今日 09:00 将自动向 3 户发送提醒短信，无需手动发送" in notice.body
    assert "1 户未登记手机号码" in notice.body and "请在候选名单中" not in notice.body

    with time_machine.travel(dt.datetime(2026, 3, 17, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))):
        assert candidate_auto_remind(today=FIRST_PUSH).enqueued == 3
        first, result = _service_notices()
        assert result.title == "2026-03-17 候选名单：全局 4 户，已自动提醒 3 户"
        assert "已自动向 3 户发送提醒短信" in result.body and "待提醒" not in result.body
        assert "1 户未登记手机号码或号码无效，无法发送短信，请补录号码后发送或电话联系" in result.body
        assert result.link == first.link
        # Run again (nothing left to send): no second notice of the same.
        candidate_auto_remind(today=FIRST_PUSH)
        assert len(_service_notices()) == 2
    assert CandidateItem.objects.get(taxpayer=no_mobile).reminded_at is None


@time_machine.travel(dt.datetime(2026, 3, 17, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
def test_without_automatic_reminders_the_notice_asks_the_officer_to_send_them(county):
    from notify.services import opt_out_add

    opt_out_add(mobile="13912345678")  # county[1]'s legal representative
    push_date_scheduled(today=FIRST_PUSH)
    [notice] = _service_notices()
    assert notice.title == "2026-03-17 候选名单：全局 3 户，2 户待提醒"
    assert "还有 2 户待提醒，请在候选名单中向其发送提醒短信" in notice.body and "已自动" not in notice.body
    assert "1 户的号码已退订或被拒收，提醒短信未发出" in notice.body


def test_setup_schedules_seeds_the_push_entries_and_keeps_edits():
    call_command("setup_schedules", stdout=io.StringIO())
    entries = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="refund-push")}
    assert {name: (t.task, t.crontab.hour, t.crontab.minute) for name, t in entries.items()} == {
        "refund-push-eve-screening": ("refund.push_eve_screening", "22", "0"),
        "refund-push-date-lists": ("refund.push_date_lists", "7", "30"),
        "refund-push-date-auto-remind": ("refund.push_date_auto_remind", "9", "0"),
    }
    assert all(str(t.crontab.timezone) == "Asia/Shanghai" and t.enabled for t in entries.values())
    edited = entries["refund-push-date-lists"]
    edited.crontab = CrontabSchedule.objects.create(minute="0", hour="8", timezone="Asia/Shanghai")
    edited.enabled = False
    edited.save()

    out = io.StringIO()
    call_command("setup_schedules", stdout=out)

    assert "kept refund-push-date-lists" in out.getvalue()
    edited.refresh_from_db()
    assert (edited.crontab.hour, edited.crontab.minute, edited.enabled) == ("8", "0", False)
    assert PeriodicTask.objects.filter(name__startswith="refund-push").count() == 3
