"""Template SMS (/sms/tmpsubmit): the simulator checks it exactly like norsubmit, and the dispatcher uses it
for messages from a template registered on 云MAS (``params`` a string holding a JSON array, hashed as sent; golden
vectors MAS-TMP-1/2)."""

import base64
import json
import urllib.request

import pytest
from django.test import override_settings

from notify import dispatch
from notify.backends import get_backend
from notify.backends.mas import NORMAL_FIELDS, TEMPLATE_FIELDS, build_body, compute_mac, decode_body
from notify.models import MessageTemplate, SmsMessage
from notify.services import Recipient, record_reports, sms_batch_enqueue, sms_enqueue, sms_resend
from notify.simulator import MasSimulator
from notify.tests.conftest import CREDENTIALS, GOLDEN

VECTORS = {v["id"]: v for v in GOLDEN["mas"]["vectors"]}
TMP = VECTORS["MAS-TMP-1"]["inputs"]  # the same synthetic account as CREDENTIALS


def _post(sim: MasSimulator, path: str, payload: dict | bytes) -> dict:
    body = payload if isinstance(payload, bytes) else base64.b64encode(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    )
    request = urllib.request.Request(sim.base_url + path, data=body, method="POST")  # noqa: S310 (loopback)
    return json.loads(urllib.request.urlopen(request, timeout=5).read())  # noqa: S310 (loopback)


def _fields(path: str, **changes) -> dict:
    base = {"ecName": CREDENTIALS["ec_name"], "apId": CREDENTIALS["ap_id"], "secretKey": CREDENTIALS["secret_key"]}
    if path == "/sms/tmpsubmit":
        base.update(templateId=TMP["templateId"], mobiles="13800138000", params=TMP["params"])
    else:
        base.update(mobiles="13800138000", content="您好，请及时申报。")
    base.update(sign=CREDENTIALS["sign"], addSerial="")
    base.update(changes)
    return base


def _signed(path: str, **changes) -> dict:
    order = TEMPLATE_FIELDS if path == "/sms/tmpsubmit" else NORMAL_FIELDS
    return decode_body(build_body(_fields(path, **changes), order))


PATHS = ["/sms/norsubmit", "/sms/tmpsubmit"]


@pytest.mark.parametrize("path", PATHS)
def test_the_same_checks_on_both_paths(simulator, path):
    assert _post(simulator, path, _signed(path))["rspcod"] == "success"
    assert _post(simulator, path, {**_signed(path), "mac": "0" * 32})["rspcod"] == "IllegalMac"
    assert _post(simulator, path, _signed(path, secretKey="wrong"))["rspcod"] == "InvalidUsrOrPwd"
    assert _post(simulator, path, _signed(path, sign="WRONGSIGN"))["rspcod"] == "IllegalSignId"
    no_serial = {k: v for k, v in _signed(path).items() if k != "addSerial"}
    assert _post(simulator, path, no_serial) == {"msgGroup": "", "rspcod": "InvalidUsrOrPwd", "success": False}
    assert _post(simulator, path, _signed(path, mobiles=",".join(["13800138000"] * 5001)))["rspcod"] == "TooManyMobiles"
    assert _post(simulator, path, _signed(path, mobiles="1380013800"))["rspcod"] == "InvalidMobile"
    assert _post(simulator, path, b"not base64!")["rspcod"] == "InvalidMessage"
    nosecret = {k: v for k, v in _signed(path).items() if k != "secretKey"}  # the HTTPS doc form
    assert _post(simulator, path, nosecret)["rspcod"] == "success"
    assert len(simulator.state.accepted) == 2


def test_tmpsubmit_mac_is_over_the_template_fields_in_their_order(simulator):
    good = _signed("/sms/tmpsubmit")
    fields = _fields("/sms/tmpsubmit")
    assert good["mac"] == VECTORS["MAS-TMP-1"]["mac"]  # the golden vector, accepted as it is
    assert _post(simulator, "/sms/tmpsubmit", json.loads(VECTORS["MAS-TMP-1"]["json"]))["rspcod"] == "success"
    # A client that hashes the norsubmit order (no templateId, params where content goes) is refused.
    wrong_order = compute_mac({**fields, "content": fields["params"]}, NORMAL_FIELDS)
    assert _post(simulator, "/sms/tmpsubmit", {**good, "mac": wrong_order})["rspcod"] == "IllegalMac"
    # templateId moved after mobiles: same characters, different order.
    swapped = compute_mac(fields, ("ecName", "apId", "secretKey", "mobiles", "templateId", "params", "sign",
                                   "addSerial"))
    assert _post(simulator, "/sms/tmpsubmit", {**good, "mac": swapped})["rspcod"] == "IllegalMac"
    # The pitfall: params hashed as Python's default json.dumps but sent compact.
    pitfall = VECTORS["MAS-TMP-1"]["pitfall_mac_if_python_default"]
    assert _post(simulator, "/sms/tmpsubmit", {**good, "mac": pitfall})["rspcod"] == "IllegalMac"
    # params must be a string holding a JSON array, never a real array; a missing templateId is a missing key.
    assert _post(simulator, "/sms/tmpsubmit", {**good, "params": ["张三", "2024-05-22"]})["rspcod"] == "InvalidMessage"
    assert _post(simulator, "/sms/tmpsubmit", _signed("/sms/tmpsubmit", params="张三"))["rspcod"] == "InvalidMessage"
    no_template = {k: v for k, v in good.items() if k != "templateId"}
    assert _post(simulator, "/sms/tmpsubmit", no_template)["rspcod"] == "InvalidUsrOrPwd"
    assert _post(simulator, "/sms/tmpsubmit", _signed("/sms/tmpsubmit", templateId=""))["rspcod"] == "InvalidMessage"
    novars = VECTORS["MAS-TMP-2-novars"]
    assert _post(simulator, "/sms/tmpsubmit", json.loads(novars["json"]))["rspcod"] == "success"
    accepted = simulator.state.accepted
    assert [(a["path"], a["templateId"], a["params"]) for a in accepted] == [
        ("/sms/tmpsubmit", TMP["templateId"], TMP["params"]),
        ("/sms/tmpsubmit", novars["inputs"]["templateId"], '[""]'),
    ]


