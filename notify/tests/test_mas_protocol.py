"""The 云MAS request format against the golden vectors (data/golden.json): decode and compare, mac equality."""

import json

import pytest

from notify.backends import Outcome
from notify.backends.mas import (
    NORMAL_FIELDS,
    RSPCOD,
    TEMPLATE_FIELDS,
    MasBackend,
    build_body,
    compute_mac,
    decode_body,
    describe_rspcod,
    template_params,
)
from notify.tests.conftest import CREDENTIALS, GOLDEN

VECTORS = {v["id"]: v for v in GOLDEN["mas"]["vectors"]}


@pytest.mark.parametrize("vector_id", sorted(VECTORS))
def test_mac_matches_golden(vector_id):
    vector = VECTORS[vector_id]
    order = TEMPLATE_FIELDS if "templateId" in vector["inputs"] else NORMAL_FIELDS
    assert compute_mac(vector["inputs"], order) == vector["mac"]
    assert "".join(vector["inputs"][k] for k in order) == vector["mac_source"]


@pytest.mark.parametrize("vector_id", sorted(VECTORS))
def test_body_decodes_to_the_golden_json(vector_id):
    vector = VECTORS[vector_id]
    order = TEMPLATE_FIELDS if "templateId" in vector["inputs"] else NORMAL_FIELDS
    body = build_body(vector["inputs"], order, include_secret="nosecret" not in vector_id)
    decoded = decode_body(body)
    expected = json.loads(vector["json"])
    assert decoded == expected
    assert list(decoded) == list(expected)  # key order as the platform lists it, mac last
    assert b"\n" not in body
    if vector_id == "MAS-NOR-1":
        assert body.decode() == vector["base64"]  # our layout is the canonical compact one


def test_add_serial_always_sent_even_empty():
    decoded = decode_body(build_body(VECTORS["MAS-NOR-1"]["inputs"], NORMAL_FIELDS))
    assert decoded["addSerial"] == ""


def test_template_params_compact_string():
    tmp = VECTORS["MAS-TMP-1"]
    assert template_params(json.loads(tmp["inputs"]["params"])) == tmp["inputs"]["params"]
    assert template_params([]) == '[""]'
    assert compute_mac({**tmp["inputs"], "params": tmp["pitfall_params_python_default"]}, TEMPLATE_FIELDS) == tmp[
        "pitfall_mac_if_python_default"
    ]


def test_every_documented_rspcod_is_mapped_with_chinese_description():
    for code in ("IllegalMac", "IllegalSignId", "InvalidMessage", "InvalidUsrOrPwd", "NoSignId", "success",
                 "TooManyMobiles", "InvalidMobile"):
        outcome, text = RSPCOD[code]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert outcome == (Outcome.ACCEPTED if code == "success" else Outcome.PERMANENT)
    assert describe_rspcod("SomethingNew")[0] == Outcome.PERMANENT


def _backend(sim, **kw):
    conf = {**CREDENTIALS, "base_url": sim.base_url, "add_serial": "", "timeout": 1}
    conf.update(kw)
    return MasBackend(**conf)


def test_send_through_simulator_and_failures(simulator):
    backend = _backend(simulator)
    result = backend.send(["13800138000", "13900139000"], "您好，测试")
    assert result.accepted and len(result.msg_group) == 22
    assert simulator.state.accepted_counts() == {"13800138000": 1, "13900139000": 1}

    assert _backend(simulator, secret_key="wrong").send(["13800138000"], "x").code == "IllegalMac"
    wrong_in_body = _backend(simulator, secret_key="wrong", secret_in_body=True)
    assert wrong_in_body.send(["13800138000"], "x").code == "InvalidUsrOrPwd"
    assert _backend(simulator, sign="WRONG").send(["13800138000"], "x").code == "IllegalSignId"
    with pytest.raises(ValueError):
        backend.send(["13800138000"] * 5001, "x")

    simulator.state.set_faults(http_status=503, count=1)
    assert backend.send(["13800138000"], "x").outcome == Outcome.TRANSIENT
    simulator.state.set_faults(timeout=2.0, count=1)
    assert backend.send(["13800138000"], "x").outcome == Outcome.UNKNOWN
    simulator.state.set_faults(rspcod="NoSignId", count=1)
    assert backend.send(["13800138000"], "x").code == "NoSignId"
    assert backend.send(["13800138000"], "x").accepted  # the injected fault was used up
    assert _backend(simulator, base_url="http://127.0.0.1:9").send(["13800138000"], "x").outcome == Outcome.TRANSIENT


def test_simulator_checks_mac_and_limits(simulator):
    import base64
    import urllib.request

    fields = {"ecName": CREDENTIALS["ec_name"], "apId": CREDENTIALS["ap_id"], "secretKey": CREDENTIALS["secret_key"],
              "mobiles": "13800138000", "content": "hi", "sign": CREDENTIALS["sign"], "addSerial": ""}

    def post(payload: dict, path="/sms/norsubmit") -> dict:
        body = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode())
        request = urllib.request.Request(simulator.base_url + path, data=body, method="POST")  # noqa: S310
        return json.loads(urllib.request.urlopen(request, timeout=5).read())  # noqa: S310

    good = decode_body(build_body(fields, NORMAL_FIELDS))
    assert post(good)["rspcod"] == "success"
    assert post({**good, "mac": "0" * 32})["rspcod"] == "IllegalMac"
    no_serial = {k: v for k, v in good.items() if k != "addSerial"}
    assert post(no_serial) == {"msgGroup": "", "rspcod": "InvalidUsrOrPwd", "success": False}
    many = {**fields, "mobiles": ",".join(["13800138000"] * 5001)}
    assert post(decode_body(build_body(many, NORMAL_FIELDS)))["rspcod"] == "TooManyMobiles"
    request = urllib.request.Request(simulator.base_url + "/sms/norsubmit", data=b"not base64!", method="POST")  # noqa: S310
    assert json.loads(urllib.request.urlopen(request, timeout=5).read())["rspcod"] == "InvalidMessage"  # noqa: S310
    tmp = VECTORS["MAS-TMP-1"]
    with_tmp = MasBackend(base_url=simulator.base_url, ec_name=tmp["inputs"]["ecName"], ap_id=tmp["inputs"]["apId"],
                          secret_key=tmp["inputs"]["secretKey"], sign=tmp["inputs"]["sign"], add_serial="", timeout=2)
    simulator.state.ec_name, simulator.state.ap_id = tmp["inputs"]["ecName"], tmp["inputs"]["apId"]
    simulator.state.secret_key, simulator.state.sign = tmp["inputs"]["secretKey"], tmp["inputs"]["sign"]
    result = with_tmp.send_template(tmp["inputs"]["mobiles"].split(","), tmp["inputs"]["templateId"],
                                    json.loads(tmp["inputs"]["params"]))
    assert result.accepted and result.msg_group  # the answer's "mgsGroup" typo is accepted
    assert len(simulator.state.accepted) == 2
