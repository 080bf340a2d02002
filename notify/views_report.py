"""POST /notify/mas/report/<token>/ — delivery reports pushed by 云MAS (plain JSON, one report or a list).

The platform signs nothing (protocols.md §1.7): the secret path token is the only check.
"""

import hmac
import json

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import record_reports


@csrf_exempt
@require_POST
def mas_report(request, token: str):
    expected = settings.MAS_REPORT_TOKEN
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    try:
        payload = json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return HttpResponseBadRequest("invalid json")
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        return HttpResponseBadRequest("expected an object or a list of objects")
    result = record_reports(items=items)
    return JsonResponse({"success": True, **result})
