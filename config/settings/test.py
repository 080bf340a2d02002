"""The test suite: real PostgreSQL (DATABASE_URL) and real Redis (REDIS_URL), set by ``make test``."""

import os
from urllib.parse import urlsplit, urlunsplit


def _redis_database_per_worker() -> None:
    """``make test`` runs the suite in pytest-xdist workers (gw0, gw1, …). Tests flush their Redis database and
    start Celery workers on it, so each xdist worker gets a database of its own (REDIS_URL's + 1 + its number);
    the processes a test starts inherit the choice through the environment and do not move it again."""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("REDIS_URL", "")
    if not (url and worker.startswith("gw")) or os.environ.get("TEST_REDIS_WORKER") == worker:
        return
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{(base + 1 + int(worker[2:])) % 16}"))
    os.environ["TEST_REDIS_WORKER"] = worker


_redis_database_per_worker()

from .base import *  # noqa: E402, F403
from .base import DATABASES, env  # noqa: E402

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
