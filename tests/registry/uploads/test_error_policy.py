"""``error_policy``: ``reject_file`` refuses the whole file for one invalid row;
``skip_invalid_rows`` applies the valid rows and reports the invalid ones. Either way the
report (line, column, code, message, value) is downloadable as CSV. The relisting block and a
subject repeated within the file are found set-based over the whole file."""

from __future__ import annotations

import csv
import datetime
import io

from django.utils import timezone

from registry.choices import UploadState
from registry.models import Entry, RelistBlock
from tests.registry.helpers import current_key, entry_of, subject, submit
from tests.registry.uploads.helpers import csv_bytes, report_of, row


def _report(client, upload) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/uploads/{upload.pk}/errors")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="upload-{upload.pk}-errors.csv"'
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_skip_invalid_rows_applies_the_valid_rows_and_reports_the_others(send, uploader, member):
    rows = [
        row(1),
        row(2, event_date="2026-13-01"),
        row(3, "WHITE", "FRAUD"),
        row(4),
        row(1, "WHITE", "GOOD_REPAYMENT"),
    ]

    upload = send(csv_bytes(rows), error_policy="skip_invalid_rows").upload

    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert (upload.rows_total, upload.created, upload.invalid) == (5, 2, 3)
    assert entry_of(member, subject(1)).list == "BLACK"  # the first of the repeated rows counts
    assert Entry.objects.filter(member=member).count() == 2
    report = _report(uploader, upload)
    assert [(r["line"], r["column"], r["code"]) for r in report] == [
        ("3", "event_date", "invalid_date"),
        ("4", "reason", "reason_not_for_list"),
        ("6", "subject_hash", "duplicate_subject"),
    ]
    assert report[0]["value"] == "2026-13-01"
    assert report[2]["message"].endswith("line 2")
    assert report[2]["value"] == ""  # a subject_hash cell is never echoed (it may be a raw number)


def test_reject_file_applies_nothing_when_one_row_is_invalid(send, member):
    upload = send(csv_bytes([row(1), row(2), row(3, list_kind="GREY")])).upload

    assert upload.state == UploadState.REJECTED
    assert (upload.rows_total, upload.invalid, upload.created) == (3, 1, 0)
    assert report_of(upload) == [(4, "list", "invalid_list")]
    assert not Entry.objects.filter(member=member).exists()


def test_a_black_row_under_a_relisting_block_is_refused(send, member):
    key = current_key(member.region)
    today = timezone.localdate()
    RelistBlock.objects.create(
        member=member,
        hash_key=key,
        id_type="RIC",
        subject_hash=bytes.fromhex(subject("blocked")),
        until=today + datetime.timedelta(days=10),
    )
    RelistBlock.objects.create(
        member=member,
        hash_key=key,
        id_type="RIC",
        subject_hash=bytes.fromhex(subject("lifted")),
        until=today + datetime.timedelta(days=10),
        lifted_at=timezone.now(),
    )
    # The same hash under another id_type is another subject: not blocked.
    rows = [row("blocked"), row("blocked", id_type="USCC"), row("lifted")]

    upload = send(csv_bytes(rows), error_policy="skip_invalid_rows").upload

    assert report_of(upload) == [(2, "list", "relist_blocked")]
    error = upload.errors.get()
    assert (today + datetime.timedelta(days=10)).isoformat() in error.message
    assert (upload.created, upload.invalid) == (2, 1)


def test_a_white_row_is_not_blocked(send, member):
    RelistBlock.objects.create(
        member=member,
        hash_key=current_key(member.region),
        id_type="RIC",
        subject_hash=bytes.fromhex(subject("w")),
        until=timezone.localdate() + datetime.timedelta(days=3),
    )

    upload = send(csv_bytes([row("w", "WHITE", "GOOD_REPAYMENT")])).upload

    assert (upload.state, upload.created) == (UploadState.SUCCEEDED, 1)


def test_the_report_keeps_its_first_errors_and_the_counts_stay_exact(send, settings, member):
    settings.UPLOAD_MAX_ERRORS = 3
    submit(member, subject("keep"))

    upload = send(csv_bytes([row(n, event_date="bad") for n in range(8)]), error_policy="skip_invalid_rows").upload

    assert (upload.state, upload.invalid) == (UploadState.SUCCEEDED, 8)
    assert upload.errors.count() == 3
    assert "first 3 errors" in upload.message
