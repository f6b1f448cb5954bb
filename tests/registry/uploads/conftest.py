from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from config.celery import app
from lenders.models import Member
from registry.models import Upload

API = "/api/v1/uploads"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> Path:
    """Stored files go to a fresh directory per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def uploader(member: Member, key_client: Callable[..., APIClient]) -> APIClient:
    """The member's nightly job: an API key with the upload scope."""
    return key_client(member, scopes=["upload"])


@pytest.fixture
def send(uploader: APIClient, eager_celery: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a file through the API; the job runs at once (eagerly) after the request commits.
    Returns the response; ``response.upload`` is the upload, fresh from the database."""

    def post(
        content: bytes,
        *,
        client: APIClient | None = None,
        name: str = "entries.csv",
        headers: dict[str, str] | None = None,
        **fields: str,
    ) -> Any:
        body: dict[str, Any] = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **fields}
        with django_capture_on_commit_callbacks(execute=True):
            # English, so that the stored messages the tests read do not depend on the catalog.
            headers = {"Accept-Language": "en", **(headers or {})}
            response = (client or uploader).post(API, body, format="multipart", headers=headers)
        if response.status_code in (200, 202):
            response.upload = Upload.objects.get(pk=response.json()["id"])  # type: ignore[attr-defined]
        return response

    return post


@pytest.fixture
def person(user_with: Callable[..., Any]) -> Callable[..., APIClient]:
    """A signed-in person of ``org`` with ``roles``, as the portal's browser: a session, CSRF
    enforced, with the cookie and header a page sets."""

    def build(org: Any, *roles: str) -> APIClient:
        token = secrets.token_hex(16)
        client = APIClient(enforce_csrf_checks=True)
        user = user_with(org, *roles)
        client.force_login(user)
        client.cookies[settings.CSRF_COOKIE_NAME] = token
        client.credentials(HTTP_X_CSRFTOKEN=token)
        client.user = user  # type: ignore[attr-defined]
        return client

    return build


# -- real worker processes (PostgreSQL and Redis) -------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/12"  # its own database: tests/registry/test_celery_worker.py uses 11


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Workers:
    """Starts real ``celery worker`` processes on the test database, the test's media folder
    and a Redis broker; stops whatever is left at the end."""

    def __init__(self, media_root: Path) -> None:
        self.media_root = media_root
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_ENV": "test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "MEDIA_ROOT": str(self.media_root),
            "PYTHONPATH": str(ROOT),
        }
        hostname = f"uploads-{uuid.uuid4().hex[:8]}@localhost"
        worker = subprocess.Popen(  # noqa: S603 (a fixed command line of the project's own worker)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "-n",
                hostname,
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.started.append(worker)
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[hostname], timeout=0.5):
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


@pytest.fixture
def workers(postgres_only: None, transactional_db: None, _media_root: Path) -> Iterator[Workers]:
    """Real workers over Redis; the app in this process sends its tasks to the same broker."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    client.flushdb()
    previous = app.conf.broker_url
    app.conf.broker_url = REDIS_URL  # type: ignore[misc]
    app._after_fork()  # type: ignore[attr-defined]  # drop connection pools made for the previous broker
    pool = Workers(_media_root)
    try:
        yield pool
    finally:
        pool.stop_all()
        app.conf.broker_url = previous  # type: ignore[misc]
        app._after_fork()  # type: ignore[attr-defined]
        client.flushdb()


@pytest.fixture(autouse=True)
def _english_messages(settings: Any) -> Iterator[None]:
    """The pipeline writes its stored messages in the registry's language; these tests read
    them in English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
