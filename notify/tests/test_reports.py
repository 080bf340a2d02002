"""POST /notify/mas/report/<token>/ — plain JSON, one report or a list, matched by msgGroup + mobile."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from notify.backends import Outcome, SendResult
from notify.dispatch import record_result
from notify.models import SmsMessage, SmsReport
from notify.services import parse_report_date

pytestmark = pytest.mark.django_db
TOKEN = "report-token-123456"


def _accepted(mobile, group, key=None):
    return SmsMessage.objects.create(recipient=mobile, text="t", idempotency_key=key or f"k-{mobile}-{group}",
                                     status="accepted", msg_group=group)


@override_settings(MAS_REPORT_TOKEN=TOKEN)
def test_reports_update_messages(client):
    a = _accepted("13800138000", "0927152506001000833076")
    b = _accepted("13900139000", "0927152506001000833076")
    c = _accepted("13700137000", "0927152506001000833077")
    url = f"/notify/mas/report/{TOKEN}/"
    one = {"errorCode": "DELIVRD", "reportStatus": "CM:0000", "mobile": "13800138000",
           "submitDate": "20210906234500", "receiveDate": "20210906244506", "msgGroup": "0927152506001000833076"}
    response = client.post(url, one, content_type="application/json")
    assert response.status_code == 200 and response.json()["matched"] == 1
    many = [
        {"errorCode": "CM:2007", "reportStatus": "CM:2007", "mobile": "13900139000",
         "msgGroup": "0927152506001000833076",
         "submitDate": "20210906120000", "receiveDate": "20210906120005"},
        {"errorCode": "", "reportStatus": "DELIVRD", "mobile": "13700137000", "msgGroup": "0927152506001000833077"},
        {"errorCode": "DELIVRD", "mobile": "13600136000", "msgGroup": "unknown"},
    ]
    assert client.post(url, many, content_type="application/json").json() == {"success": True, "matched": 2,
                                                                              "unmatched": 1}
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert a.status == "delivered" and a.finished_at == datetime(2021, 9, 7, 0, 45, 6, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (b.status, b.error_code) == ("failed", "CM:2007")
    assert c.status == "delivered"
    assert SmsReport.objects.filter(message__isnull=True).count() == 1


@override_settings(MAS_REPORT_TOKEN=TOKEN)
def test_wrong_token_and_method(client):
    assert client.post("/notify/mas/report/nope/", {}, content_type="application/json").status_code == 404
    assert client.get(f"/notify/mas/report/{TOKEN}/").status_code == 405
    assert client.post(f"/notify/mas/report/{TOKEN}/", "[1]", content_type="application/json").status_code == 400


@override_settings(MAS_REPORT_TOKEN="")
def test_no_token_configured_means_no_endpoint(client):
    assert client.post("/notify/mas/report//", {}, content_type="application/json").status_code == 404


@override_settings(MAS_REPORT_TOKEN=TOKEN)
def test_report_before_the_worker_recorded_the_answer(client):
    row = SmsMessage.objects.create(recipient="13800138000", text="t", idempotency_key="k1", status="sending",
                                    claimed_by="w1")
    report = {"errorCode": "DELIVRD", "reportStatus": "CM:0000", "mobile": "13800138000", "msgGroup": "G1"}
    assert client.post(f"/notify/mas/report/{TOKEN}/", report, content_type="application/json").json()["unmatched"] == 1
    record_result(rows=[row], worker="w1", result=SendResult(Outcome.ACCEPTED, msg_group="G1", code="success"))
    row.refresh_from_db()
    assert row.status == "delivered" and SmsReport.objects.get().message_id == row.pk


def test_lenient_dates():
    tz = ZoneInfo("Asia/Shanghai")
    assert parse_report_date("20210906244506") == datetime(2021, 9, 7, 0, 45, 6, tzinfo=tz)
    assert parse_report_date("202109061200") == datetime(2021, 9, 6, 12, 0, tzinfo=tz)
    assert parse_report_date("2021-09-06 12:00:01") == datetime(2021, 9, 6, 12, 0, 1, tzinfo=tz)
    assert parse_report_date("") is None
    assert parse_report_date("20211306120000") is None


def test_pull_poller_matches_and_keeps_to_one_call_per_5s(mas_settings):
    from django.core.cache import cache

    from notify.backends import get_backend
    from notify.tasks import _PULL_KEY, pull_mas_reports

    cache.delete(_PULL_KEY)
    result = get_backend().send(["13800138000"], "您好")
    row = _accepted("13800138000", result.msg_group)
    assert pull_mas_reports() == {"pulled": 1, "matched": 1, "unmatched": 0}
    row.refresh_from_db()
    assert row.status == "delivered"
    assert pull_mas_reports() == {"pulled": 0}  # within 5 s: no request at all
    assert mas_settings.state.last_pull > 0
