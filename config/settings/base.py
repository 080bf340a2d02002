"""Settings shared by every environment, read from the environment with django-environ.

The split follows the usual frame: ``local`` (the embedded demo), ``test`` (real
PostgreSQL and Redis), ``production`` (behind a proxy, secrets from the environment).
"""

from pathlib import Path

import environ

from config.logging import configure_logging

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: SQLite file, uploads, embedded broker, logs

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

BUREAU_NAME = env("BUREAU_NAME", default="示范县税务局")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "simple_history",
    "axes",
    "health_check",
    # our apps, lowest layer first (README.md's Layout: dependencies point one way, down this list)
    "core",
    "notify",
    "accounts",
    "taxpayers",
    "credit",
    "risk",
    "refund",
    "ledger",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.RequestIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "notify.context_processors.inbox",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jingjianda.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web, worker and beat on one file: WAL and IMMEDIATE transactions
    # keep concurrent writers waiting instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Ours: Django's zh-hans catalog lacks the plural of this one's messages (accounts/passwords.py).
    {"NAME": "accounts.passwords.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# A locked account stays locked for AXES_COOLOFF_TIME from the lock, whatever is tried meanwhile: otherwise anyone
# could keep an officer locked out for ever by trying every half hour. Lockout is per (username, address), so a
# stranger elsewhere cannot lock the officer's own desk out at all.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The real client behind the proxies (accounts/client_ip.py), for lockout and the audit log alike.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_VERBOSE = False  # one startup line per process is noise; lockouts are still logged
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- language and time --------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- static and uploads -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
# Files above this size are imported by a worker; smaller ones in the request.
IMPORT_INLINE_MAX_BYTES = env.int("IMPORT_INLINE_MAX_BYTES", default=256 * 1024)

# Screening (refund.screening.services): taxpayer-id ranges decided by one statement each, and how many run at once.
SCREENING_RANGE_SIZE = env.int("SCREENING_RANGE_SIZE", default=50_000)
SCREENING_WORKERS = env.int("SCREENING_WORKERS", default=2)

# --- cache --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------
# With REDIS_URL the broker is Redis; without it (the embedded demo) kombu's
# filesystem transport passes real messages between processes through var/broker.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control in the cwd
        "store_processed": False,
    }
    # kombu does not create these; web, worker and beat may start in any order.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Above the longest countdown/ETA we ever schedule (TASK_MAX_DELAY_SECONDS),
    # so Redis never hands a delayed task to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
# The longest countdown/ETA/retry delay any task may use (SMS retries cap at 1 h);
# tests/test_celery_config.py keeps the visibility timeout above it.
TASK_MAX_DELAY_SECONDS = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True  # outcomes live in our own tables
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# A job still running this long after it started has lost its worker (killed, or its database connection
# dropped before it could record the failure): the sweeps (import jobs, screening runs) hand it to a worker
# again. Past the hard time limit, with a margin, so a live task is never run twice.
TASK_STALE_SECONDS = env.int("TASK_STALE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 300)
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a refused token answers 401 with WWW-Authenticate, as API clients expect.
        "accounts.api_auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api_auth.ApiUserRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "accounts.api_errors.exception_handler",
}
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=8)
# Requests per client: sign-in attempts per address (web form and token endpoint), API calls per user.
API_THROTTLE_RATES = {
    "sign_in": env("SIGN_IN_RATE", default="30/min"),
    "api_user": env("API_USER_RATE", default="600/min"),
    "api_anon": env("API_ANON_RATE", default="60/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "精简达 API",
    "DESCRIPTION": "留抵退税与纳税信用服务 — 税务机关内部接口",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- logging (structlog; log messages are English) ---------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)
LOGGING_CONFIG = None
configure_logging(level=LOG_LEVEL, json=LOG_JSON)

# --- SMS (notify) ---------------------------------------------------------
SMS_BACKEND = env("SMS_BACKEND", default="console")  # "console" or "mas"
MAS_BASE_URL = env("MAS_BASE_URL", default="")
MAS_EC_NAME = env("MAS_EC_NAME", default="")
MAS_AP_ID = env("MAS_AP_ID", default="")
MAS_SECRET_KEY = env("MAS_SECRET_KEY", default="")
MAS_SIGN = env("MAS_SIGN", default="")
MAS_ADD_SERIAL = env("MAS_ADD_SERIAL", default="")
MAS_REPORT_TOKEN = env("MAS_REPORT_TOKEN", default="")
MAS_REPORT_PULL = env.bool("MAS_REPORT_PULL", default=False)  # HTTPS variant: pull reports (POST /sms/report)
MAS_TIMEOUT_SECONDS = env.float("MAS_TIMEOUT_SECONDS", default=30)
# The secret is always inside the mac; it also travels in the body (in clear text on the plain-HTTP interface)
# only for an interface account that demands it (the platform's documents disagree whether it must).
MAS_SECRET_IN_BODY = env.bool("MAS_SECRET_IN_BODY", default=False)
SMS_MAX_LENGTH = env.int("SMS_MAX_LENGTH", default=500)  # characters, signature included
SMS_QUIET_HOURS = env("SMS_QUIET_HOURS", default="21:00-08:00")  # Asia/Shanghai; empty: none
SMS_BATCH_SIZE = env.int("SMS_BATCH_SIZE", default=1000)  # numbers claimed per round (≤ 5000 per request)
SMS_RATE_PER_SECOND = env.float("SMS_RATE_PER_SECOND", default=0)  # gateway requests per second; 0: no limit
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=6)
SMS_RETRY_BASE_SECONDS = env.float("SMS_RETRY_BASE_SECONDS", default=30)
SMS_RETRY_MAX_SECONDS = env.float("SMS_RETRY_MAX_SECONDS", default=3600)
SMS_LEASE_SECONDS = env.float("SMS_LEASE_SECONDS", default=120)  # > MAS_TIMEOUT_SECONDS
# How long a send whose outcome is unknown waits for a delivery report before it is handed to a person
# (never resent by itself: notify/dispatch.py).
SMS_UNKNOWN_GRACE_SECONDS = env.float("SMS_UNKNOWN_GRACE_SECONDS", default=30 * 60)
SMS_BATCH_UPLOAD_MAX_ROWS = env.int("SMS_BATCH_UPLOAD_MAX_ROWS", default=10_000)  # recipients per uploaded batch
# notify imports only core of our apps; these give its pages the branch scope and the branch names.
NOTIFY_VISIBLE_BRANCHES = "accounts.scoping.visible_branch_ids"  # user -> None (all) or a set of branch ids
NOTIFY_BRANCH_CHOICES = "accounts.notify_hooks.branch_choices"  # user -> [(branch id, name)]
