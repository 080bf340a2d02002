"""The test suite: real PostgreSQL (DATABASE_URL) and real Redis (REDIS_URL), set by ``make test``."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
AXES_FAILURE_LIMIT = 3
# The suite signs in and calls the API far faster than a person; the throttle tests set their own rates.
API_THROTTLE_RATES = {"sign_in": "10000/min", "api_user": "100000/min", "api_anon": "10000/min"}
IMPORT_INLINE_MAX_BYTES = 256 * 1024
DATABASES["default"]["CONN_MAX_AGE"] = 0
SCREENING_WORKERS = 1  # tests run inside a transaction other connections cannot see; one test runs two
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
