"""A local 云MAS simulator for tests, the demo and the benchmark (loopback only).

It checks requests the way the platform does: base64 body, JSON, every key present
(``addSerial`` included), credentials, ``mac``, sign code, ≤ 5000 numbers, number format — the same
checks for ``/sms/norsubmit`` (mac over ecName apId secretKey mobiles content sign addSerial) and
``/sms/tmpsubmit`` (mac over ecName apId secretKey templateId mobiles params sign addSerial; ``params`` a
string holding a JSON array). It records what it accepted (tests count duplicates), can inject
failures, pushes delivery reports, and serves the pull variant at most once per 5 s.

Control endpoint (JSON): ``POST /_control/faults`` with any of
``{"rspcod": "IllegalMac", "http_status": 500, "timeout": 2.0, "delay": 0.5, "count": 3, "rate": 0.05,
"undeliverable": ["13800138000"]}``; ``GET /_control/accepted``; ``POST /_control/reset``.
"""

import base64
import binascii
import hashlib
import json
import random
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NORMAL_FIELDS = ("ecName", "apId", "secretKey", "mobiles", "content", "sign", "addSerial")
TEMPLATE_FIELDS = ("ecName", "apId", "secretKey", "templateId", "mobiles", "params", "sign", "addSerial")
MAX_MOBILES = 5000
MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass
class Faults:
    rspcod: str = ""  # answer this code instead of checking
    http_status: int = 0  # answer this HTTP status (e.g. 500) without accepting
    timeout: float = 0.0  # sleep this long before answering (client times out); the request is NOT accepted
    delay: float = 0.0  # slow answer: sleep, then accept normally
    count: int = 0  # apply rspcod/http_status/timeout to this many requests (0 = until reset)
    rate: float = 0.0  # with rate > 0: apply rspcod/http_status to this fraction of requests at random
    undeliverable: set = field(default_factory=set)  # numbers whose report says UNDELIV


class _Refused(Exception):
    """A request the platform answers with ``rspcod`` instead of accepting it."""

    def __init__(self, rspcod: str):
        super().__init__(rspcod)
        self.rspcod = rspcod


