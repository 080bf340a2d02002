"""The production settings pass Django's deployment checklist and refuse to start half-configured.

Each case runs in a subprocess: the production settings must be loaded fresh, from the
environment alone, as the containers load them.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _production_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="example.org",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://jingjianda@127.0.0.1:5432/jingjianda"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_has_no_errors_and_no_warnings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_production_settings_values():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'EXEMPT': s.SECURE_REDIRECT_EXEMPT, 'SSL': s.SECURE_SSL_REDIRECT, "
        "'PROXY': list(s.SECURE_PROXY_SSL_HEADER), 'LOG_JSON': s.LOG_JSON, "
        "'STATIC': s.STORAGES['staticfiles']['BACKEND'], 'BROKER': s.CELERY_BROKER_URL, "
        "'ENGINE': s.DATABASES['default']['ENGINE'], 'HOSTS': s.ALLOWED_HOSTS}))"
    )
    result = _run(["-c", script], _production_env(DJANGO_DEBUG="true"))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False  # DJANGO_DEBUG cannot switch it on
    assert values["SSL"] is True
    assert values["PROXY"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert any(re.match(p, "health/") for p in values["EXEMPT"])
    assert values["LOG_JSON"] is True
    assert values["STATIC"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["BROKER"].startswith("redis://")
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["HOSTS"] == ["example.org"]


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without(missing):
    if (ROOT / ".env").exists():
        pytest.skip("a local .env would supply the variable")
    result = _run(["manage.py", "check"], _production_env(**{missing: None}))
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


@pytest.mark.parametrize("secret", ["change-me", "CHANGE-ME", "local-demo-only-not-a-secret", "short-secret-2026"])
def test_production_refuses_a_placeholder_or_short_secret(secret):
    result = _run(["manage.py", "check"], _production_env(DJANGO_SECRET_KEY=secret))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a placeholder" in result.stderr


def test_collectstatic_with_the_production_storage(tmp_path):
    """What the Docker build runs: the manifest storage fails on any reference to a missing
    file (a source map the vendored assets name, a font a stylesheet names)."""
    if not (ROOT / "static" / "vendor" / "bootstrap").is_dir():
        pytest.fail("static/vendor is missing: run scripts/vendor_assets.sh (make assets)")
    static_root = tmp_path / "staticfiles"
    # The image installs requirements.txt only, so whitenoise compresses with gzip alone there; brotli in the
    # dev environment (a dependency of locust's, for `make bench`) would add a minute and a half of compression.
    (tmp_path / "h4_collectstatic_settings.py").write_text(
        "import sys\nsys.modules['brotli'] = None  # as in the image: no brotli\n"
        f"from config.settings.production import *  # noqa: F403\nSTATIC_ROOT = {str(static_root)!r}\n"
    )
    env = _production_env(
        DJANGO_SETTINGS_MODULE="h4_collectstatic_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
    )
    result = _run(["manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    for name in ("css/app.css", "vendor/bootstrap/bootstrap.min.css", "vendor/htmx/htmx.min.js"):
        assert name in manifest["paths"], name
        assert (static_root / manifest["paths"][name]).is_file()
