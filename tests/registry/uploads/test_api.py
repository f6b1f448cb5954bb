"""``POST uploads``, ``GET uploads``, ``GET uploads/{id}`` (``api.md``): refusals decided while
the request is received (4xx in the error shape, nothing stored), idempotency by content and
by ``Idempotency-Key``, the upload's shape, and another member's ids."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lenders.models import Region
from registry.choices import UploadState
from registry.models import Upload
from tests.core.error_shape import assert_error
from tests.registry.uploads.conftest import API
from tests.registry.uploads.helpers import csv_bytes, row

UPLOAD_KEYS = {
    "id",
    "state",
    "mode",
    "error_policy",
    "key_id",
    "file_name",
    "size",
    "sha256",
    "gzipped",
    "encoding",
    "detected_encoding",
    "rows_total",
    "rows_processed",
    "progress",
    "created",
    "updated",
    "unchanged",
    "withdrawn",
    "invalid",
    "snapshot_withdrawals",
    "snapshot_active",
    "message",
    "attempts",
    "sent_by",
    "confirmed_by",
    "confirmed_at",
    "cancelled_by",
    "timings",
    "errors_url",
}


def _files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _post(client, content: bytes = b"", name: str = "entries.csv", **fields):  # type: ignore[no-untyped-def]
    return client.post(API, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def test_an_accepted_upload_answers_202_then_shows_its_progress_counts_and_timings(send, uploader, region):
    response = send(csv_bytes([row(1), row(2)]), name="夜间导出 2026-11-26.csv")

    assert response.status_code == 202
    body = response.json()
    assert set(body) == UPLOAD_KEYS
    assert body["state"] == UploadState.QUEUED  # the job runs after the request
    assert body["key_id"] == region.current_hash_key.key_id
    assert body["file_name"] == "夜间导出 2026-11-26.csv"
    assert body["sent_by"]["user"] is None and len(body["sent_by"]["api_key"]) == 8

    detail = uploader.get(f"{API}/{body['id']}").json()
    assert detail["state"] == UploadState.SUCCEEDED
    assert (detail["rows_total"], detail["rows_processed"], detail["created"], detail["progress"]) == (2, 2, 2, 1.0)
    timings = detail["timings"]
    for name in ("received_at", "queued_at", "validating_at", "applying_at", "finished_at"):
        assert timings[name], name
    assert timings["total_seconds"] >= timings["applying_seconds"] >= 0
    assert detail["errors_url"] == f"{API}/{body['id']}/errors"


def test_the_file_is_stored_under_a_random_name_never_the_senders(uploader, member, _media_root):
    response = _post(uploader, csv_bytes([row(1)]), name="../../etc/passwd")

    assert response.status_code == 202
    upload = Upload.objects.get(pk=response.json()["id"])
    assert upload.file_name == "passwd"
    stored = _files(_media_root / "uploads")
    assert [p.relative_to(_media_root).as_posix() for p in stored] == [upload.file_path]
    assert upload.file_path.startswith(f"uploads/{member.pk}/") and "passwd" not in upload.file_path
    assert "file_path" not in response.json()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mode": "full"}, "mode"),
        ({"error_policy": "ignore"}, "error_policy"),
        ({"encoding": "latin-1"}, "encoding"),
        ({"key_id": "no-such-key"}, "key_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_form_field_is_a_400_and_nothing_is_stored(uploader, fields, field, _media_root):
    response = _post(uploader, csv_bytes([row(1)]), **fields)

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert not Upload.objects.exists()
    assert _files(_media_root / "uploads") == []


def test_a_missing_file_is_a_400(uploader):
    error = assert_error(uploader.post(API, {"mode": "delta"}, format="multipart"), 400, "validation_error")
    assert "file" in error["details"]


def test_a_json_body_is_refused_as_the_wrong_media_type(uploader):
    assert_error(uploader.post(API, {"file": "x"}, format="json"), 415, "unsupported_media_type")


def test_a_file_over_the_limit_is_refused_with_413_as_it_streams(uploader, region, _media_root):
    Region.objects.filter(pk=region.pk).update(upload_max_bytes=1000)

    response = _post(uploader, csv_bytes([row(n) for n in range(40)]))

    error = assert_error(response, 413, "too_large")
    assert "1,000" in error["message"]
    assert not Upload.objects.exists()
    assert _files(_media_root / "uploads") == []


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(uploader, region):
    Region.objects.filter(pk=region.pk).update(upload_max_bytes=1000)
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("a.csv", b"id_type\n")})

    # The body is small, but the request says 2 GB: reading it would fail the test client.
    response = uploader.generic("POST", API, body, content_type=MULTIPART_CONTENT, CONTENT_LENGTH=str(2 * 1024**3))

    assert_error(response, 413, "too_large")
    assert not Upload.objects.exists()


def test_the_same_content_again_returns_the_existing_upload(send, uploader):
    content = csv_bytes([row(1)])
    first = send(content)
    again = send(content, name="another-name.csv")
    as_snapshot = send(content, mode="snapshot")

    assert (first.status_code, again.status_code, as_snapshot.status_code) == (202, 200, 202)
    assert again.json()["id"] == first.json()["id"]
    assert as_snapshot.json()["id"] != first.json()["id"]


def test_the_same_content_after_a_rejection_makes_a_new_upload(send):
    content = csv_bytes([row(1, event_date="never")])
    first = send(content)
    assert first.upload.state == UploadState.REJECTED

    again = send(content)

    assert again.status_code == 202 and again.json()["id"] != first.json()["id"]


def test_an_idempotency_key_returns_the_first_upload_whatever_the_body(send, member, other_member, key_client):
    first = send(csv_bytes([row(1)]), headers={"Idempotency-Key": "nightly-2026-11-26"})
    again = send(csv_bytes([row(2)]), headers={"Idempotency-Key": "nightly-2026-11-26"})
    other = send(
        csv_bytes([row(1)]),
        client=key_client(other_member, scopes=["upload"]),
        headers={"Idempotency-Key": "nightly-2026-11-26"},
    )

    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert again.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert Upload.objects.filter(member=member).count() == 1


def test_an_idempotency_key_is_kept_24_hours(send):
    first = send(csv_bytes([row(1)]), headers={"Idempotency-Key": "k-1"})
    Upload.objects.filter(pk=first.json()["id"]).update(created_at=timezone.now() - datetime.timedelta(hours=25))

    later = send(csv_bytes([row(2)]), headers={"Idempotency-Key": "k-1"})

    assert later.status_code == 202 and later.json()["id"] != first.json()["id"]


def test_a_malformed_idempotency_key_is_a_400(uploader):
    response = uploader.post(
        API, {"file": SimpleUploadedFile("a.csv", b"x")}, format="multipart", headers={"Idempotency-Key": "é" * 3}
    )
    assert_error(response, 400, "validation_error")


def test_another_members_upload_is_not_found(send, other_member, key_client, person):
    upload = send(csv_bytes([row(1)])).upload
    theirs = key_client(other_member, scopes=["upload"])
    their_admin = person(other_member, "MEMBER_ADMIN")

    for path in ("", "/errors"):
        assert_error(theirs.get(f"{API}/{upload.pk}{path}"), 404, "not_found")
    assert_error(theirs.post(f"{API}/{upload.pk}/cancel"), 404, "not_found")
    assert_error(their_admin.post(f"{API}/{upload.pk}/confirm"), 404, "not_found")
    assert theirs.get(API).json()["results"] == []


def test_the_list_is_the_members_own_newest_first_in_constant_queries(send, uploader, member):
    send(csv_bytes([row(1)]))
    with CaptureQueriesContext(connection) as one:
        assert len(uploader.get(API).json()["results"]) == 1
    for n in range(2, 6):
        send(csv_bytes([row(n)]))
    with CaptureQueriesContext(connection) as five:
        body = uploader.get(API, {"page_size": 2}).json()

    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["id"] > body["results"][1]["id"]
    assert len(five.captured_queries) == len(one.captured_queries)


def test_who_may_send_and_read_uploads(member, region, person, key_client):
    viewer = person(member, "VIEWER")
    analyst = person(member, "ANALYST")
    operator = key_client(region.operator, role="OPERATOR_ADMIN")
    lookup_key = key_client(member, scopes=["lookup"])

    assert viewer.get(API).status_code == 200
    assert_error(_post(viewer, csv_bytes([row(1)])), 403, "permission_denied")
    assert_error(analyst.get(API), 403, "permission_denied")
    assert_error(operator.get(API), 403, "permission_denied")
    assert_error(_post(lookup_key, csv_bytes([row(1)])), 403, "permission_denied")
    assert not Upload.objects.exists()


def test_a_person_uploads_through_the_session(member, person, eager_celery, django_capture_on_commit_callbacks):
    client = person(member, "UPLOADER")

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes([row(1)]))

    assert response.status_code == 202, response.content
    upload = Upload.objects.get(pk=response.json()["id"])
    assert (upload.state, upload.sent_by) == (UploadState.SUCCEEDED, client.user)


def test_uploads_are_throttled_per_key(uploader, region):
    Region.objects.filter(pk=region.pk).update(upload_rate_per_hour=2)
    for n in range(2):
        assert _post(uploader, csv_bytes([row(n)])).status_code == 202

    response = _post(uploader, csv_bytes([row(9)]))

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert uploader.get(API).status_code == 200  # reading is not counted as uploading
