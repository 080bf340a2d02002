"""The token endpoint of the API, and its revocation at sign-out (accounts.api_auth has the rules)."""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from .api_auth import SignInRateThrottle, token_expires_at
from .api_schema import ERROR_HEADERS, ErrorDetailSerializer, ValidationErrorsSerializer, bad_request, error_responses


class ApiTokenView(APIView):
    """POST username and password: a fresh token (any earlier one of the user stops working)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [SignInRateThrottle]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer(
                "ApiToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
            ),
            **error_responses(
                400,
                415,
                429,
                body_400=bad_request(ValidationErrorsSerializer, ErrorDetailSerializer, component_name="TokenRefused"),
                description_400=(
                    "用户名或密码不正确、密码已被重置须先在网站修改、缺少字段（各字段的错误），或请求体无法解析（detail）"
                ),
                description_429="登录尝试过于频繁，请于 Retry-After 秒后重试",
            ),
        },
        parameters=ERROR_HEADERS,
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if user.must_change_password:  # a temporary password someone else has seen opens the web site only
            raise serializers.ValidationError({"non_field_errors": ["请先登录网站修改临时密码，再获取令牌。"]})
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})


@receiver(user_logged_out, dispatch_uid="accounts.revoke_api_tokens")
def revoke_api_tokens(sender, request, user, **kwargs):
    """Signing out ends the API session too: the token cannot outlive the person's working session."""
    if user is not None:
        Token.objects.filter(user=user).delete()
