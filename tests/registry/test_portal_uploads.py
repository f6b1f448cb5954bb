"""The member's uploads pages: /uploads/ (the list and the send form), /uploads/<id>/ (state,
progress, counts, timings, errors, confirm and cancel), /uploads/<id>/status (JSON for the
page's script) and /uploads/<id>/errors.csv (the error report)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from core.models import AuditEvent
from lenders.choices import Role
from lenders.models import Member, Region, User
from registry.choices import EntryState, UploadState
from registry.models import Entry, Upload
from registry.uploads.services import upload_receive
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import entry_of, member_actor, subject, submit
from tests.registry.uploads.corpus import FORMULA
from tests.registry.uploads.helpers import csv_bytes, row, withdraw

LIST = "/uploads/"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> Path:
    """Stored files go to a fresh directory per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def person(user_with: Callable[..., User]) -> Callable[..., Client]:
    """A signed-in person of ``member`` with one role, reading English pages."""

    def build(member: Member, role: str) -> Client:
        return signed_in(user_with(member, role), language="en")

    return build


@pytest.fixture
def send_form(eager_celery: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST the portal's send form; the job runs at once (eagerly) after the request commits."""

    def post(client: Client, content: bytes, *, name: str = "nightly.csv", **fields: str) -> Any:
        form = {"mode": "delta", "error_policy": "reject_file", "encoding": "", **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(LIST, {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **form})

    return post


def _queued(member: Member, name: str = "queued.csv", content: bytes | None = None, **options: str) -> Upload:
    """An upload received through the service and left QUEUED (no job runs: no commit)."""
    data = content if content is not None else csv_bytes([row(f"{member.pk}-{name}")])
    upload, created = upload_receive(
        actor=member_actor(member), file=SimpleUploadedFile(name, data, content_type="text/csv"), **options
    )
    assert created and upload.state == UploadState.QUEUED
    return upload


def _shown(html: str, field: str) -> list[str]:
    """The values the page shows in the elements marked ``data-upload-field="<field>"``."""
    return [value.strip() for value in re.findall(rf'data-upload-field="{field}"[^>]*>([^<]*)<', html)]


def _detail_id(response: Any) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    found = re.fullmatch(r"/uploads/(\d+)/", response["Location"])
    assert found, response["Location"]
    return int(found.group(1))


# -- the list -----------------------------------------------------------------------------------


def test_the_list_shows_own_uploads_only_newest_first(member, other_member, person):
    first = _queued(member, "first-mine.csv")
    second = _queued(member, "second-mine.csv")
    _queued(other_member, "theirs-secret.csv")

    response = person(member, Role.VIEWER).get(LIST)

    assert response.status_code == 200
    html = page_text(response)
    assert "first-mine.csv" in html and "second-mine.csv" in html
    assert "theirs-secret.csv" not in html
    assert "2 uploads" in html
    assert html.index(f'href="/uploads/{second.pk}/"') < html.index(f'href="/uploads/{first.pk}/"')
    # state in words, a progress bar, the status address of the script for uploads still moving
    assert "Queued" in html
    assert html.count("<progress") == 2
    assert f'data-upload-status="/uploads/{first.pk}/status"' in html


def test_the_list_shows_who_sent_each_upload(
    member, key_client, eager_celery, django_capture_on_commit_callbacks, person
):
    nightly = key_client(member, scopes=["upload"])
    with django_capture_on_commit_callbacks(execute=True):
        response = nightly.post(
            "/api/v1/uploads", {"file": SimpleUploadedFile("api.csv", csv_bytes([row(1)]))}, format="multipart"
        )
    assert response.status_code == 202
    prefix = Upload.objects.get().sent_by_key
    client = person(member, Role.UPLOADER)
    send = client.post(LIST, {"file": SimpleUploadedFile("portal.csv", csv_bytes([row(2)])), "mode": "delta"})
    person_name = User.objects.filter(member=member).get().username

    html = page_text(client.get(LIST))

    assert _detail_id(send)
    assert f"API key {prefix}" in html
    assert person_name in html
    assert "Succeeded" in html


def test_the_upload_page_is_in_the_menu_of_those_who_may_read_uploads(member, person):
    assert 'href="/uploads/"' in page_text(person(member, Role.VIEWER).get("/"))
    analyst = person(member, Role.ANALYST)
    assert 'href="/uploads/"' not in page_text(analyst.get("/"))
    assert analyst.get(LIST).status_code == 403


def test_a_viewer_reads_the_list_but_may_not_send(member, person):
    viewer = person(member, Role.VIEWER)

    html = page_text(viewer.get(LIST))
    refused = viewer.post(LIST, {"file": SimpleUploadedFile("x.csv", csv_bytes([row(1)])), "mode": "delta"})

    assert 'enctype="multipart/form-data"' not in html
    assert refused.status_code == 403
    assert not Upload.objects.exists()


def test_every_uploads_page_goes_through_portal_view():
    from registry.views.member_urls import urlpatterns

    for pattern in urlpatterns:
        if str(pattern.pattern).startswith("uploads/"):
            assert hasattr(pattern.callback, "portal_perm"), f"{pattern.name} is not wrapped in portal_view"


# -- sending --------------------------------------------------------------------------------------


def test_a_valid_file_sent_through_the_form_is_applied_and_its_counts_shown(member, person, send_form):
    submit(member, subject("same"))
    submit(member, subject("changed"))
    submit(member, subject("gone"))
    rows = [row("new"), row("same"), row("changed", reason="FRAUD"), withdraw("gone")]
    client = person(member, Role.UPLOADER)

    response = send_form(client, csv_bytes(rows), name="C:\\exports\\nightly 2026-11-26.csv")

    upload = Upload.objects.get(pk=_detail_id(response))
    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert (upload.rows_total, upload.created, upload.updated, upload.unchanged, upload.withdrawn) == (4, 1, 1, 1, 1)
    assert upload.sent_by is not None and upload.sent_by.member == member
    assert entry_of(member, subject("gone")).state == EntryState.WITHDRAWN
    assert entry_of(member, subject("changed")).reason == "FRAUD"
    page = client.get(response["Location"])
    html = page_text(page)
    assert "The file was received as upload" in html
    assert "Succeeded" in html
    assert "nightly 2026-11-26.csv" in html and "exports" not in html
    for field, value in (("created", "1"), ("updated", "1"), ("unchanged", "1"), ("withdrawn", "1"), ("invalid", "0")):
        assert _shown(html, field)[0] == value, field
    assert re.search(r'<progress id="upload-progress-bar" max="4" value="4"', html)
    assert "4 of 4 rows" in html
    assert "Checking the rows" in html and " s in all" in html  # the timings of each phase
    assert '<meta http-equiv="refresh"' not in html and "data-upload-status=" not in html  # over: nothing to follow
    assert "upload-errors" not in html  # no error report to show


def test_sending_the_same_file_again_shows_the_upload_already_made(member, person, send_form):
    client = person(member, Role.UPLOADER)
    content = csv_bytes([row(1)])
    first = _detail_id(send_form(client, content))

    again = send_form(client, content, name="renamed.csv")

    assert _detail_id(again) == first
    assert Upload.objects.count() == 1
    assert "was already sent with the same options" in page_text(client.get(again["Location"]))


def test_a_snapshot_with_an_encoding_sent_through_the_form(member, person, send_form):
    for name in ("kept-0", "kept-1", "old"):
        submit(member, subject(name))
    rows = [row("kept-0", reference="前海合同-001"), row("kept-1")]

    response = send_form(
        person(member, Role.UPLOADER), csv_bytes(rows, encoding="gb18030"), mode="snapshot", encoding="gbk"
    )

    upload = Upload.objects.get(pk=_detail_id(response))
    assert (upload.mode, upload.encoding, upload.state) == ("snapshot", "gbk", UploadState.SUCCEEDED), upload.message
    assert (upload.updated, upload.unchanged, upload.withdrawn) == (1, 1, 1)
    assert entry_of(member, subject("kept-0")).reference == "前海合同-001"
    assert entry_of(member, subject("old")).state == EntryState.WITHDRAWN


def test_the_form_explains_the_modes_and_names_missing_choices(member, region, person):
    client = person(member, Role.UPLOADER)
    html = page_text(client.get(LIST))
    assert 'enctype="multipart/form-data"' in html
    assert "complete current list" in html and "50%" in html  # the snapshot guard in plain words
    assert f'data-max-bytes="{region.upload_max_bytes}"' in html

    response = client.post(LIST, {"mode": "sideways", "error_policy": "reject_file"})

    assert response.status_code == 200
    html = page_text(response)
    assert "Choose the file to send." in html
    assert "Select a valid choice" in html
    assert not Upload.objects.exists()


def test_a_file_over_the_region_limit_is_refused_on_the_form(member, region, person, _media_root):
    Region.objects.filter(pk=region.pk).update(upload_max_bytes=200)
    content = csv_bytes([row(n) for n in range(5)])
    assert len(content) > 200

    response = person(member, Role.UPLOADER).post(
        LIST, {"file": SimpleUploadedFile("big.csv", content), "mode": "delta"}
    )

    assert response.status_code == 413
    html = page_text(response)
    assert "larger than this region&#x27;s upload limit of 200 bytes" in html
    assert 'enctype="multipart/form-data"' in html
    assert not Upload.objects.exists()
    assert [p for p in _media_root.rglob("*") if p.is_file()] == []  # the partial file is gone


def test_the_send_form_checks_its_csrf_token_after_reading_the_file(member, user_with):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user_with(member, Role.UPLOADER))

    refused = client.post(LIST, {"file": SimpleUploadedFile("x.csv", csv_bytes([row(1)])), "mode": "delta"})
    page = client.get(LIST)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    accepted = client.post(
        LIST,
        {
            "csrfmiddlewaretoken": token.group(1),
            "file": SimpleUploadedFile("x.csv", csv_bytes([row(1)])),
            "mode": "delta",
        },
    )

    assert refused.status_code == 403
    assert _detail_id(accepted) == Upload.objects.get().pk


def test_the_region_upload_rate_applies_to_the_form(member, region, person):
    Region.objects.filter(pk=region.pk).update(upload_rate_per_hour=1)
    client = person(member, Role.UPLOADER)
    assert _detail_id(client.post(LIST, {"file": SimpleUploadedFile("a.csv", csv_bytes([row(1)]))}))

    response = client.post(LIST, {"file": SimpleUploadedFile("b.csv", csv_bytes([row(2)]))})

    assert response.status_code == 429
    assert "try again later" in page_text(response)
    assert Upload.objects.count() == 1


# -- a refused file and its error report ----------------------------------------------------------


def test_a_rejected_file_shows_its_errors_and_the_report_downloads_escaped(member, person, send_form):
    client = person(member, Role.VIEWER)
    rows = [row(1), row(2, reference=FORMULA), row(3, "WHITE", "FRAUD")]
    upload = Upload.objects.get(pk=_detail_id(send_form(person(member, Role.UPLOADER), csv_bytes(rows))))
    assert upload.state == UploadState.REJECTED

    html = page_text(client.get(f"/uploads/{upload.pk}/"))
    report = client.get(f"/uploads/{upload.pk}/errors.csv")

    assert "The file was refused" in html
    assert upload.message in html
    assert "Rejected" in html
    assert re.search(r"<td class=\"num\">3</td>\s*<td><code>reference</code></td>\s*<td><code>reference_too_long", html)
    assert re.search(r"<td class=\"num\">4</td>\s*<td><code>reason</code></td>\s*<td><code>reason_not_for_list", html)
    assert f'href="/uploads/{upload.pk}/errors.csv"' in html
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    assert report["Content-Disposition"] == f'attachment; filename="upload-{upload.pk}-errors.csv"'
    raw = b"".join(report.streaming_content)
    assert raw.startswith("\ufeff".encode())
    lines = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["line"], r["column"], r["code"]) for r in lines] == [
        ("3", "reference", "reference_too_long"),
        ("4", "reason", "reason_not_for_list"),
    ]
    cells = [cell for line in lines for cell in line.values()]
    assert "'" + FORMULA[:100] in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert not Entry.objects.filter(member=member).exists()


