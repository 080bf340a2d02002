"""The words officers read for notify's codes (every code goes through one label table).

A message's ``error_code`` is either ours (set when a row is refused, cancelled or retried: never shown, the
officer reads its Chinese label) or the gateway's / a carrier's (``IllegalSignId``, ``UNDELIV``, ``CM:2007``):
those are data an officer may need when calling the platform, so they are shown, but only after their meaning.
"""

import re

from .backends.mas import RSPCOD

# Our own codes (notify.services, notify.dispatch, notify.backends).
ERROR_LABELS = {
    "invalid_mobile": "手机号码无效",
    "empty_text": "短信内容为空",
    "text_too_long": "短信内容超过字数上限",
    "missing_variable": "模板变量缺失",
    "template_inactive": "模板已停用",
    "opted_out": "号码已退订",
    "unknown_outcome": "发送结果未知（网关未回执，也无状态报告），未自动重发，请核实后决定是否重发",
    "resent_after_unknown": "网关未回执且无状态报告，已重新发送",
    "gateway_timeout": "网关响应超时，发送结果未知",
    "gateway_unreachable": "无法连接短信网关",
    "gateway_connection_lost": "与短信网关的连接中断",
    "gateway_bad_answer": "网关返回内容无法解析，发送结果未知",
    "empty_rspcod": "网关未返回结果代码",
}

# The carriers' status words in delivery reports; platform codes (CM:xxxx, DB:xxxx) have
# no public table and are shown as "未送达" with the code.
REPORT_STATS = {
    "EXPIRED": "超过有效期仍未送达（手机长时间关机或不在服务区）",
    "DELETED": "短信被运营商删除",
    "UNDELIV": "无法送达（空号、停机或关机等）",
    "ACCEPTD": "运营商已接收，未确认送达",
    "UNKNOWN": "运营商未返回送达结果",
    "REJECTD": "被运营商拒收",
}
_HTTP = re.compile(r"http_(\d{3})")
_ENGLISH = re.compile(r"[A-Za-z]{3,}")


def report_error_message(code: str) -> str:
    """The ``error_message`` of a failed delivery report: its meaning in Chinese (the code stays in ``error_code``)."""
    return f"状态报告：{REPORT_STATS.get(code.upper(), '未送达')}"


def error_text(code: str, message: str = "") -> str:
    """What an officer reads for a message's error: ``号码已退订``, ``无效的签名编码（网关代码 IllegalSignId）``."""
    code, message = (code or "").strip(), (message or "").strip()
    clean = message if message and not _ENGLISH.search(message.replace("MAS", "")) else ""
    if not code:
        return clean
    if code in ERROR_LABELS:
        return clean or ERROR_LABELS[code]
    if match := _HTTP.fullmatch(code):
        status = match.group(1)
        return f"短信网关{'服务异常' if status.startswith('5') else '拒绝请求'}（状态码 {status}）"
    if code in RSPCOD:
        return f"{RSPCOD[code][1]}（网关代码 {code}）"
    if code.upper() in REPORT_STATS:
        return f"状态报告：{REPORT_STATS[code.upper()]}（状态码 {code}）"
    if clean.startswith("状态报告"):
        return f"{clean}（状态码 {code}）"
    return f"{clean or '网关返回未知代码'}（网关代码 {code}）"
