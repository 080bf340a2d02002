import re

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .client_ip import client_ip
from .request_context import bind_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's ``X-Request-ID`` when well-formed) for logs and audit rows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else None
        with bind_request_id(request_id, ip_address=client_ip(request)) as ctx:
            request.request_id = ctx.request_id
            response = self.get_response(request)
            response["X-Request-ID"] = ctx.request_id
            return response


class PasswordChangeRequiredMiddleware:
    """Until a user whose password was reset (``must_change_password``) sets their own, every page sends them to
    修改密码: the temporary password was seen by someone else (accounts/services.py).

    Signing out and the change page itself stay open; the API answers 403 (a token cannot be had meanwhile,
    ``accounts.api``); static files and the health check are not pages.
    """

    OPEN_PREFIXES = ("/static/", "/media/", "/health/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(self.OPEN_PREFIXES):  # those need no user loaded
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.must_change_password:
                refusal = self._refusal(request)
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    def _refusal(self, request):
        path = request.path_info
        change = reverse("accounts:password_change")
        if path in (change, reverse("accounts:logout")):
            return None
        if path.startswith("/api/"):
            return JsonResponse(
                {"detail": "请先登录网站修改临时密码。"}, status=403, json_dumps_params={"ensure_ascii": False}
            )
        if request.headers.get("HX-Request") == "true":
            return HttpResponse(status=204, headers={"HX-Redirect": change})
        return redirect(change)