def test_the_page_shows_the_first_errors_and_says_how_many_there_are(member, person, send_form, monkeypatch):
    monkeypatch.setattr("registry.views.uploads.ERRORS_SHOWN", 2)
    rows = [row(n, event_date="someday") for n in range(5)]
    upload_id = _detail_id(send_form(person(member, Role.UPLOADER), csv_bytes(rows)))

    html = page_text(person(member, Role.VIEWER).get(f"/uploads/{upload_id}/"))

    assert "The first 2 of 5 errors." in html
    assert html.count("<code>invalid_date</code>") == 2


# -- confirm and cancel ---------------------------------------------------------------------------


@pytest.fixture
def stopped(member, person, send_form) -> Upload:  # type: ignore[no-untyped-def]
    """A snapshot that would withdraw 9 of the member's 10 active entries: stopped by the guard."""
    for n in range(10):
        submit(member, subject(f"snap-{n}"))
    response = send_form(person(member, Role.UPLOADER), csv_bytes([row("snap-0")]), mode="snapshot")
    upload = Upload.objects.get(pk=_detail_id(response))
    assert upload.state == UploadState.NEEDS_CONFIRMATION
    return upload


def _active(member: Member) -> int:
    return Entry.objects.filter(member=member, state=EntryState.ACTIVE).count()


