"""China Mobile 云MAS over HTTP(S): ordinary (``/sms/norsubmit``) and template (``/sms/tmpsubmit``) sends.

Body = base64 of the compact UTF-8 JSON with keys in the platform's order; ``mac`` = lowercase MD5 of
the field values concatenated in that order; ``addSerial`` is always sent, even empty (an absent key is
answered with InvalidUsrOrPwd).
"""

import base64
import hashlib
import json
import logging
import socket
import urllib.error
import urllib.request

from django.conf import settings

from . import BaseBackend, Outcome, SendResult

logger = logging.getLogger(__name__)

NORMAL_FIELDS = ("ecName", "apId", "secretKey", "mobiles", "content", "sign", "addSerial")
TEMPLATE_FIELDS = ("ecName", "apId", "secretKey", "templateId", "mobiles", "params", "sign", "addSerial")
REPORT_FIELDS = ("ecName", "apId", "secretKey")
MAX_MOBILES = 5000

# rspcod → (outcome, description): the platform's documented codes. Unknown codes are permanent failures.
RSPCOD = {
    "success": (Outcome.ACCEPTED, "提交成功"),
    "IllegalMac": (Outcome.PERMANENT, "请求签名校验不通过（密钥或字段拼接有误）"),
    "IllegalSignId": (Outcome.PERMANENT, "无效的签名编码"),
    "InvalidMessage": (Outcome.PERMANENT, "非法消息，请求数据无法解析"),
    "InvalidUsrOrPwd": (Outcome.PERMANENT, "非法用户名/密码（或缺少字段）"),
    "NoSignId": (Outcome.PERMANENT, "未匹配到对应的签名信息"),
    "TooManyMobiles": (Outcome.PERMANENT, "手机号数量超过限制（5000）"),
    "InvalidMobile": (Outcome.PERMANENT, "手机号格式不正确"),
}
UNKNOWN_RSPCOD = "网关返回未知代码"


def describe_rspcod(code: str) -> tuple[str, str]:
    return RSPCOD.get(code, (Outcome.PERMANENT, UNKNOWN_RSPCOD))


def compute_mac(fields: dict, order: tuple[str, ...]) -> str:
    source = "".join(str(fields[key]) for key in order)
    return hashlib.md5(source.encode("utf-8"), usedforsecurity=False).hexdigest()


def build_body(fields: dict, order: tuple[str, ...], *, include_secret: bool = True) -> bytes:
    """The request body: base64 of the JSON object (keys in order, mac last), one unbroken line."""
    payload = {key: fields[key] for key in order if include_secret or key != "secretKey"}
    payload["mac"] = compute_mac(fields, order)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8"))


def decode_body(body: bytes | str) -> dict:
    return json.loads(base64.b64decode(body, validate=True).decode("utf-8"))


def template_params(values: list[str]) -> str:
    """``params`` is a *string* holding a compact JSON array; a template without variables takes [""]."""
    return json.dumps(list(values) or [""], ensure_ascii=False, separators=(",", ":"))


