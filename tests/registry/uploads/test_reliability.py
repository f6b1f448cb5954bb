"""The guarantees of ``csv.md`` that are about the job rather than the file: ordered per
member, parallel across members without lost consensus updates, bounded retries of a system
fault, and the watchdog that finds a job that stopped."""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from lenders.models import Member, Region
from registry.choices import UploadState
from registry.models import Entry, Upload
from registry.services.consensus import consensus_verify
from registry.uploads.locking import _lock_key
from registry.uploads.receiving import incoming_dir
from registry.uploads.services import upload_process, upload_receive, uploads_watchdog
from tests.factories import MemberFactory, RegionFactory
from tests.registry.helpers import current_key, entry_of, lookup, member_actor, subject
from tests.registry.uploads.conftest import API
from tests.registry.uploads.helpers import csv_bytes, row
from tests.registry.uploads.postgres import (
    holding_consensus_locks,
    other_session,
    someone_waits_for_consensus_locks,
    wait_for,
)


def _queued(client, content: bytes, **fields: str) -> Upload:  # type: ignore[no-untyped-def]
    """Send a file without running its job (as if no worker had picked it up yet)."""
    response = client.post(API, {"file": SimpleUploadedFile("f.csv", content), **fields}, format="multipart")
    assert response.status_code == 202, response.content
    return Upload.objects.get(pk=response.json()["id"])


def _state(upload: Upload) -> str:
    upload.refresh_from_db()
    return upload.state


# -- ordered per member -------------------------------------------------------------------------


def test_a_members_later_upload_waits_for_the_earlier_one(
    uploader, member, eager_celery, django_capture_on_commit_callbacks
):
    first = _queued(uploader, csv_bytes([row("order", "BLACK", "FRAUD")]))
    second = _queued(uploader, csv_bytes([row("order", "WHITE", "GOOD_REPAYMENT")]))

    outcome = upload_process(upload_id=second.pk)

    assert outcome.state == UploadState.QUEUED and outcome.retry_in
    assert _state(second) == UploadState.QUEUED
    assert str(first.pk) in second.message
    assert not Entry.objects.filter(member=member).exists()

    with django_capture_on_commit_callbacks(execute=True):
        upload_process(upload_id=first.pk)  # its end sends the next upload of the member

    assert (_state(first), _state(second)) == (UploadState.SUCCEEDED, UploadState.SUCCEEDED)
    assert second.validating_at and first.finished_at and second.validating_at > first.finished_at
    assert entry_of(member, subject("order")).list == "WHITE"


