"""The relisting block (``disputes.md``, Rules): an entry removed by a dispute cannot be listed
as BLACK again by the same member within ``relist_block_days``, neither as a single entry nor
through an upload, until the operator lifts the block (``lift_relist_block``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError

from core.errors import Conflict
from registry.choices import EntryState, UploadState
from registry.models import Upload
from registry.uploads.selectors import upload_errors
from tests.registry.disputes.helpers import answer, file
from tests.registry.helpers import entry_of, lookup, run_command, subject, submit
from tests.registry.uploads.helpers import csv_bytes, row


@pytest.fixture
def withdrawn(member, filer):  # type: ignore[no-untyped-def]
    h = subject("relist")
    submit(member, h)
    answer(file(filer, h), member, "WITHDRAW")
    assert entry_of(member, h).state == EntryState.REMOVED
    return h


def test_a_single_black_entry_is_refused(member, withdrawn):
    with pytest.raises(Conflict) as refused:
        submit(member, withdrawn, "BLACK", "FRAUD")

    assert refused.value.code == "relist_blocked"
    assert entry_of(member, withdrawn).state == EntryState.REMOVED


def test_the_api_refuses_it_with_409(member, withdrawn, key_client):
    client = key_client(member, scopes=["entries"])

    response = client.post(
        "/api/v1/entries",
        {"id_type": "RIC", "subject_hash": withdrawn, "list": "BLACK", "reason": "FRAUD", "event_date": "2026-01-05"},
        format="json",
    )

    assert response.status_code == 409 and response.json()["error"]["code"] == "relist_blocked"


def test_an_upload_row_is_refused(
    member, other_member, withdrawn, key_client, eager_celery, django_capture_on_commit_callbacks: Any
):
    client = key_client(member, scopes=["upload"])
    content = csv_bytes([row("relist"), row("fresh subject")])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/uploads",
            {"file": SimpleUploadedFile("n.csv", content), "error_policy": "skip_invalid_rows"},
            format="multipart",
        )

    upload = Upload.objects.get(pk=response.json()["id"])
    assert upload.state == UploadState.SUCCEEDED
    assert [(e.line, e.code) for e in upload_errors(upload)] == [(2, "relist_blocked")]
    assert entry_of(member, withdrawn).state == EntryState.REMOVED
    assert entry_of(member, subject("fresh subject")).state == EntryState.ACTIVE


def test_another_member_and_a_white_entry_are_not_blocked(member, other_member, withdrawn):
    submit(other_member, withdrawn)
    submit(member, withdrawn, "WHITE", "GOOD_REPAYMENT")

    assert entry_of(member, withdrawn).state == EntryState.ACTIVE


def test_a_withdrawal_outside_a_dispute_blocks_nothing(member):
    from registry.services.entries import entry_withdraw
    from tests.registry.helpers import member_actor

    h = subject("own withdrawal")
    entry = submit(member, h).entry
    assert entry is not None
    entry_withdraw(actor=member_actor(member), entry_id=entry.pk)

    assert submit(member, h).result == "updated"


def test_the_operator_lifts_the_block(member, filer, withdrawn):
    result = run_command(
        "lift_relist_block", "--member", str(member.pk), "--id-type", "RIC", "--subject-hash", withdrawn
    )

    assert result == {"member": member.pk, "id_type": "RIC", "subject_hash": withdrawn, "lifted": 1}
    assert submit(member, withdrawn).result == "updated"
    assert lookup(filer, withdrawn)["status"] == "WATCH"


def test_lifting_where_no_block_runs_exits_1(member):
    with pytest.raises(CommandError) as failed:
        run_command("lift_relist_block", "--member", str(member.pk), "--id-type", "RIC", "--subject-hash", subject(9))

    assert failed.value.returncode == 1


def test_lifting_with_a_bad_hash_exits_2(member):
    with pytest.raises(CommandError) as failed:
        run_command("lift_relist_block", "--member", str(member.pk), "--id-type", "RIC", "--subject-hash", "abc")

    assert failed.value.returncode == 2