def test_a_member_admin_sees_the_confirm_button_with_the_withdrawals(member, person, stopped):
    html = page_text(person(member, Role.MEMBER_ADMIN).get(f"/uploads/{stopped.pk}/"))

    assert f'action="/uploads/{stopped.pk}/confirm"' in html
    assert "Confirm: withdraw 9 entries" in html
    assert "withdraw 9 of your 10 active entries" in html
    assert f'action="/uploads/{stopped.pk}/cancel"' in html
    assert "Needs confirmation" in html
    # waiting for a person, not moving: the page neither reloads nor polls
    assert '<meta http-equiv="refresh"' not in html and "data-upload-status=" not in html


def test_an_uploader_may_cancel_but_not_confirm(member, person, stopped):
    uploader = person(member, Role.UPLOADER)
    html = page_text(uploader.get(f"/uploads/{stopped.pk}/"))

    refused = uploader.post(f"/uploads/{stopped.pk}/confirm")

    assert f'action="/uploads/{stopped.pk}/confirm"' not in html
    assert "Only a member administrator can confirm" in html
    assert f'action="/uploads/{stopped.pk}/cancel"' in html
    assert refused.status_code == 403
    stopped.refresh_from_db()
    assert stopped.state == UploadState.NEEDS_CONFIRMATION


