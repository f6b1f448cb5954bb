"""Production settings (``quality.md``, STYLE.md): refuse to start without their secrets, and
pass ``manage.py check --deploy`` without a warning when they are given."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_DIR = Path(settings.BASE_DIR)
REQUIRED = ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "KEY_ENCRYPTION_SECRET")
# Variables of the test run that must not leak into the production process under test.
_DROPPED = {*REQUIRED, "DJANGO_ENV", "TEST_DATABASE_NAME", "DEBUG", "CELERY_BROKER_URL", "CACHE_URL"}


def _production_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _DROPPED}
    env.update(DJANGO_ENV="production", REGISTRY_VAR_DIR=str(tmp_path / "var"), PYTHONDONTWRITEBYTECODE="1")
    env.update(variables)
    return env


def _complete(tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "ALLOWED_HOSTS": "registry.example",
        "KEY_ENCRYPTION_SECRET": secrets.token_urlsafe(30)[:40],
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_its_secrets_refuses_to_start_and_names_them(tmp_path):
    process = manage(_production_env(tmp_path), "check")
    assert process.returncode != 0
    for name in REQUIRED:
        assert name in process.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "KEY_ENCRYPTION_SECRET"])
def test_production_names_exactly_the_one_missing_variable(tmp_path, missing):
    variables = _complete(tmp_path)
    del variables[missing]
    process = manage(_production_env(tmp_path, **variables), "check")
    assert process.returncode != 0
    message = process.stderr.strip().splitlines()[-1]
    assert missing in message
    assert [name for name in REQUIRED if name in message] == [missing]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SECRET_KEY", "too-short-a-secret"), ("KEY_ENCRYPTION_SECRET", "short")],
)
def test_production_refuses_a_short_secret(tmp_path, variable, value):
    process = manage(_production_env(tmp_path, **{**_complete(tmp_path), variable: value}), "check")
    assert process.returncode != 0
    assert variable in process.stderr
    assert value not in process.stderr, "the refusal must not print the secret"


def test_production_with_its_secrets_passes_the_deploy_check_without_warnings(tmp_path):
    process = manage(_production_env(tmp_path, **_complete(tmp_path)), "check", "--deploy", "--fail-level", "WARNING")
    assert process.returncode == 0, process.stdout + process.stderr
    assert "System check identified no issues" in process.stdout
    assert "WARNING" not in process.stdout + process.stderr


def test_production_turns_debug_off(tmp_path):
    process = manage(
        _production_env(tmp_path, **_complete(tmp_path)),
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)",
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip().splitlines()[-1].split() == ["False", "True", "True"]
