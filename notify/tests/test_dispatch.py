"""Enqueue and the dispatcher in-process: idempotency, quiet hours, opt-out, retries, stale rows."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from notify import dispatch
from notify.backends import Outcome, SendResult, get_backend
from notify.models import MessageTemplate, SmsMessage, SmsReport
from notify.services import (
    Recipient,
    SmsRejected,
    opt_out_add,
    quiet_until,
    record_reports,
    sms_batch_enqueue,
    sms_enqueue,
    sms_resend,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_enqueue_is_idempotent():
    first = sms_enqueue(to="13800138000", text="您好", idempotency_key="reminder:1")
    second = sms_enqueue(to="13800138000", text="另一条", idempotency_key="reminder:1")
    assert first.pk == second.pk and SmsMessage.objects.count() == 1 and second.text == "您好"
    with pytest.raises(SmsRejected) as exc:
        sms_enqueue(to="123", text="x", idempotency_key="bad")
    assert exc.value.code == "invalid_mobile"


@override_settings(SMS_QUIET_HOURS="21:00-08:00")
def test_quiet_hours_hold_until_morning():
    evening = datetime(2024, 5, 20, 22, 30, tzinfo=SH)
    assert quiet_until(evening) == datetime(2024, 5, 21, 8, 0, tzinfo=SH)
    assert quiet_until(datetime(2024, 5, 21, 7, 59, tzinfo=SH)) == datetime(2024, 5, 21, 8, 0, tzinfo=SH)
    assert quiet_until(datetime(2024, 5, 21, 8, 0, tzinfo=SH)) is None
    assert quiet_until(datetime(2024, 5, 21, 20, 59, tzinfo=SH)) is None
    row = sms_enqueue(to="13800138000", text="您好", idempotency_key="q1", now=evening)
    assert row.next_attempt_at == datetime(2024, 5, 21, 8, 0, tzinfo=SH)
    with override_settings(SMS_QUIET_HOURS=""):
        assert quiet_until(evening) is None


@override_settings(SMS_QUIET_HOURS="")
def test_opt_out_cancels_with_reason():
    opt_out_add(mobile="13900139000", reason="本人要求")
    row = sms_enqueue(to="139 0013 9000", text="您好", idempotency_key="o1")
    assert (row.status, row.error_code) == ("cancelled", "opted_out")
    queued = sms_enqueue(to="13700137000", text="您好", idempotency_key="o2")
    opt_out_add(mobile="13700137000")
    queued.refresh_from_db()
    assert queued.status == "cancelled"


@override_settings(SMS_QUIET_HOURS="")
def test_batch_with_template_groups_by_text(mas_settings):
    template = MessageTemplate.objects.create(
        code="remind", name="提醒", body="{name}，请于{date}前申报", sign_text="【示范县税务局】"
    )
    recipients = [Recipient("13800138000", {"name": "甲公司", "date": "5月15日"}),
                  Recipient("13900139000", {"name": "乙公司", "date": "5月15日"}),
                  Recipient("13700137000", {"name": "丙公司", "date": "5月15日"}),
                  Recipient("12345", {"name": "丁", "date": "x"})]
    batch = sms_batch_enqueue(name="五月提醒", template=template, recipients=recipients, key_prefix="remind:2024-05")
    again = sms_batch_enqueue(name="五月提醒", template=template, recipients=recipients, key_prefix="remind:2024-05")
    assert batch.total == 4 and again.total == 0
    assert SmsMessage.objects.filter(status="failed", error_code="invalid_mobile").count() == 1
    summary = dispatch.run(backend=get_backend())
    assert summary["accepted"] == 3 and summary["sent_requests"] == 3  # three different texts
    assert mas_settings.state.accepted_counts() == {"13800138000": 1, "13900139000": 1, "13700137000": 1}
    assert SmsMessage.objects.get(recipient="13800138000").text == "甲公司，请于5月15日前申报【示范县税务局】"
    assert batch.progress()["percent"] == 100


@override_settings(SMS_QUIET_HOURS="", SMS_MAX_ATTEMPTS=3, SMS_RETRY_BASE_SECONDS=10, SMS_RETRY_MAX_SECONDS=25)
def test_same_text_in_one_request_and_transient_retry_with_backoff_and_cap(mas_settings):
    for i in range(5):
        sms_enqueue(to=f"1380013800{i}", text="同一内容", idempotency_key=f"same:{i}")
    mas_settings.state.set_faults(http_status=500)
    before = timezone.now()
    summary = dispatch.run(backend=get_backend())
    assert summary["sent_requests"] == 1 and summary["retry"] == 5
    rows = list(SmsMessage.objects.all())
    assert all(r.status == "queued" and r.attempts == 1 and r.error_code == "http_500" for r in rows)
    latest = timezone.now() + timedelta(seconds=10)
    assert all(before + timedelta(seconds=7) < r.next_attempt_at <= latest for r in rows)
    for expected_attempts in (2, 3):
        SmsMessage.objects.update(next_attempt_at=timezone.now())
        dispatch.run(backend=get_backend())
        assert set(SmsMessage.objects.values_list("attempts", flat=True)) == {expected_attempts}
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"failed"}  # cap reached
    assert dispatch.backoff_seconds(10) <= 25


@override_settings(SMS_QUIET_HOURS="")
def test_permanent_failure_is_not_retried(mas_settings):
    sms_enqueue(to="13800138000", text="您好", idempotency_key="p1")
    mas_settings.state.set_faults(rspcod="IllegalSignId")
    dispatch.run(backend=get_backend())
    row = SmsMessage.objects.get()
    assert (row.status, row.error_code, row.attempts) == ("failed", "IllegalSignId", 1)
    assert "签名" in row.error_message
    resent = sms_resend(message=row)
    assert resent.pk != row.pk and resent.status == "queued" and resent.idempotency_key == "p1:resend:1"


@override_settings(SMS_QUIET_HOURS="")
def test_claims_do_not_overlap():
    for i in range(10):
        sms_enqueue(to=f"1380013800{i}", text="您好", idempotency_key=f"c:{i}")
    a = dispatch.claim(worker="a", limit=6)
    b = dispatch.claim(worker="b", limit=6)
    assert len(a) == 6 and len(b) == 4 and not {r.pk for r in a} & {r.pk for r in b}
    assert dispatch.claim(worker="c", limit=6) == []


@override_settings(SMS_QUIET_HOURS="", SMS_LEASE_SECONDS=60, SMS_UNKNOWN_GRACE_SECONDS=300)
def test_stale_row_adopts_a_report_instead_of_resending():
    sms_enqueue(to="13800138000", text="您好", idempotency_key="s1")
    sms_enqueue(to="13900139000", text="您好", idempotency_key="s2")
    rows = dispatch.claim(worker="dead", limit=10)
    assert len(rows) == 2
    # The worker died after the gateway took the batch: only a report proves it.
    record_reports(items=[{"errorCode": "DELIVRD", "reportStatus": "CM:0000", "mobile": "13800138000",
                           "msgGroup": "G-LOST"}])
    later = timezone.now() + timedelta(seconds=61)
    assert dispatch.resolve_stale(now=later) == {"adopted": 1, "failed": 0}
    adopted = SmsMessage.objects.get(idempotency_key="s1")
    assert (adopted.status, adopted.msg_group) == ("delivered", "G-LOST")
    assert SmsMessage.objects.get(idempotency_key="s2").status == "sending"  # waits for a report
    much_later = timezone.now() + timedelta(seconds=61 + 301)
    assert dispatch.resolve_stale(now=much_later) == {"adopted": 0, "failed": 1}
    unknown = SmsMessage.objects.get(idempotency_key="s2")
    # Never resent by itself: a person decides (短信记录 → 重发, with a reason).
    assert (unknown.status, unknown.error_code, unknown.attempts) == ("failed", "unknown_outcome", 1)
    assert dispatch.claim(worker="next", limit=10) == []
    assert "未自动重发" in unknown.error_message
    # The gateway did take it after all: a late report makes it delivered.
    record_reports(items=[{"errorCode": "DELIVRD", "mobile": "13900139000", "msgGroup": "G-LATE"}])
    assert dispatch.resolve_stale(now=much_later + timedelta(minutes=5)) == {"adopted": 1, "failed": 0}
    unknown.refresh_from_db()
    assert (unknown.status, unknown.msg_group) == ("delivered", "G-LATE")


@override_settings(SMS_QUIET_HOURS="")
def test_timeout_is_unknown_and_never_resent_immediately(mas_settings):
    sms_enqueue(to="13800138000", text="您好", idempotency_key="t1")
    rows = dispatch.claim(worker="w", limit=10)
    dispatch.record_result(rows=rows, worker="w", result=SendResult(Outcome.UNKNOWN, code="gateway_timeout"))
    row = SmsMessage.objects.get()
    assert row.status == "sending" and row.error_code == "gateway_timeout"
    assert dispatch.claim(worker="x", limit=10) == []
    assert SmsReport.objects.count() == 0


@override_settings(SMS_QUIET_HOURS="", SMS_RATE_PER_SECOND=5)
def test_rate_limit_spaces_gateway_requests(mas_settings):
    import time

    for i in range(3):
        sms_enqueue(to=f"1380013800{i}", text=f"内容{i}", idempotency_key=f"r:{i}")
    started = time.monotonic()
    assert dispatch.run(backend=get_backend())["sent_requests"] == 3
    assert time.monotonic() - started >= 0.39  # 3 requests at 5/s: two gaps of 0.2 s


def test_one_dispatcher_pass_per_transaction(db, django_capture_on_commit_callbacks):
    """Queuing many messages in one transaction asks the dispatcher once, not once per message."""
    from django.db import transaction

    from notify.services import sms_enqueue

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            sms_enqueue(to=f"1380013800{n}", text="您好", idempotency_key=f"kick-once:{n}")
    assert len(callbacks) == 1
