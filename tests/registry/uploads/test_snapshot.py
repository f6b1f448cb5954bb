"""Snapshot uploads: the file is the member's complete list, every active entry not in it is
withdrawn; past ``snapshot_max_withdraw_ratio`` the upload stops in ``NEEDS_CONFIRMATION``
having changed nothing, until a member administrator's session confirms it (never an API key)
or anyone who may upload cancels it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import AuditEvent
from lenders.models import Region
from registry.choices import EntryState, UploadState
from registry.models import Entry, Upload
from registry.services.consensus import consensus_verify
from tests.core.error_shape import assert_error
from tests.registry.helpers import entry_of, lookup, subject, submit
from tests.registry.uploads.helpers import csv_bytes, row


@pytest.fixture
def ten_entries(member):  # type: ignore[no-untyped-def]
    for n in range(10):
        submit(member, subject(f"snap-{n}"))


def _active(member) -> int:  # type: ignore[no-untyped-def]
    return Entry.objects.filter(member=member, state=EntryState.ACTIVE).count()


def test_a_snapshot_withdraws_the_entries_it_does_not_list(send, member, other_member, region, ten_entries):
    submit(other_member, subject("snap-9"))
    kept = [row(f"snap-{n}") for n in range(7)]

    upload = send(csv_bytes([*kept, row("snap-new")]), mode="snapshot").upload

    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert (upload.created, upload.unchanged, upload.withdrawn) == (1, 7, 3)
    assert (upload.snapshot_withdrawals, upload.snapshot_active) == (3, 10)
    assert entry_of(member, subject("snap-9")).state == EntryState.WITHDRAWN
    assert lookup(other_member, subject("snap-9"))["black_members"] == 1
    assert _active(member) == 8
    assert consensus_verify(region=region).different == 0


def test_a_snapshot_keeps_the_entries_of_its_invalid_rows(send, member, ten_entries):
    rows = [row(f"snap-{n}") for n in range(9)] + [row("snap-9", event_date="someday")]

    upload = send(csv_bytes(rows), mode="snapshot", error_policy="skip_invalid_rows").upload

    assert (upload.state, upload.invalid, upload.withdrawn) == (UploadState.SUCCEEDED, 1, 0)
    assert _active(member) == 10


def test_the_guard_stops_a_truncated_snapshot_and_changes_nothing(send, member, ten_entries):
    before = list(Entry.objects.order_by("id").values_list("id", "state", "updated_at"))

    upload = send(csv_bytes([row("snap-0"), row("snap-1"), row("snap-new")]), mode="snapshot").upload

    assert upload.state == UploadState.NEEDS_CONFIRMATION
    assert (upload.snapshot_withdrawals, upload.snapshot_active) == (8, 10)
    assert "8" in upload.message and "10" in upload.message
    assert list(Entry.objects.order_by("id").values_list("id", "state", "updated_at")) == before
    assert upload.file_path  # kept for the confirmation


def test_the_guard_follows_the_region_ratio(send, member, region, ten_entries):
    Region.objects.filter(pk=region.pk).update(snapshot_max_withdraw_ratio=Decimal("0.9"))

    upload = send(csv_bytes([row("snap-0"), row("snap-1")]), mode="snapshot").upload

    assert (upload.state, upload.withdrawn) == (UploadState.SUCCEEDED, 8)


@pytest.fixture
def stopped(send, ten_entries) -> Upload:  # type: ignore[no-untyped-def]
    upload = send(csv_bytes([row("snap-0")]), mode="snapshot").upload
    assert upload.state == UploadState.NEEDS_CONFIRMATION
    return upload


def test_a_member_admin_session_confirms_and_the_snapshot_applies(
    stopped, member, person, eager_celery, django_capture_on_commit_callbacks
):
    client = person(member, "MEMBER_ADMIN")
    admin = client.user

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/uploads/{stopped.pk}/confirm")

    assert response.status_code == 202, response.content
    assert response.json()["confirmed_by"] == admin.username
    stopped.refresh_from_db()
    assert stopped.state == UploadState.SUCCEEDED, stopped.message
    assert (stopped.withdrawn, stopped.unchanged) == (9, 1)
    assert stopped.confirmed_by == admin
    assert _active(member) == 1
    assert AuditEvent.objects.filter(action="upload.confirm", user_id=admin.pk).count() == 1


def test_an_api_key_cannot_confirm(stopped, member, uploader, key_client):
    every_scope = key_client(member, scopes=["lookup", "upload", "entries", "disputes"])
    for client in (uploader, every_scope):
        assert_error(client.post(f"/api/v1/uploads/{stopped.pk}/confirm"), 403, "permission_denied")
    stopped.refresh_from_db()
    assert stopped.state == UploadState.NEEDS_CONFIRMATION


def test_an_uploader_person_cannot_confirm_but_can_cancel(stopped, member, person):
    client = person(member, "UPLOADER")

    assert_error(client.post(f"/api/v1/uploads/{stopped.pk}/confirm"), 403, "permission_denied")
    response = client.post(f"/api/v1/uploads/{stopped.pk}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == UploadState.CANCELLED


def test_an_api_key_cancels_and_nothing_is_applied(stopped, member, uploader):
    response = uploader.post(f"/api/v1/uploads/{stopped.pk}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == UploadState.CANCELLED
    assert body["cancelled_by"].startswith("api-key:")
    assert _active(member) == 10
    stopped.refresh_from_db()
    assert not stopped.file_path


def test_confirming_or_cancelling_in_the_wrong_state_is_a_conflict(send, member, person, uploader):
    done = send(csv_bytes([row("x")])).upload
    client = person(member, "MEMBER_ADMIN")

    assert_error(client.post(f"/api/v1/uploads/{done.pk}/confirm"), 409, "upload_state")
    assert_error(uploader.post(f"/api/v1/uploads/{done.pk}/cancel"), 409, "upload_state")


def test_a_later_upload_waits_behind_one_that_needs_confirmation(
    stopped, send, member, uploader, django_capture_on_commit_callbacks
):
    later = send(csv_bytes([row("later")])).upload
    assert later.state == UploadState.QUEUED
    assert str(stopped.pk) in later.message

    with django_capture_on_commit_callbacks(execute=True):
        uploader.post(f"/api/v1/uploads/{stopped.pk}/cancel")

    later.refresh_from_db()
    assert later.state == UploadState.SUCCEEDED, later.message
    assert entry_of(member, subject("later")).state == EntryState.ACTIVE
