"""The delivery-report token never reaches a log line: gunicorn's access log, Django's warnings, our own lines."""

import datetime as dt
import importlib.util
import io
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import structlog
from django.test import Client, override_settings
from gunicorn.config import Config

from config.logging import configure_logging

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "report-token-not-for-logs-7f3a"


def _gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "config" / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_access_log_redacts_the_report_token():
    conf = _gunicorn_conf()
    assert conf.accesslog == "-"
    logger = conf.logger_class(Config())
    path = f"/notify/mas/report/{TOKEN}/"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_REFERER": f"https://example.org{path}",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=17)
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, dt.timedelta(seconds=0.01))
    assert TOKEN not in str(atoms)
    assert atoms["r"] == "POST /notify/mas/report/***/ HTTP/1.1"


@pytest.mark.django_db
def test_django_and_our_own_log_lines_redact_the_report_token():
    stream = io.StringIO()
    configure_logging(level="INFO", json=True)
    root = logging.getLogger()
    handler = root.handlers[0]
    handler.setStream(stream)
    try:
        with override_settings(MAS_REPORT_TOKEN="the-right-token"):
            Client().post(f"/notify/mas/report/{TOKEN}/", "[]", content_type="application/json")  # a 404
        structlog.get_logger("test").warning("report_seen", path=f"/notify/mas/report/{TOKEN}/")
    finally:
        handler.setStream(sys.stderr)
    text = stream.getvalue()
    assert "/notify/mas/report/***/" in text  # the lines were written …
    assert TOKEN not in text  # … without the token
