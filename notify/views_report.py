"""POST /notify/mas/report/<token>/ — delivery reports pushed by 云MAS (plain JSON, one report or a list).

The platform signs nothing (no signature, source address or retry rule is documented for pushed reports): the
secret path token is the only check, and log lines never
show it (config/redaction.py). With the right token the body is still untrusted: its size, nesting and count
of reports are bounded, numbers must be finite, and each report is stored or rejected on its own.
"""

import hmac
import json

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import record_reports

MAX_BODY_BYTES = 512 * 1024
MAX_REPORTS = 1000  # the gateway pushes a few hundred at most per request
MAX_DEPTH = 4  # a list of objects whose values are plain: deeper bodies are not reports


def _refuse(status: int, error: str, message: str) -> JsonResponse:
    return JsonResponse({"success": False, "error": error, "message": message}, status=status)


def _not_finite(constant: str):
    raise ValueError(f"{constant} is not a number")


def _depth(value, limit: int, level: int = 1) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (checked without recursion past the limit)."""
    if level > limit:
        return False
    if isinstance(value, dict):
        return all(_depth(v, limit, level + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth(v, limit, level + 1) for v in value)
    return True


@csrf_exempt
@require_POST
def mas_report(request, token: str):
    expected = settings.MAS_REPORT_TOKEN
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        return _refuse(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8") or "null", parse_constant=_not_finite)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _refuse(400, "invalid_json", "the body is not JSON of finite values")
    if not _depth(payload, MAX_DEPTH):
        return _refuse(400, "too_deep", f"reports nest at most {MAX_DEPTH} levels")
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > MAX_REPORTS:
        return _refuse(413, "too_many", f"at most {MAX_REPORTS} reports per request")
    if not any(isinstance(item, dict) for item in items):
        return _refuse(400, "no_reports", "expected an object or a list of objects")
    result = record_reports(items=items)
    return JsonResponse({"success": True, **result})
