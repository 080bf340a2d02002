"""The platform's limits and the bureau's rules in the dispatcher: ≤ 5,000 numbers per request, quiet hours
held until morning (also for a pass that reaches 21:00, and for the wake-ups), ≤ 1 report pull per 5 s."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notify import dispatch, tasks
from notify.backends import get_backend
from notify.backends.console import ConsoleBackend
from notify.models import MessageTemplate, SmsMessage
from notify.services import Recipient, sms_batch_enqueue, sms_enqueue

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@override_settings(SMS_QUIET_HOURS="", SMS_BATCH_SIZE=6000)
def test_at_most_5000_numbers_per_request(mas_settings):
    template = MessageTemplate.objects.create(code="same", name="同一内容", body="请按期申报。", sign_text="")
    recipients = [Recipient(f"138{i:08d}") for i in range(5001)]
    sms_batch_enqueue(name="大批次", template=template, recipients=recipients, key_prefix="big")
    summary = dispatch.run(backend=get_backend())
    assert summary["accepted"] == 5001 and summary["sent_requests"] == 2
    assert sorted(len(a["mobiles"]) for a in mas_settings.state.accepted) == [1, 5000]
    assert mas_settings.state.rejected == []  # the simulator would answer TooManyMobiles above 5,000


class QuietAfterFirstRequest(ConsoleBackend):
    """A pass that is still sending when the quiet hours begin."""

    def __init__(self):
        self.requests = 0

    def send(self, mobiles, text):
        self.requests += 1
        local = timezone.localtime(timezone.now(), SH)
        start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
        settings.SMS_QUIET_HOURS = f"{start}-{end}"  # restored by override_settings
        return super().send(mobiles, text)


@override_settings(SMS_QUIET_HOURS="", SMS_BATCH_SIZE=2)
def test_a_pass_that_reaches_the_quiet_hours_stops_sending():
    for i in range(6):
        sms_enqueue(to=f"1390013900{i}", text="同一内容", idempotency_key=f"q:{i}")
    backend = QuietAfterFirstRequest()
    summary = dispatch.run(backend=backend)
    assert backend.requests == 1 and summary["accepted"] == 2 and summary["quiet_hours"] is True
    assert SmsMessage.objects.filter(status="queued").count() == 4  # not claimed, nothing stranded in sending
    assert not SmsMessage.objects.filter(status="sending").exists()


@override_settings(SMS_QUIET_HOURS="21:00-08:00")
def test_wakeups_during_the_quiet_hours_wait_for_the_morning():
    evening = datetime(2024, 5, 20, 20, 0, tzinfo=SH)
    sms_enqueue(to="13800138000", text="您好", idempotency_key="w1", now=evening)  # due at 20:00, not sent
    night = datetime(2024, 5, 20, 22, 30, tzinfo=SH)
    assert dispatch.next_wakeup(now=night) == datetime(2024, 5, 21, 8, 0, tzinfo=SH)
    with override_settings(SMS_QUIET_HOURS=""):
        assert dispatch.next_wakeup(now=night) == night  # overdue: now, not a time in the past


@pytest.fixture
def pull_settings(mas_settings):
    cache.delete(tasks._PULL_KEY)
    with override_settings(MAS_REPORT_PULL=True):
        yield mas_settings
    cache.delete(tasks._PULL_KEY)


@pytest.mark.django_db(transaction=True)  # the threads write with their own connections
def test_two_workers_pulling_at_once_make_one_request(pull_settings):
    sim = pull_settings
    assert get_backend().send(["13800138000"], "您好").accepted
    results, barrier = [], threading.Barrier(4)

    def pull():
        try:
            barrier.wait(5)
            results.append(tasks.pull_mas_reports())
        finally:
            connection.close()

    threads = [threading.Thread(target=pull) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(sim.state.pull_times) == 1
    assert sorted(r["pulled"] for r in results) == [0, 0, 0, 1]


def test_poller_drains_full_pages_one_pull_per_interval(pull_settings, monkeypatch):
    sim = pull_settings
    # The real rule is 5 s (6 s lock); scaled down so the test takes seconds, the simulator checks the same.
    monkeypatch.setattr(tasks, "PULL_INTERVAL_SECONDS", 1)
    monkeypatch.setattr(tasks, "PULL_LOCK_SECONDS", 2)
    sim.state.pull_interval = 1.0
    mobiles = [f"137{i:08d}" for i in range(2001)]
    assert get_backend().send(mobiles, "您好").accepted
    result = tasks.poll_mas_reports(time_budget=30)
    assert result == {"requests": 3, "pulled": 2001, "matched": 0}
    gaps = [b - a for a, b in zip(sim.state.pull_times, sim.state.pull_times[1:], strict=False)]
    assert len(sim.state.pull_times) == 3 and all(gap >= 1.0 for gap in gaps)
    cache.set(tasks._PULL_KEY, 1, timeout=60)  # another worker just pulled (long enough for a loaded machine)
    assert tasks.poll_mas_reports(time_budget=0.5) == {"requests": 0, "pulled": 0, "matched": 0}
    assert len(sim.state.pull_times) == 3


def test_poller_is_off_unless_configured(mas_settings):
    assert tasks.poll_mas_reports() == {"requests": 0, "pulled": 0}
    assert mas_settings.state.pull_times == []


def test_the_real_interval_is_five_seconds():
    assert tasks.PULL_INTERVAL_SECONDS == 5 and tasks.PULL_LOCK_SECONDS >= 5
