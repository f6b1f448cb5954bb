from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.processes import PrivatePostgres, PrivateRedis, WebServer, manage, registry_env

# The demo's key of 前海 (registry/demo.py): scopes lookup, upload, entries, disputes.
DEMO_KEY = "Api-Key demolend.qianhai-demo-key-0001-lookup-upload"


@pytest.fixture
def private_postgres(postgres_only: None) -> Iterator[PrivatePostgres]:
    """A migrated PostgreSQL cluster of this test's own, holding the demo region."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_env(private_postgres: PrivatePostgres, tmp_path: Path) -> dict[str, str]:
    env = registry_env(tmp_path, DATABASE_URL=private_postgres.url, MEDIA_ROOT=str(tmp_path / "media"))
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    return env


@pytest.fixture
def web_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[WebServer]]:
    """Servers a test starts (``WebServer(env, log)``) are stopped at its end."""
    started: list[WebServer] = []
    yield started
    for server in started:
        server.stop()
