"""Production: behind a TLS-terminating proxy, secrets and hosts from the environment only.

``manage.py check --deploy`` passes without warnings (tests/test_deploy.py).
"""

from django.core.exceptions import ImproperlyConfigured

from config.logging import configure_logging

from .base import *  # noqa: F403
from .base import DATABASES, LOG_LEVEL, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # required: no default in production
# The placeholders this repository ships (.env.example, the demo and test settings) sign nobody's session in
# production: a copied example or a short word is refused before the site starts.
_PLACEHOLDER_SECRETS = {"change-me", "changeme", "local-demo-only-not-a-secret", "test-only-not-a-secret", "secret"}
if SECRET_KEY.strip().lower() in _PLACEHOLDER_SECRETS or len(SECRET_KEY) < 40:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a placeholder or shorter than 40 characters; generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# Required here although base has embedded defaults: without them a container would
# silently keep data in a SQLite file and pass tasks through a folder no worker sees.
env("DATABASE_URL")
env("REDIS_URL")
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # persistent connections survive a database restart

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]  # probes speak plain HTTP inside the network
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# One JSON object per line for the log collector; base configured logging before this
# default could apply, so configure it again.
LOG_JSON = env.bool("LOG_JSON", default=True)
configure_logging(level=LOG_LEVEL, json=LOG_JSON)