class MasBackend(BaseBackend):
    name = "mas"
    max_mobiles = MAX_MOBILES
    supports_templates = True

    def __init__(self, **overrides):
        conf = {
            "base_url": settings.MAS_BASE_URL,
            "ec_name": settings.MAS_EC_NAME,
            "ap_id": settings.MAS_AP_ID,
            "secret_key": settings.MAS_SECRET_KEY,
            "sign": settings.MAS_SIGN,
            "add_serial": settings.MAS_ADD_SERIAL,
            "timeout": settings.MAS_TIMEOUT_SECONDS,
            "secret_in_body": settings.MAS_SECRET_IN_BODY,
        }
        conf.update(overrides)
        self.conf = conf

    def _credentials(self) -> dict:
        return {"ecName": self.conf["ec_name"], "apId": self.conf["ap_id"], "secretKey": self.conf["secret_key"]}

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        url = self.conf["base_url"].rstrip("/") + path
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.conf["timeout"]) as response:  # noqa: S310 (configured URL)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read() or b""

    def send(self, mobiles: list[str], text: str) -> SendResult:
        if not 0 < len(mobiles) <= MAX_MOBILES:
            raise ValueError(f"1..{MAX_MOBILES} mobiles per request, got {len(mobiles)}")
        fields = {
            **self._credentials(),
            "mobiles": ",".join(mobiles),
            "content": text,
            "sign": self.conf["sign"],
            "addSerial": self.conf["add_serial"] or "",
        }
        body = build_body(fields, NORMAL_FIELDS, include_secret=self.conf["secret_in_body"])
        return self._submit("/sms/norsubmit", body)

    def send_template(self, mobiles: list[str], template_id: str, params: list[str]) -> SendResult:
        """``/sms/tmpsubmit``: the platform fills its registered template with ``params`` (sent as JSON array text)."""
        if not 0 < len(mobiles) <= MAX_MOBILES:
            raise ValueError(f"1..{MAX_MOBILES} mobiles per request, got {len(mobiles)}")
        fields = {
            **self._credentials(),
            "templateId": template_id,
            "mobiles": ",".join(mobiles),
            "params": template_params(params),
            "sign": self.conf["sign"],
            "addSerial": self.conf["add_serial"] or "",
        }
        body = build_body(fields, TEMPLATE_FIELDS, include_secret=self.conf["secret_in_body"])
        return self._submit("/sms/tmpsubmit", body)

    def _submit(self, path: str, body: bytes) -> SendResult:
        try:
            status, raw = self._post(path, body)
        except TimeoutError:
            return SendResult(Outcome.UNKNOWN, code="gateway_timeout", message="网关响应超时，发送结果未知")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                return SendResult(Outcome.UNKNOWN, code="gateway_timeout", message="网关响应超时，发送结果未知")
            # Connection refused / DNS: the request never reached the gateway. The system's reason goes to the log;
            # the officer reads Chinese (notify.labels).
            logger.warning("sms_gateway_unreachable", extra={"reason": str(exc.reason)})
            return SendResult(Outcome.TRANSIENT, code="gateway_unreachable",
                              message="无法连接短信网关（网络不通或网关地址有误）")
        except (ConnectionError, OSError) as exc:
            logger.warning("sms_gateway_connection_lost", extra={"reason": str(exc)})
            return SendResult(Outcome.UNKNOWN, code="gateway_connection_lost",
                              message="与短信网关的连接中断，发送结果未知")
        if status >= 500:
            return SendResult(Outcome.TRANSIENT, code=f"http_{status}", message=f"短信网关服务异常（状态码 {status}）")
        if status != 200:
            return SendResult(Outcome.PERMANENT, code=f"http_{status}", message=f"短信网关拒绝请求（状态码 {status}）")
        try:
            answer = json.loads(raw.decode("utf-8"))
            rspcod = str(answer.get("rspcod", ""))
        except (ValueError, AttributeError):
            return SendResult(Outcome.UNKNOWN, code="gateway_bad_answer", message="网关返回内容无法解析，发送结果未知")
        msg_group = str(answer.get("msgGroup") or answer.get("mgsGroup") or "")
        outcome, description = describe_rspcod(rspcod)
        if outcome == Outcome.ACCEPTED and answer.get("success") is False:
            outcome, description = Outcome.PERMANENT, UNKNOWN_RSPCOD
        return SendResult(outcome, msg_group=msg_group, code=rspcod or "empty_rspcod", message=description)

    def pull_reports(self) -> list[dict]:
        """HTTPS variant: POST /sms/report (at most one call per 5 s — the caller throttles)."""
        creds = self._credentials()
        payload = json.dumps(creds, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        status, raw = self._post("/sms/report", base64.b64encode(payload))
        if status != 200:
            raise ConnectionError(f"report pull answered HTTP {status}")
        data = json.loads(raw.decode("utf-8") or "[]")
        return data if isinstance(data, list) else [data]
