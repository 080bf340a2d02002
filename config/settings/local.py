"""The embedded demo: SQLite, the filesystem broker. Never for production.

DEBUG stays off so a demo user meets the bureau's own 404/500 pages, not Django's technical ones that
list every route; set DJANGO_DEBUG=True when developing. WhiteNoise serves the assets either way.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-demo-only-not-a-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
