"""Pure helpers for the gateway's delivery reports (状态报告), pushed or pulled: which fields a report must carry,
its dates read leniently, whether it says delivered, and its fingerprint. No ORM here; ``services.record_reports``
stores them.

A report has ``msgGroup`` and ``mobile`` (matched to the message sent), ``reportStatus``, ``errorCode``,
``submitDate`` and ``receiveDate`` (``yyyyMMddHHmmss``), the same in pushes and pulls.
"""

import hashlib
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_report_date(value) -> datetime | None:
    """``yyyyMMddHHmmss`` read leniently: hour 24 (seen in a real report) rolls over to the next day."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if len(digits) < 12:
        return None
    digits = digits.ljust(14, "0")[:14]
    try:
        year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
        hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
        base = datetime(year, month, day, tzinfo=SHANGHAI)
        if hour > 24 or minute > 59 or second > 60:
            return None
        return base + timedelta(hours=hour, minutes=minute, seconds=min(second, 59))
    except ValueError:
        return None


def report_is_delivered(item: dict) -> bool:
    """Delivered when either field says DELIVRD: the platform's documentation puts it in ``reportStatus``, but
    real reports carry it in ``errorCode`` (with ``reportStatus`` ``CM:0000``). Anything else is a failure code."""
    return str(item.get("errorCode", "")).upper() == "DELIVRD" or str(item.get("reportStatus", "")).upper() == "DELIVRD"


def report_fields(item) -> dict | None:
    """The fields of one pushed or pulled report, or None when it is not a report we can store."""
    if not isinstance(item, dict):
        return None
    values = {}
    for key, limit in (("msgGroup", 64), ("mobile", 32), ("reportStatus", 32), ("errorCode", 32)):
        value = item.get(key, "")
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        values[key] = str(value).strip()
        if len(values[key]) > limit:
            return None
    if not values["msgGroup"] or not values["mobile"]:
        return None
    return values


def report_fingerprint(item: dict) -> str:
    """The same report seen again (a replay, the gateway's retry) has the same fingerprint."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
