"""One logging set-up for web, worker and beat: structlog over the standard library.

Every line carries the request id (bound by ``accounts.middleware.RequestIdMiddleware``)
so an audit event can be followed into the logs.
"""

import logging.config

import structlog

_shared = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso"),
]


def configure_logging(*, level: str, json: bool) -> None:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structlog": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
                    "foreign_pre_chain": _shared,
                }
            },
            "filters": {"redact": {"()": "config.redaction.RedactSecretPaths"}},
            "handlers": {
                "console": {"class": "logging.StreamHandler", "formatter": "structlog", "filters": ["redact"]}
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "WARNING"},
                "django.server": {"level": "INFO"},
                "celery": {"level": level},
            },
        }
    )
    structlog.configure(
        processors=[*_shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
