"""The broker down when a file arrives (``quality.md``, Reliability): the upload is accepted
and stored, and once the broker is back the watchdog sends its job and a real worker applies
it; nothing is lost and nothing is applied twice.

A private Redis (tests/faults/processes.py) is the broker; it is stopped and started, the
shared one is never touched."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app
from registry.choices import UploadState
from registry.models import Entry, Upload
from registry.uploads.services import uploads_watchdog
from tests.faults.processes import ROOT, PrivateRedis, registry_env, wait_until
from tests.registry.helpers import subject
from tests.registry.uploads.conftest import _database_url
from tests.registry.uploads.helpers import csv_bytes, row

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(private_redis: PrivateRedis, postgres_only: None) -> Iterator[PrivateRedis]:
    """This process sends its tasks to the private Redis."""
    previous = app.conf.broker_url
    app.conf.broker_url = private_redis.url  # type: ignore[misc]
    app._after_fork()  # type: ignore[attr-defined]  # drop connection pools made for the previous broker
    try:
        yield private_redis
    finally:
        app.conf.broker_url = previous  # type: ignore[misc]
        app._after_fork()  # type: ignore[attr-defined]


@pytest.fixture
def worker(broker: PrivateRedis, settings, tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        env = registry_env(
            tmp_path, DATABASE_URL=_database_url(), CELERY_BROKER_URL=broker.url, MEDIA_ROOT=str(settings.MEDIA_ROOT)
        )
        hostname = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        started.append(
            subprocess.Popen(  # noqa: S603 - the project's own worker, fixed arguments
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
        )

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)


def test_a_file_arriving_while_the_broker_is_down_is_stored_and_applied_once_it_is_back(
    broker, worker, member, key_client
):
    client = key_client(member, scopes=["upload"])
    broker.stop()

    started = time.monotonic()
    response = client.post(
        "/api/v1/uploads",
        {"file": SimpleUploadedFile("nightly.csv", csv_bytes([row("broker-1"), row("broker-2")]))},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert time.monotonic() - started < 20, "the request must not hang on the broker"
    upload = Upload.objects.get(pk=response.json()["id"])
    assert upload.state == UploadState.QUEUED
    assert default_storage.exists(upload.file_path)
    assert client.get(f"/api/v1/uploads/{upload.pk}").json()["state"] == UploadState.QUEUED

    broker.start()
    assert uploads_watchdog(stall_seconds=0).resent == 1
    worker()

    wait_until(lambda: Upload.objects.get(pk=upload.pk).state == UploadState.SUCCEEDED, 120, "the upload to be applied")
    upload.refresh_from_db()
    assert (upload.created, upload.attempts) == (2, 1)
    assert {bytes(h).hex() for h in Entry.objects.filter(member=member).values_list("subject_hash", flat=True)} == {
        subject("broker-1"),
        subject("broker-2"),
    }
    assert uploads_watchdog(stall_seconds=0).resent == 0
