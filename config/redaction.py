"""Secrets that travel in URLs stay out of every log line.

The 云MAS delivery-report URL carries its secret token in the path (the gateway's protocol fixes that
form). Access logs, Django's "Not Found" warnings and our own structured lines all print paths, so each goes
through ``redact``: gunicorn through ``config/gunicorn.conf.py``, everything else through the filter below.
"""

import logging
import re

SECRET_PATHS = re.compile(r"(/notify/mas/report/)[^/?#\s\"']+")
REDACTED = r"\1***"


def redact(text: str) -> str:
    return SECRET_PATHS.sub(REDACTED, text)


def _clean(value):
    return redact(value) if isinstance(value, str) else value


class RedactSecretPaths(logging.Filter):
    """Rewrites a record's message and arguments (and a structlog event's values) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = {key: _clean(value) for key, value in record.msg.items()}
        else:
            record.msg = _clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        return True
