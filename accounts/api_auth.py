"""API tokens that expire and die at logout, and the rate limits of sign-in and the API.

A token is handed out by ``POST /api/token/`` and is good for ``API_TOKEN_TTL_HOURS`` from that moment (one
working day by default); asking again replaces it, and signing out of the web site deletes it. Rates are read
from ``API_THROTTLE_RATES`` each time, so an operator (and a test) can change them without a restart of the
module.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions, throttling
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .client_ip import client_ip


def token_expires_at(token: Token) -> dt.datetime:
    return token.created + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token …`` refused once the token is older than ``API_TOKEN_TTL_HOURS``."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            token.delete()
            raise exceptions.AuthenticationFailed("令牌已过期，请重新获取（POST /api/token/）。")
        if user.must_change_password:  # tokens die at a reset; this holds should one be made meanwhile
            raise exceptions.AuthenticationFailed("请先登录网站修改临时密码。")
        return user, token


class _SettingsRateThrottle(throttling.SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class SignInRateThrottle(_SettingsRateThrottle):
    """Sign-in attempts per client address (the web form and the token endpoint), whatever the username:
    lockout stops guessing one account, this stops trying many."""

    scope = "sign_in"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiUserRateThrottle(_SettingsRateThrottle):
    scope = "api_user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return self.cache_format % {"scope": "api_anon", "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