def test_a_member_whose_upload_job_runs_elsewhere_waits(postgres_only, uploader, member):
    upload = _queued(uploader, csv_bytes([row(1)]))
    session = other_session()
    try:
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", _lock_key(member.pk))
        outcome = upload_process(upload_id=upload.pk)
    finally:
        session.close()

    assert outcome.retry_in and _state(upload) == UploadState.QUEUED
    assert upload.attempts == 0


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs are run by the test itself: sending them records the id instead."""
    sent: list[int] = []
    monkeypatch.setattr("registry.tasks.process_upload.delay", lambda upload_id: sent.append(upload_id))
    return sent


def _receive(member: Member, content: bytes, **options: Any) -> Upload:
    upload, created = upload_receive(actor=member_actor(member), file=SimpleUploadedFile("f.csv", content), **options)
    assert created
    return upload


def _in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            result.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
def test_two_jobs_of_one_member_never_interleave(postgres_only, no_broker, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    region: Region = RegionFactory()  # type: ignore[assignment]
    member: Member = MemberFactory(region=region)  # type: ignore[assignment]
    hashes = [bytes.fromhex(subject(f"il-{n}")) for n in range(20)]
    first = _receive(member, csv_bytes([row(f"il-{n}") for n in range(20)]))
    second = _receive(member, csv_bytes([row(f"il-{n}", "BLACK", "FRAUD") for n in range(20)]))

    with holding_consensus_locks(current_key(region).pk, hashes) as session:
        thread, result = _in_thread(lambda: upload_process(upload_id=first.pk))
        assert wait_for(lambda: someone_waits_for_consensus_locks(session)), "the first job did not reach its apply"
        # The first job is inside its apply transaction; the second must not start.
        assert upload_process(upload_id=second.pk).retry_in
        assert _state(second) == UploadState.QUEUED
        assert _state(first) == UploadState.APPLYING
        assert not Entry.objects.filter(member=member).exists()  # nothing visible before the commit
    thread.join(timeout=60)
    assert result and result[0].state == UploadState.SUCCEEDED, result

    assert upload_process(upload_id=second.pk).state == UploadState.SUCCEEDED
    assert set(Entry.objects.filter(member=member).values_list("reason", flat=True)) == {"FRAUD"}
    assert consensus_verify(region=region).different == 0


@pytest.mark.django_db(transaction=True)
def test_members_upload_in_parallel_without_losing_consensus_updates(postgres_only, no_broker, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    region: Region = RegionFactory()  # type: ignore[assignment]
    members: list[Member] = [MemberFactory(region=region) for _ in range(3)]  # type: ignore[misc]
    shared = [f"shared-{n}" for n in range(60)]
    uploads = [_receive(m, csv_bytes([row(h, "BLACK", "SEVERE_OVERDUE") for h in shared])) for m in members]
    barrier = threading.Barrier(len(uploads))

    def job(upload_id: int) -> Callable[[], Any]:
        def run() -> Any:
            barrier.wait(timeout=30)
            return upload_process(upload_id=upload_id)

        return run

    threads = [_in_thread(job(u.pk)) for u in uploads]
    for thread, _result in threads:
        thread.join(timeout=120)
    assert [result[0].state for _thread, result in threads] == [UploadState.SUCCEEDED] * 3, threads

    assert consensus_verify(region=region).different == 0
    answer = lookup(members[0], subject("shared-7"))
    assert (answer["status"], answer["black_members"], answer["black_score"]) == ("BLACK", 3, 94)


# -- system faults and the watchdog -------------------------------------------------------------


def test_a_system_fault_is_retried_a_bounded_number_of_times_then_fails(
    uploader, member, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_ATTEMPTS = 2
    upload = _queued(uploader, csv_bytes([row(1)]))

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("registry.sql.imports.apply_changes", broken)
    first = upload_process(upload_id=upload.pk)

    assert first.state == UploadState.QUEUED and first.retry_in
    upload.refresh_from_db()
    assert (upload.state, upload.attempts) == (UploadState.QUEUED, 1)
    assert "RuntimeError" in upload.message and "disk on fire" not in upload.message
    assert not Entry.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        second = upload_process(upload_id=upload.pk)

    upload.refresh_from_db()
    assert second.state == UploadState.FAILED
    assert (upload.state, upload.attempts, upload.file_path) == (UploadState.FAILED, 2, "")
    assert "2 times" in upload.message
    assert AuditEvent.objects.filter(action="upload.fail", object_id=str(upload.pk)).exists()
    assert not Entry.objects.exists()


def test_the_watchdog_requeues_a_job_that_stopped_and_it_then_succeeds(
    uploader, member, eager_celery, django_capture_on_commit_callbacks
):
    upload = _queued(uploader, csv_bytes([row(1)]))
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    Upload.objects.filter(pk=upload.pk).update(state=UploadState.APPLYING, attempts=1, heartbeat_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        found = uploads_watchdog()

    assert found.requeued == 1
    upload.refresh_from_db()
    assert (upload.state, upload.attempts, upload.created) == (UploadState.SUCCEEDED, 2, 1)
    assert AuditEvent.objects.filter(action="upload.requeue", object_id=str(upload.pk)).count() == 1


def test_the_watchdog_fails_a_job_out_of_attempts_and_leaves_live_ones_alone(uploader, member, settings):
    settings.UPLOAD_MAX_ATTEMPTS = 3
    stuck = _queued(uploader, csv_bytes([row(1)]))
    alive = _queued(uploader, csv_bytes([row(2)]))
    now = timezone.now()
    Upload.objects.filter(pk=stuck.pk).update(
        state=UploadState.VALIDATING, attempts=3, heartbeat_at=now - datetime.timedelta(hours=1)
    )
    Upload.objects.filter(pk=alive.pk).update(state=UploadState.VALIDATING, attempts=1, heartbeat_at=now)

    found = uploads_watchdog()

    assert (found.failed, found.requeued) == (1, 0)
    assert "given up" in Upload.objects.get(pk=stuck.pk).message
    assert (_state(stuck), _state(alive)) == (UploadState.FAILED, UploadState.VALIDATING)


def test_the_watchdog_resends_a_queued_upload_whose_message_was_lost(uploader, no_broker):
    upload = _queued(uploader, csv_bytes([row(1)]))
    Upload.objects.filter(pk=upload.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    no_broker.clear()

    found = uploads_watchdog()
    again = uploads_watchdog()

    assert (found.resent, again.resent) == (1, 0)


def test_a_redelivered_job_of_a_finished_upload_does_nothing(send, member):
    upload = send(csv_bytes([row(1)])).upload
    before = Entry.objects.get(member=member).updated_at

    outcome = upload_process(upload_id=upload.pk)

    assert outcome.state == UploadState.SUCCEEDED and outcome.detail == "nothing to do"
    assert Entry.objects.get(member=member).updated_at == before


def test_the_watchdog_sweeps_files_left_by_requests_that_died(db, _media_root):
    old, fresh = incoming_dir() / "a.upload", incoming_dir() / "b.upload"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 7 * 3600,) * 2)

    assert uploads_watchdog().incoming_swept == 1
    assert (old.exists(), fresh.exists()) == (False, True)
