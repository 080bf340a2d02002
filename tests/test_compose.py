"""The container stack, checked statically: Docker cannot run here, so these tests read
docker-compose.yml, the Dockerfile and .env.example and hold them to the deployment we
promise (PostgreSQL and Redis with health checks, a web service that migrates then runs gunicorn, workers and
exactly one beat)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _healthcheck(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _final_stage(dockerfile: str) -> str:
    return re.split(r"^FROM\s", dockerfile, flags=re.MULTILINE)[-1]


def test_services_and_images(services):
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == ".", name
        assert services[name]["env_file"] == ".env", name
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name


def test_database_and_redis_health_checks(services):
    assert "pg_isready" in _healthcheck(services["db"])
    redis_check = _healthcheck(services["redis"])
    assert "redis-cli" in redis_check
    assert "ping" in redis_check


def test_web_migrates_then_runs_gunicorn_on_all_interfaces(services):
    command = _command(services["web"])
    assert "manage.py migrate" in command
    assert "gunicorn -c config/gunicorn.conf.py config.wsgi" in command  # the access log without secrets
    assert "0.0.0.0:8000" in command
    assert command.index("manage.py migrate") < command.index("gunicorn")
    assert "setup_schedules" in command
    assert "8000:8000" in services["web"]["ports"]


def test_worker_and_exactly_one_beat(services):
    assert re.search(r"\bcelery -A config worker\b", _command(services["worker"]))
    assert re.search(r"\bcelery -A config beat\b", _command(services["beat"]))
    beats = [name for name, svc in services.items() if re.search(r"\bcelery\b.*\bbeat\b", _command(svc))]
    assert beats == ["beat"], "a second beat process would run every schedule twice"
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    for name, svc in services.items():
        # An embedded beat (-B) in a worker would be a second beat.
        assert not re.search(r"\s(-B|--beat)\b", _command(svc)), name


def test_depends_on_waits_for_healthy_services(services):
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    # Worker and beat start once web has migrated the database (web is healthy when gunicorn listens).
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}, name
    assert "healthcheck" in services["web"]


def test_every_setting_variable_is_in_env_example():
    used = set()
    pattern = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    os_pattern = re.compile(r"""os\.(?:environ\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")
    for path in sorted((ROOT / "config" / "settings").glob("*.py")):
        if path.name == "test.py":  # the suite's own settings read the test runner's variables (pytest-xdist)
            continue
        text = path.read_text(encoding="utf-8")
        used |= set(pattern.findall(text)) | set(os_pattern.findall(text))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "LOG_JSON"} <= used  # the scan works
    listed = set(re.findall(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert used - listed == set()


def test_env_example_values():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))
    assert values["DJANGO_SECRET_KEY"] == "change-me"
    for required in ("DJANGO_ALLOWED_HOSTS", "DJANGO_CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "REDIS_URL",
                     "BUREAU_NAME", "LOG_LEVEL", "LOG_JSON", "MEDIA_ROOT", "POSTGRES_PASSWORD"):
        assert values.get(required), required
    # The SMS gateway's variables, by the names outside checks use; credentials stay empty.
    for name in ("MAS_BASE_URL", "MAS_EC_NAME", "MAS_AP_ID", "MAS_SECRET_KEY", "MAS_SIGN", "MAS_ADD_SERIAL",
                 "MAS_REPORT_TOKEN"):
        assert values.get(name) == "", name
    assert values["SMS_BACKEND"] == "console"
    # The compose services reach each other by service name.
    assert "@db:5432/" in values["DATABASE_URL"]
    assert values["REDIS_URL"].startswith("redis://redis:6379/")


def test_dockerfile_installs_requirements_and_runs_as_non_root():
    final = _final_stage(_dockerfile())
    assert final.startswith("python:3.11-slim")
    assert re.search(r"^RUN pip install -r requirements\.txt", final, re.MULTILINE)
    assert re.search(r"^COPY requirements\.txt", final, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert users, "the image must switch to an unprivileged user"
    assert users[-1] not in {"root", "0", "0:0"}
    assert re.search(rf"useradd\b.*\b{re.escape(users[-1])}\b", final)
    assert "gunicorn" in final


def test_dockerfile_builds_assets_and_collects_static():
    dockerfile = _dockerfile()
    assert re.search(r"^FROM node:20\S* AS assets", dockerfile, re.MULTILINE)
    assert "vendor_assets.sh" in dockerfile
    final = _final_stage(dockerfile)
    assert "COPY --from=assets" in final and "static/vendor" in final
    assert "collectstatic" in final


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".venv", "node_modules", "var", ".env", "static/vendor"):
        assert entry in ignored, entry


def test_production_serves_static_with_whitenoise():
    base = (ROOT / "config" / "settings" / "base.py").read_text()
    production = (ROOT / "config" / "settings" / "production.py").read_text()
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in base
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in production