def _decode(body: bytes) -> dict:
    """The body is base64 of a JSON object."""
    try:
        data = json.loads(base64.b64decode(body.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _Refused("InvalidMessage") from None
    if not isinstance(data, dict):
        raise _Refused("InvalidMessage")
    return data


def _mobiles(value: str) -> list[str]:
    """Comma-separated numbers: at least one, at most ``MAX_MOBILES``, each a mobile number."""
    mobiles = value.split(",") if value else []
    if len(mobiles) > MAX_MOBILES:
        raise _Refused("TooManyMobiles")
    if not mobiles or not all(MOBILE.match(m) for m in mobiles):
        raise _Refused("InvalidMobile")
    return mobiles


def _check_content(fields: dict, order: tuple[str, ...]) -> None:
    """norsubmit needs a text; tmpsubmit a template id and ``params``, a JSON array of strings, not empty."""
    if "content" in order and not fields["content"]:
        raise _Refused("InvalidMessage")
    if "params" not in order:
        return
    if not fields["templateId"]:
        raise _Refused("InvalidMessage")
    try:
        params = json.loads(fields["params"])
    except ValueError:
        raise _Refused("InvalidMessage") from None
    if not isinstance(params, list) or not params or not all(isinstance(p, str) for p in params):
        raise _Refused("InvalidMessage")


class SimulatorState:
    def __init__(self, *, ec_name, ap_id, secret_key, sign, report_url="", seed=None):
        self.ec_name, self.ap_id, self.secret_key, self.sign = ec_name, ap_id, secret_key, sign
        self.report_url = report_url
        self.lock = threading.Lock()
        self.faults = Faults()
        # {"msgGroup", "mobiles": [...], "content", "path"} (+ "templateId", "params" for tmpsubmit)
        self.accepted: list[dict] = []
        self.requests = 0
        self.rejected: list[str] = []
        self.pending_reports: list[dict] = []  # for the pull variant
        self.last_pull = 0.0
        self.pull_interval = 5.0  # 云MAS: one report pull per 5 s; a faster pull gets nothing
        self.pull_times: list[float] = []  # monotonic time of every authenticated pull request
        self.sequence = 0
        self.random = random.Random(seed)

    # --- faults ------------------------------------------------------------------
    def set_faults(self, **values):
        with self.lock:
            faults = Faults()
            for key, value in values.items():
                if key == "undeliverable":
                    value = set(value)
                setattr(faults, key, value)
            self.faults = faults

    def _take_fault(self) -> Faults | None:
        """Decide under the lock whether this request gets the injected failure."""
        with self.lock:
            faults = self.faults
            if not (faults.rspcod or faults.http_status or faults.timeout):
                return None
            if faults.rate:
                return faults if self.random.random() < faults.rate else None
            if faults.count:
                faults.count -= 1
                if faults.count == 0:
                    self.faults = Faults(delay=faults.delay, undeliverable=faults.undeliverable)
            return faults

    # --- checks ------------------------------------------------------------------
    def check(self, path: str, body: bytes) -> tuple[str, dict | None]:
        """``("success", item)`` for a request the platform would take, else ``(rspcod, None)``; the checks in
        the platform's order: the body, the credentials and ``mac``, the sign code, the numbers, the content."""
        order = TEMPLATE_FIELDS if path.endswith("tmpsubmit") else NORMAL_FIELDS
        try:
            data = _decode(body)
            fields = self._authenticated(data, order)
            mobiles = _mobiles(fields["mobiles"])
            _check_content(fields, order)
        except _Refused as refused:
            return refused.rspcod, None
        item = {
            "mobiles": mobiles,
            "content": fields.get("content") or fields.get("params"),
            "path": path,
            "secret_in_body": "secretKey" in data,
        }
        if "params" in order:
            item.update(templateId=fields["templateId"], params=fields["params"])
        return "success", item

    def _authenticated(self, data: dict, order: tuple[str, ...]) -> dict:
        """The request's fields once every key is there as text, the credentials match, ``mac`` is right (over
        the fields in ``order``) and so is the sign code."""
        fields = dict(data)
        if "secretKey" not in fields:  # the HTTPS doc form: the secret is only inside the mac
            fields["secretKey"] = self.secret_key
        if any(key not in fields for key in order) or "mac" not in fields:
            raise _Refused("InvalidUsrOrPwd")
        if not all(isinstance(fields[key], str) for key in (*order, "mac")):
            raise _Refused("InvalidMessage")
        if (fields["ecName"], fields["apId"], fields["secretKey"]) != (self.ec_name, self.ap_id, self.secret_key):
            raise _Refused("InvalidUsrOrPwd")
        expected = hashlib.md5("".join(fields[key] for key in order).encode("utf-8"), usedforsecurity=False).hexdigest()
        if fields["mac"] != expected:
            raise _Refused("IllegalMac")
        if fields["sign"] != self.sign:
            raise _Refused("IllegalSignId")
        return fields

    def accept(self, item: dict) -> str:
        now = datetime.now()
        with self.lock:
            self.sequence += 1
            msg_group = now.strftime("%m%d%H%M%S") + f"{self.sequence:012d}"
            record = {"msgGroup": msg_group, **item}
            self.accepted.append(record)
            undeliverable = set(self.faults.undeliverable)
        submit = now.strftime("%Y%m%d%H%M%S")
        reports = [
            {
                "reportStatus": "CM:0000" if mobile not in undeliverable else "UNDELIV",
                "mobile": mobile,
                "submitDate": submit,
                "receiveDate": submit,
                "errorCode": "DELIVRD" if mobile not in undeliverable else "CM:2007",
                "msgGroup": msg_group,
            }
            for mobile in item["mobiles"]
        ]
        with self.lock:
            self.pending_reports.extend(reports)
        if self.report_url:
            threading.Thread(target=self._push, args=(reports,), daemon=True).start()
        return msg_group

    def _push(self, reports: list[dict]):
        for start in range(0, len(reports), 1000):
            chunk = reports[start : start + 1000]
            payload = chunk[0] if len(chunk) == 1 else chunk
            request = urllib.request.Request(  # noqa: S310 (loopback URL from the test)
                self.report_url,
                data=json.dumps(payload).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            for _ in range(5):
                try:
                    urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 (loopback URL from the test)
                    break
                except OSError:
                    time.sleep(0.5)

    def accepted_counts(self) -> dict[str, int]:
        """How many times each number was accepted (a value > 1 is a duplicate send)."""
        counts: dict[str, int] = {}
        with self.lock:
            for record in self.accepted:
                for mobile in record["mobiles"]:
                    counts[mobile] = counts.get(mobile, 0) + 1
        return counts


class _Handler(BaseHTTPRequestHandler):
    server_version = "MasSimulator/1.0"
    state: SimulatorState  # set per server class

    def log_message(self, format, *args):
        pass

    def _json(self, status: int, payload):
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client went away (timed out or was killed): what we accepted stays accepted

    def do_GET(self):
        state = self.server.state
        if self.path == "/_control/accepted":
            with state.lock:
                self._json(200, {"accepted": list(state.accepted), "requests": state.requests})
            return
        self._json(404, {"error": "not found"})

    def do_POST(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/_control/"):
            self._control(state, body)
            return
        if self.path == "/sms/report":
            self._pull(state, body)
            return
        if self.path not in ("/sms/norsubmit", "/sms/submit", "/sms/tmpsubmit"):
            self._json(404, {"error": "not found"})
            return
        with state.lock:
            state.requests += 1
            delay = state.faults.delay
        fault = state._take_fault()
        if fault and fault.timeout:
            time.sleep(fault.timeout)
            self._json(504, {"error": "timeout"})
            return
        if fault and fault.http_status:
            self._json(fault.http_status, {"error": "injected"})
            return
        if fault and fault.rspcod:
            self._json(200, {"msgGroup": "", "rspcod": fault.rspcod, "success": False})
            return
        rspcod, item = state.check(self.path, body)
        if rspcod != "success":
            with state.lock:
                state.rejected.append(rspcod)
            self._json(200, {"msgGroup": "", "rspcod": rspcod, "success": False})
            return
        if delay:
            time.sleep(delay)  # the platform is slow but takes the batch (a killed client still counts)
        msg_group = state.accept(item)
        key = "mgsGroup" if self.path.endswith("tmpsubmit") else "msgGroup"
        self._json(200, {key: msg_group, "rspcod": "success", "success": True})

    def _pull(self, state: SimulatorState, body: bytes):
        try:
            creds = json.loads(base64.b64decode(body, validate=True).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            self._json(200, {"rspcod": "InvalidMessage"})
            return
        if (creds.get("ecName"), creds.get("apId"), creds.get("secretKey")) != (
            state.ec_name,
            state.ap_id,
            state.secret_key,
        ):
            self._json(200, {"rspcod": "InvalidUsrOrPwd"})
            return
        with state.lock:
            now = time.monotonic()
            state.pull_times.append(now)
            if now - state.last_pull < state.pull_interval:
                self._json(200, [])  # more than one pull per 5 s gets nothing
                return
            state.last_pull = now
            batch, state.pending_reports = state.pending_reports[:1000], state.pending_reports[1000:]
        self._json(200, batch)

    def _control(self, state: SimulatorState, body: bytes):
        command = self.path.removeprefix("/_control/")
        values = json.loads(body or b"{}")
        if command == "faults":
            state.set_faults(**values)
        elif command == "reset":
            with state.lock:
                state.accepted.clear()
                state.rejected.clear()
                state.requests = 0
                state.faults = Faults()
        elif command == "report_url":
            state.report_url = values.get("url", "")
        else:
            self._json(404, {"error": "unknown command"})
            return
        self._json(200, {"ok": True})


class MasSimulator:
    """In-process server: ``with MasSimulator(...) as sim: sim.base_url``. Binds 127.0.0.1 only."""

    # A synthetic test account (the one of the golden vectors, notify/tests/data/golden.json), never a real one.
    def __init__(
        self, *, port=0, ec_name="某某市税务局", ap_id="swj_notice", secret_key="Test#2024",  # noqa: S107
        sign="AbCdEfG12", report_url="", seed=None,
    ):
        self.state = SimulatorState(
            ec_name=ec_name, ap_id=ap_id, secret_key=secret_key, sign=sign, report_url=report_url, seed=seed
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.state = self.state
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