@pytest.fixture
def gateway_template(db):
    return MessageTemplate.objects.create(
        code="deadline", name="申报提醒", body="{name}您好，请于{date}前完成申报。", sign_text="【示范县税务局】",
        mas_template_id=TMP["templateId"],
    )


@pytest.mark.django_db
def test_dispatcher_sends_gateway_templates_by_tmpsubmit(mas_settings, gateway_template):
    plain = MessageTemplate.objects.create(code="plain", name="普通", body="{name}您好", sign_text="")
    recipients = [Recipient("13800138000", {"name": "张三", "date": "2024-05-22"}),
                  Recipient("13900139000", {"name": "张三", "date": "2024-05-22"}),
                  Recipient("13700137000", {"name": "李四", "date": "2024-05-22"})]
    sms_batch_enqueue(name="模板", template=gateway_template, recipients=recipients, key_prefix="tmp")
    sms_enqueue(to="13600136000", template=plain, variables={"name": "王五"}, idempotency_key="plain:1")
    row = SmsMessage.objects.get(recipient="13800138000")
    assert (row.gateway_template_id, row.template_params) == (TMP["templateId"], TMP["params"])
    assert row.text == "张三您好，请于2024-05-22前完成申报。【示范县税务局】"  # what the officer sees

    summary = dispatch.run(backend=get_backend())
    assert summary["accepted"] == 4 and summary["sent_requests"] == 3
    sent = sorted(((a["path"], a.get("templateId"), a.get("params"), tuple(a["mobiles"]))
                   for a in mas_settings.state.accepted), key=str)
    assert sent == sorted([
        ("/sms/tmpsubmit", TMP["templateId"], TMP["params"], ("13800138000", "13900139000")),
        ("/sms/tmpsubmit", TMP["templateId"], '["李四","2024-05-22"]', ("13700137000",)),
        ("/sms/norsubmit", None, None, ("13600136000",)),
    ], key=str)
    with mas_settings.state.lock:
        reports = list(mas_settings.state.pending_reports)
    record_reports(items=reports)
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db
@override_settings(SMS_QUIET_HOURS="")
def test_console_backend_sends_the_rendered_text_and_resend_keeps_the_template(gateway_template):
    row = sms_enqueue(to="13800138000", template=gateway_template, variables={"name": "张三", "date": "5月22日"},
                      idempotency_key="c1")
    sent = []

    class Recorder(type(get_backend("console"))):
        def send(self, mobiles, text):
            sent.append((mobiles, text))
            return super().send(mobiles, text)

    dispatch.run(backend=Recorder())
    assert sent == [(["13800138000"], "张三您好，请于5月22日前完成申报。【示范县税务局】")]
    SmsMessage.objects.filter(pk=row.pk).update(status="failed", error_code="IllegalSignId")
    row.refresh_from_db()
    resent = sms_resend(message=row)
    assert (resent.gateway_template_id, resent.template_params, resent.resend_of_id) == (
        TMP["templateId"], '["张三","5月22日"]', row.pk)


@pytest.mark.django_db
@override_settings(SMS_QUIET_HOURS="")
def test_a_wrong_template_mac_fails_the_rows_with_the_gateway_code(mas_settings, gateway_template, monkeypatch):
    from notify.backends import mas

    real = mas.compute_mac
    # A client that signs template requests with the ordinary rule.
    monkeypatch.setattr(mas, "compute_mac", lambda fields, order: real({**fields, "content": fields["params"]},
                                                                       NORMAL_FIELDS)
                        if order == TEMPLATE_FIELDS else real(fields, order))
    sms_enqueue(to="13800138000", template=gateway_template, variables={"name": "张三", "date": "5月22日"},
                idempotency_key="m1")
    dispatch.run(backend=get_backend())
    row = SmsMessage.objects.get()
    assert (row.status, row.error_code) == ("failed", "IllegalMac")
    assert mas_settings.state.accepted == [] and mas_settings.state.rejected == ["IllegalMac"]


@pytest.mark.parametrize("in_body", [False, True])
def test_the_secret_key_travels_in_the_body_only_when_configured(mas_settings, settings, in_body):
    """By default only the mac carries the secret; ``MAS_SECRET_IN_BODY`` adds it for accounts that demand it.
    The simulator accepts both forms, as it checks the mac with the account's own secret."""
    settings.MAS_SECRET_IN_BODY = in_body
    assert get_backend().send(["13800138000"], "您好").msg_group
    assert mas_settings.state.accepted[-1]["secret_in_body"] is in_body
