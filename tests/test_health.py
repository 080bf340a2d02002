"""/health/: JSON per component, 200 only when the database, Redis (if configured) and the
worker heartbeat are all healthy, open without login and naming nothing sensitive."""

import datetime
import socket

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import WorkerHeartbeat
from accounts.tasks import record_heartbeat, record_worker_heartbeat

pytestmark = pytest.mark.django_db


def _get(client=None):
    response = (client or Client()).get("/health/")
    assert response["Content-Type"] == "application/json"
    return response, response.json()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fresh_heartbeat_is_healthy_without_login():
    assert settings.REDIS_URL, "the test settings run against a real Redis"
    record_worker_heartbeat()  # the task body, run in-process
    response, body = _get()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["components"]["database"] == {"status": "ok"}
    assert body["components"]["redis"] == {"status": "ok"}
    assert body["components"]["worker"]["status"] == "ok"
    assert 0 <= body["components"]["worker"]["last_heartbeat_age_seconds"] < 5
    assert "no-cache" in response["Cache-Control"]


def test_missing_heartbeat_is_503():
    assert not WorkerHeartbeat.objects.exists()
    response, body = _get()
    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["components"]["worker"]["status"] == "error"
    assert "no heartbeat" in body["components"]["worker"]["detail"]
    assert body["components"]["database"]["status"] == "ok"


def test_stale_heartbeat_is_503_and_one_just_inside_the_limit_is_not():
    heartbeat = record_heartbeat()
    heartbeat.seen_at = timezone.now() - datetime.timedelta(minutes=3, seconds=5)
    heartbeat.save()
    response, body = _get()
    assert response.status_code == 503
    assert body["components"]["worker"]["status"] == "error"
    assert body["components"]["worker"]["last_heartbeat_age_seconds"] >= 185

    heartbeat.seen_at = timezone.now() - datetime.timedelta(minutes=2, seconds=50)
    heartbeat.save()
    response, body = _get()
    assert response.status_code == 200
    assert body["components"]["worker"]["status"] == "ok"


def test_newest_of_several_heartbeats_counts():
    WorkerHeartbeat.objects.create(name="old", seen_at=timezone.now() - datetime.timedelta(hours=1))
    record_heartbeat(name="fresh")
    response, _ = _get()
    assert response.status_code == 200


def test_heartbeat_task_is_idempotent():
    record_worker_heartbeat()
    first = WorkerHeartbeat.objects.get().seen_at
    record_worker_heartbeat()
    assert WorkerHeartbeat.objects.count() == 1
    assert WorkerHeartbeat.objects.get().seen_at >= first


@override_settings(REDIS_URL="")
def test_without_redis_url_redis_is_reported_not_configured_and_does_not_fail():
    record_heartbeat()
    response, body = _get()
    assert response.status_code == 200
    assert body["components"]["redis"] == {"status": "ok", "detail": "not configured (embedded broker)"}


def test_unreachable_redis_is_503_without_naming_host_or_port():
    port = _closed_port()
    record_heartbeat()
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/4"):
        response, body = _get()
    assert response.status_code == 503
    assert body["components"]["redis"]["status"] == "error"
    assert body["components"]["worker"]["status"] == "ok"
    text = response.content.decode()
    assert str(port) not in text
    assert "127.0.0.1" not in text


def test_response_names_no_database_or_secret():
    record_heartbeat()
    response, _ = _get()
    text = response.content.decode()
    db = settings.DATABASES["default"]
    for secret in (db["NAME"], db.get("HOST"), settings.SECRET_KEY, settings.REDIS_URL):
        if secret:
            assert str(secret) not in text


def test_health_is_exempt_from_ssl_redirect():
    # The same exemption as config/settings/production.py (tests/test_deploy.py checks it there).
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=[r"^health/"]):
        record_heartbeat()
        assert Client().get("/health/").status_code == 200
        login = Client().get("/accounts/login/")
        assert login.status_code == 301
        assert login["Location"].startswith("https://")
