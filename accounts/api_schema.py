"""The API's error responses in the schema (drf-spectacular), documented once, as the views send them.

Three bodies, each a component of the schema:

- ``ErrorDetail`` ``{"detail": "…"}``: DRF's own refusals — 401 (no token, an unknown or expired one), 403 (the
  caller's role may not), 404 (outside the caller's branches, a page past the end, an address the API does not
  have), 415 (a body without a content type the API reads), 429 (the rate limits of ``accounts.api_auth``), and a
  400 for a body that does not parse.
- ``ValidationErrors`` ``{"字段": ["错误", …]}``: a serializer refused the request body or a parameter.
- ``ApiError`` ``{"error", "message", …}``: a rule of our services refused (``accounts.api_errors``); ``field`` and
  ``errors`` come with some codes.

``error_responses(401, 403, …)`` gives the ``responses`` of an ``extend_schema`` for those codes, and
``ERROR_HEADERS`` its ``parameters``: the ``WWW-Authenticate`` of a 401 and the ``Retry-After`` of a 429.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="给用户看的中文说明")


class ApiErrorSerializer(serializers.Serializer):
    error = serializers.CharField(
        help_text="错误代码，如 invalid_filters、unknown_taxpayer、claim_refused、duplicate_application"
    )
    message = serializers.CharField(help_text="给用户看的中文说明")
    field = serializers.CharField(required=False, help_text="claim_refused：被拒绝的字段（claimed_amount）")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="invalid_filters：各筛选条件的错误",
    )


class ValidationErrorsSerializer(serializers.Serializer):
    """Schema only: the body DRF sends for a ``ValidationError``, one list of messages per field."""


class _ValidationErrorsSchema(OpenApiSerializerExtension):
    target_class = ValidationErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "各字段的错误：字段名 → 中文错误说明的列表；与字段无关的错误在 non_field_errors。",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }


def bad_request(*bodies: type[serializers.Serializer], component_name: str) -> PolymorphicProxySerializer:
    """A 400 that may come in more than one of the bodies above (exactly one of them matches a given error)."""
    return PolymorphicProxySerializer(
        component_name=component_name, serializers=list(bodies), resource_type_field_name=None, many=False
    )


_DESCRIPTIONS = {
    400: "请求有误",
    401: "未提供令牌，或令牌无效、已过期（重新 POST /api/token/ 获取）",
    403: "本人岗位无权使用此接口",
    404: "不存在或不在本人权限范围内",
    409: "与已有数据冲突",
    415: "请求体的媒体类型不受支持：应为 application/json、application/x-www-form-urlencoded 或 multipart/form-data",
    429: "请求过于频繁，请于 Retry-After 秒后重试",
}
_BODIES = dict.fromkeys((401, 403, 404, 415, 429), ErrorDetailSerializer)


def error_responses(*codes: int, **bodies) -> dict[int, OpenApiResponse]:
    """``responses`` for the error ``codes``; a code's body or description may be given as ``body_400=``,
    ``description_404=`` (the default bodies: ``ErrorDetail``, ``ApiError`` for a 409)."""
    responses = {}
    for code in codes:
        body = bodies.get(f"body_{code}", _BODIES.get(code, ApiErrorSerializer))
        description = bodies.get(f"description_{code}", _DESCRIPTIONS[code])
        responses[code] = OpenApiResponse(response=body, description=description)
    return responses


ERROR_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        response=[401],
        required=True,
        description="认证方式：Token",
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=[429],
        description="多少秒后可以再次请求",
    ),
]
