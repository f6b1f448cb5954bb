"""``/healthz`` and ``/readyz`` (``api.md``): readiness follows the database and the broker."""

from __future__ import annotations

import pytest
from django.test import Client

from config.celery import app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
REAL_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def broker(monkeypatch):  # type: ignore[no-untyped-def]
    """Point the Celery app at another broker for one test; the app reads it on each connection."""

    def use(url: str) -> None:
        monkeypatch.setitem(app.conf, "broker_url", url)

    return use


def test_healthz_answers_without_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_with_the_default_filesystem_broker(db):
    if not app.conf.broker_url.startswith("filesystem://"):
        pytest.skip("CELERY_BROKER_URL is set in the environment")
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_200_with_a_running_redis_broker(db, broker):
    broker(REAL_REDIS)
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_with_retry_after_when_the_broker_is_down(db, broker):
    broker(UNREACHABLE_BROKER)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "broker": "unreachable"}


def test_readyz_does_not_reveal_the_broker_address(db, broker):
    broker(UNREACHABLE_BROKER)
    text = Client().get("/readyz").content.decode()
    assert "127.0.0.1" not in text
    assert "Traceback" not in text


def test_readyz_is_503_when_the_database_is_down(db, monkeypatch):
    monkeypatch.setattr("core.health._database_ok", lambda: False)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert "Retry-After" in response


def test_readyz_is_never_cached(db):
    assert "no-cache" in Client().get("/readyz")["Cache-Control"]
