"""Maps our ``ApplicationError`` to HTTP once, for every DRF endpoint."""

from django.http import Http404
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.code, "message": exc.message, **exc.extra}, status=exc.status_code)
    if isinstance(exc, Http404):
        # The selectors' messages are for developers (English); the client gets DRF's Chinese "未找到。".
        exc = NotFound()
    return drf_exception_handler(exc, context)