def test_confirming_applies_the_snapshot(member, person, stopped, eager_celery, django_capture_on_commit_callbacks):
    admin = person(member, Role.MEMBER_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/uploads/{stopped.pk}/confirm")

    assert response.status_code == 302 and response["Location"] == f"/uploads/{stopped.pk}/"
    stopped.refresh_from_db()
    assert (stopped.state, stopped.withdrawn, stopped.unchanged) == (UploadState.SUCCEEDED, 9, 1)
    assert stopped.confirmed_by is not None and stopped.confirmed_by.member == member
    assert _active(member) == 1
    html = page_text(admin.get(response["Location"]))
    assert "The snapshot was confirmed" in html
    assert _shown(html, "withdrawn")[0] == "9"
    assert "Confirmed by" in html
    assert f'action="/uploads/{stopped.pk}/confirm"' not in html


def test_cancelling_cancels_and_applies_nothing(member, person, stopped):
    uploader = person(member, Role.UPLOADER)

    response = uploader.post(f"/uploads/{stopped.pk}/cancel")

    assert response.status_code == 302 and response["Location"] == f"/uploads/{stopped.pk}/"
    stopped.refresh_from_db()
    assert stopped.state == UploadState.CANCELLED
    assert _active(member) == 10
    html = page_text(uploader.get(response["Location"]))
    assert "The upload was cancelled" in html
    assert "Cancelled by" in html
    assert f'action="/uploads/{stopped.pk}/cancel"' not in html
    # cancelling twice: the state moved on, which the page says (not an error page)
    again = uploader.post(f"/uploads/{stopped.pk}/cancel")
    assert again.status_code == 302
    html = page_text(uploader.get(again["Location"]))
    assert "Only a queued upload or one that needs confirmation can be cancelled" in html


def test_a_queued_upload_can_be_cancelled_and_a_viewer_cannot(member, person):
    upload = _queued(member)
    viewer = person(member, Role.VIEWER)

    html = page_text(viewer.get(f"/uploads/{upload.pk}/"))
    refused = viewer.post(f"/uploads/{upload.pk}/cancel")

    assert f'action="/uploads/{upload.pk}/cancel"' not in html
    assert refused.status_code == 403
    uploader = person(member, Role.UPLOADER)
    assert f'action="/uploads/{upload.pk}/cancel"' in page_text(uploader.get(f"/uploads/{upload.pk}/"))
    assert uploader.post(f"/uploads/{upload.pk}/cancel").status_code == 302
    upload.refresh_from_db()
    assert upload.state == UploadState.CANCELLED


# -- following a job ------------------------------------------------------------------------------


def test_an_upload_in_progress_is_followed_by_script_and_by_refresh(member, person):
    upload = _queued(member)

    html = page_text(person(member, Role.VIEWER).get(f"/uploads/{upload.pk}/"))

    assert f'data-upload-status="/uploads/{upload.pk}/status"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert "/static/registry/uploads.js" in html
    assert re.search(r'<progress id="upload-progress-bar" max="1" data-upload-field="bar">', html)  # waiting


def test_the_status_json_follows_the_job(member, person):
    upload = _queued(member, content=csv_bytes([row(1), row(2), row(3)]))
    client = person(member, Role.VIEWER)

    queued = client.get(f"/uploads/{upload.pk}/status")
    Upload.objects.filter(pk=upload.pk).update(state=UploadState.VALIDATING, bytes_read=upload.size // 2)
    validating = client.get(f"/uploads/{upload.pk}/status").json()
    Upload.objects.filter(pk=upload.pk).update(
        state=UploadState.SUCCEEDED, rows_total=3, rows_processed=3, created=2, unchanged=1
    )
    done = client.get(f"/uploads/{upload.pk}/status").json()

    assert queued.status_code == 200 and queued["Content-Type"] == "application/json"
    assert "no-store" in queued["Cache-Control"]
    status = queued.json()
    assert (status["id"], status["state"], status["state_label"], status["live"]) == (
        upload.pk,
        "QUEUED",
        "Queued",
        True,
    )
    assert status["bar_value"] is None and status["percent"] is None
    assert (validating["state"], validating["bar_max"], validating["percent"]) == ("VALIDATING", upload.size, 50)
    assert (done["live"], done["terminal"], done["bar_max"], done["bar_value"], done["percent"]) == (
        False,
        True,
        3,
        3,
        100,
    )
    assert (done["created"], done["updated"], done["unchanged"], done["withdrawn"], done["invalid"]) == (2, 0, 1, 0, 0)
    assert done["progress_text"] == "3 of 3 rows"
    assert done["badge"] == "badge-ok" and done["symbol"]
    json.dumps(done)


def test_another_members_upload_is_not_found(member, other_member, person):
    theirs = _queued(other_member, "theirs.csv")
    client = person(member, Role.MEMBER_ADMIN)

    for path in ("/", "/status", "/errors.csv"):
        assert client.get(f"/uploads/{theirs.pk}{path}").status_code == 404, path
    for path in ("/confirm", "/cancel"):
        assert client.post(f"/uploads/{theirs.pk}{path}").status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.state == UploadState.QUEUED


def test_signed_out_visitors_are_sent_to_sign_in(member):
    upload = _queued(member)
    for path in (LIST, f"/uploads/{upload.pk}/", f"/uploads/{upload.pk}/status"):
        response = Client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path


# -- the demo -------------------------------------------------------------------------------------


def test_load_demo_makes_upload_history_once(db):
    out = io.StringIO()
    call_command("load_demo", stdout=out, stderr=io.StringIO())
    uploads = list(Upload.objects.order_by("pk").values_list("file_name", "state", "invalid"))
    events = AuditEvent.objects.count()

    call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())

    assert list(Upload.objects.order_by("pk").values_list("file_name", "state", "invalid")) == uploads
    assert AuditEvent.objects.count() == events
    states = {state for _name, state, _invalid in uploads}
    assert {UploadState.SUCCEEDED, UploadState.REJECTED} <= states
    assert any(invalid for _name, state, invalid in uploads if state == UploadState.SUCCEEDED)
    assert all(not upload.file_path for upload in Upload.objects.all())
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert [u["state"] for u in result["uploads"]] == [state for _name, state, _invalid in uploads]
