"""POST /notify/mas/report/<token>/ — plain JSON, one report or a list, matched by msgGroup + mobile."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from notify.backends import Outcome, SendResult
from notify.dispatch import record_result
from notify.models import SmsMessage, SmsReport
from notify.reports import parse_report_date

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
    assert client.post(url, many, content_type="application/json").json() == {
        "success": True, "matched": 2, "unmatched": 1, "duplicate": 0, "rejected": 0
    }
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
    assert pull_mas_reports() == {"pulled": 1, "matched": 1, "unmatched": 0, "duplicate": 0, "rejected": 0}
    row.refresh_from_db()
    assert row.status == "delivered"
    assert pull_mas_reports() == {"pulled": 0}  # within 5 s: no request at all
    assert mas_settings.state.last_pull > 0


# --- hostile bodies, with the right token ------------------------------------------------------------------


def _post(client, body: str):
    return client.post(f"/notify/mas/report/{TOKEN}/", body, content_type="application/json")


@override_settings(MAS_REPORT_TOKEN=TOKEN)
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"msgGroup": "G1", "mobile": "13800138000", "errorCode": NaN}', 400),
        ('[{"msgGroup": "G1", "mobile": Infinity}]', 400),
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"a":' * 5_000 + "1" + "}" * 5_000, 400),
        ('[[{"msgGroup": [[["G1"]]], "mobile": "1"}]]', 400),
        ("not json", 400),
        ("\xff\xfe", 400),
        ("[1, 2, 3]", 400),
        ('"a string"', 400),
        ("[" + ",".join(['{"msgGroup": "G", "mobile": "1"}'] * 1001) + "]", 413),
        ('{"x": "' + "a" * (600 * 1024) + '"}', 413),
    ],
    ids=["NaN", "Infinity", "deep lists", "deep objects", "too deep", "not json", "not utf-8", "numbers", "string",
         "too many", "too large"],
)
def test_malformed_bodies_are_refused_and_store_nothing(client, body, status):
    response = _post(client, body)
    assert response.status_code == status
    assert response.json()["success"] is False
    assert SmsReport.objects.count() == 0


@override_settings(MAS_REPORT_TOKEN=TOKEN)
def test_a_replayed_report_is_stored_once(client):
    message = _accepted("13800138000", "G1")
    report = {"errorCode": "DELIVRD", "reportStatus": "CM:0000", "mobile": "13800138000", "msgGroup": "G1"}
    first = _post(client, json.dumps(report)).json()
    again = _post(client, json.dumps([report, report])).json()
    assert (first["matched"], again["matched"], again["duplicate"]) == (1, 0, 2)
    assert SmsReport.objects.count() == 1
    message.refresh_from_db()
    assert message.status == "delivered"


@override_settings(MAS_REPORT_TOKEN=TOKEN)
def test_one_bad_item_does_not_cost_the_good_ones(client):
    good = _accepted("13800138000", "G1")
    items = [
        {"errorCode": "DELIVRD", "mobile": "13800138000", "msgGroup": "G1"},
        {"errorCode": {"nested": True}, "mobile": "13900139000", "msgGroup": "G1"},
        {"mobile": "13700137000"},
        "not a report",
        {"errorCode": "DELIVRD", "mobile": "1" * 40, "msgGroup": "G1"},
    ]
    result = _post(client, json.dumps(items)).json()
    assert (result["matched"], result["rejected"]) == (1, 4)
    good.refresh_from_db()
    assert good.status == "delivered"
    assert SmsReport.objects.count() == 1
