"""Passwords: the length rule in Chinese, and the temporary passwords of a reset (accounts/services.py).

Django's zh-hans catalog has only the singular of ``MinimumLengthValidator``'s messages (Chinese has no plural,
but gettext still looks the plural form up), so with ``min_length=10`` the officer read English. The other three
validators of ``AUTH_PASSWORD_VALIDATORS`` are translated by Django's catalog; the tests check all four.
"""

import secrets

from django.contrib.auth import password_validation
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """``MinimumLengthValidator`` with its messages in Chinese whatever the catalog holds."""

    def get_error_message(self):
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self):
        return f"密码至少包含 {self.min_length} 个字符。"


# No 0/O, 1/l/I: the temporary password is read aloud or copied from the screen by hand.
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_DIGITS = "23456789"
TEMPORARY_LENGTH = 12


def temporary_password(user=None) -> str:
    """A random password (``secrets``) of letters of both cases and digits that passes the validators.

    Shown once to the person whose action made the reset take effect; only its hash is stored."""
    alphabet = _UPPER + _LOWER + _DIGITS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(TEMPORARY_LENGTH))
        if not all(any(c in chars for c in candidate) for chars in (_UPPER, _LOWER, _DIGITS)):
            continue
        try:
            password_validation.validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
