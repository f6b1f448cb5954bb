"""The pipeline on real ``celery worker`` processes over Redis, on PostgreSQL (a worker is a
separate process and sees only committed data): a file sent through the API ends
``SUCCEEDED``; and a worker killed with SIGKILL inside its apply transaction leaves no partial
change, and the retried job applies the upload exactly once."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from registry.choices import ConsensusCause, UploadState
from registry.models import ConsensusHistory, Entry, Upload
from registry.services.consensus import consensus_verify
from registry.uploads.services import uploads_watchdog
from tests.registry.helpers import current_key, lookup, subject, submit
from tests.registry.uploads.conftest import API
from tests.registry.uploads.helpers import csv_bytes, row
from tests.registry.uploads.postgres import holding_consensus_locks, someone_waits_for_consensus_locks, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _state(upload_id: int) -> str:
    return Upload.objects.get(pk=upload_id).state


def _send(client, content: bytes, **fields: str) -> int:  # type: ignore[no-untyped-def]
    response = client.post(API, {"file": SimpleUploadedFile("nightly.csv", content), **fields}, format="multipart")
    assert response.status_code == 202, response.content
    return int(response.json()["id"])


def _entries(member) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return list(Entry.objects.filter(member=member).order_by("id").values_list("id", "reason", "state", "updated_at"))


def test_a_file_sent_through_the_api_is_applied_by_a_worker(workers, member, other_member, key_client):
    submit(other_member, subject("w-1"))
    workers.start()
    client = key_client(member, scopes=["upload"])

    upload_id = _send(client, csv_bytes([row("w-1"), row("w-2", "WHITE", "GOOD_REPAYMENT")]))

    assert wait_for(lambda: _state(upload_id) == UploadState.SUCCEEDED, 180), Upload.objects.get(pk=upload_id).message
    upload = Upload.objects.get(pk=upload_id)
    assert (upload.created, upload.attempts, upload.file_path) == (2, 1, "")
    assert lookup(other_member, subject("w-1"))["status"] == "BLACK"
    detail = client.get(f"{API}/{upload_id}").json()
    assert detail["state"] == UploadState.SUCCEEDED and detail["timings"]["applying_seconds"] is not None


def test_a_worker_killed_mid_apply_leaves_nothing_and_the_retried_job_succeeds_once(
    workers, region, member, other_member, key_client
):
    for n in range(5):
        submit(member, subject(f"crash-{n}"))  # to be updated by the file
    submit(other_member, subject("crash-0"))
    before = _entries(member)
    history_before = ConsensusHistory.objects.count()
    names = [f"crash-{n}" for n in range(40)]
    content = csv_bytes([row(name, "BLACK", "WRITE_OFF") for name in names])
    hashes = [bytes.fromhex(subject(name)) for name in names]
    client = key_client(member, scopes=["upload"])

    with holding_consensus_locks(current_key(region).pk, hashes) as session:
        doomed = workers.start()
        upload_id = _send(client, content)
        # The worker is inside the apply transaction: entries merged, waiting at the consensus step.
        assert wait_for(lambda: someone_waits_for_consensus_locks(session), 180), Upload.objects.get(pk=upload_id)
        assert _state(upload_id) == UploadState.APPLYING
        assert _entries(member) == before  # no partial change is visible

        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    # The locks are released; the dead worker's session ends and its transaction rolls back.

    assert wait_for(lambda: uploads_watchdog(stall_seconds=0).requeued == 1, 90)
    assert _entries(member) == before and ConsensusHistory.objects.count() == history_before
    workers.start()

    assert wait_for(lambda: _state(upload_id) == UploadState.SUCCEEDED, 180), Upload.objects.get(pk=upload_id).message
    upload = Upload.objects.get(pk=upload_id)
    assert (upload.attempts, upload.created, upload.updated, upload.invalid) == (2, 35, 5, 0)
    assert set(Entry.objects.filter(member=member).values_list("reason", flat=True)) == {"WRITE_OFF"}
    assert AuditEvent.objects.filter(action="upload.apply", object_id=str(upload_id)).count() == 1
    cause = {"cause": ConsensusCause.UPLOAD, "cause_ref": f"upload:{upload_id}"}
    assert ConsensusHistory.objects.filter(**cause).count() == 40  # each subject once
    assert lookup(other_member, subject("crash-0"))["black_score"] == 92
    assert consensus_verify(region=region).different == 0
