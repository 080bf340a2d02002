"""manage.py sms_send as outside checks call it (its JSON answer and exit codes are fixed), against the in-process
simulator."""

import hashlib

import pytest
from django.test import override_settings

from core.tests.commands import json_command
from notify.models import SmsMessage

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, dict]:
    return json_command("sms_send", *args)


def test_accepted_and_mac_verified(mas_settings):
    text = "您好，您提交的留抵退税申请已受理。"
    code, payload = run("--to", "13800138000", "--text", text)
    assert code == 0
    assert payload["status"] == "accepted" and payload["backend"] == "mas"
    row = SmsMessage.objects.get(pk=payload["message_id"])
    assert row.status == "accepted" and row.msg_group == payload["msg_group"] and row.attempts == 1
    accepted = mas_settings.state.accepted
    assert [(a["msgGroup"], a["mobiles"], a["content"]) for a in accepted] == [
        (payload["msg_group"], ["13800138000"], text)
    ]


@pytest.mark.parametrize(("in_body", "rspcod"), [(False, "IllegalMac"), (True, "InvalidUsrOrPwd")])
def test_wrong_secret_fails_with_gateway_code(mas_settings, in_body, rspcod):
    """Without the secret in the body the gateway can only see a mac that does not match."""
    with override_settings(MAS_SECRET_KEY="wrong-secret", MAS_SECRET_IN_BODY=in_body):
        code, payload = run("--to", "13800138000", "--text", "您好")
    assert code == 2 and payload["error"] == rspcod and payload["message"]
    row = SmsMessage.objects.get()
    assert (row.status, row.error_code) == ("failed", rspcod)
    assert mas_settings.state.accepted == []


def test_illegal_mac_is_reported_as_such(mas_settings, monkeypatch):
    from notify.backends import mas

    # A client that hashes the wrong field order: the platform answers IllegalMac.
    monkeypatch.setattr(mas, "compute_mac", lambda fields, order: hashlib.md5(b"x", usedforsecurity=False).hexdigest())
    code, payload = run("--to", "13800138000", "--text", "您好")
    assert (code, payload["error"]) == (2, "IllegalMac")
    assert SmsMessage.objects.get().error_code == "IllegalMac"


@pytest.mark.parametrize(
    ("to", "text", "error"),
    [
        ("12345678901", "您好", "invalid_mobile"),
        ("13800138000", "   ", "empty_text"),
        ("13800138000", "字" * 501, "text_too_long"),
    ],
)
def test_rejected_before_sending(mas_settings, to, text, error):
    code, payload = run("--to", to, "--text", text)
    assert code == 2 and payload["error"] == error and payload["message"]
    row = SmsMessage.objects.get()
    assert (row.status, row.error_code) == ("failed", error)
    assert mas_settings.state.requests == 0


def test_unreachable_gateway(mas_settings):
    with override_settings(MAS_BASE_URL="http://127.0.0.1:9"):
        code, payload = run("--to", "13800138000", "--text", "您好")
    assert (code, payload["error"]) == (2, "gateway_unreachable")
    assert SmsMessage.objects.get().status == "failed"


def test_console_backend_is_default():
    with override_settings(SMS_BACKEND="console"):
        code, payload = run("--to", "13800138000", "--text", "您好")
    assert code == 0 and payload["backend"] == "console"
    assert SmsMessage.objects.get().status == "accepted"


def test_opted_out_number_is_refused(mas_settings):
    from notify.services import opt_out_add

    opt_out_add(mobile="13800138000")
    code, payload = run("--to", "138 0013 8000", "--text", "您好")
    assert (code, payload["error"]) == (2, "opted_out") and payload["message"]
    row = SmsMessage.objects.get()
    assert (row.status, row.error_code) == ("failed", "opted_out")
    assert mas_settings.state.requests == 0
