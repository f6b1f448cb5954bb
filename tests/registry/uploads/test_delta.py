"""Delta uploads: each row creates, updates, leaves unchanged or withdraws one of the member's
entries, exactly as the single-entry API would, and the consensus of every touched subject is
recomputed in the same transaction (consistent when ``SUCCEEDED``, equal to a full
recomputation)."""

from __future__ import annotations

import pytest
from django.db import connection

from core.models import AuditEvent
from registry.choices import ConsensusCause, EntryState, UploadState
from registry.models import ConsensusHistory, Entry
from registry.services.consensus import consensus_verify
from registry.services.entries import entry_withdraw
from tests.registry.helpers import days_ago, entry_of, history_of, lookup, member_actor, subject, submit
from tests.registry.uploads.helpers import csv_bytes, row, withdraw


def test_a_delta_file_creates_updates_keeps_and_withdraws(send, member, other_member, region):
    same = submit(member, subject("same"), event_date=days_ago(30)).entry
    changed = submit(member, subject("changed"), "BLACK", "SEVERE_OVERDUE").entry
    switched = submit(member, subject("switched"), "WHITE", "GOOD_REPAYMENT").entry
    leaving = submit(member, subject("leaving")).entry
    submit(other_member, subject("changed"), "BLACK", "SEVERE_OVERDUE")
    assert same and changed and switched and leaving

    upload = send(
        csv_bytes(
            [
                row("new-1"),
                row("new-2", "WHITE", "LONG_TERM_CLIENT", reference="合同-2026-77"),
                row("same", event_date=days_ago(30)),
                row("changed", "BLACK", "WRITE_OFF"),
                row("switched", "BLACK", "FRAUD"),
                withdraw("leaving"),
                withdraw("never-listed"),
            ]
        )
    ).upload

    assert upload.state == UploadState.SUCCEEDED, upload.message
    counts = (upload.rows_total, upload.created, upload.updated, upload.unchanged, upload.withdrawn, upload.invalid)
    assert counts == (7, 2, 2, 2, 1, 0)
    assert entry_of(member, subject("new-2")).reference == "合同-2026-77"
    assert entry_of(member, subject("changed")).reason == "WRITE_OFF"
    assert entry_of(member, subject("switched")).list == "BLACK"
    assert entry_of(member, subject("leaving")).state == EntryState.WITHDRAWN
    assert entry_of(member, subject("same")).updated_at == same.updated_at
    assert not Entry.objects.filter(subject_hash=bytes.fromhex(subject("never-listed"))).exists()
    # Consistent: when the upload says SUCCEEDED, lookups already show the new consensus.
    result = lookup(other_member, subject("changed"))
    assert (result["status"], result["black_score"], result["reasons"]) == (
        "BLACK",
        92,
        {"WRITE_OFF": 1, "SEVERE_OVERDUE": 1},
    )
    assert lookup(other_member, subject("switched"))["status"] == "WATCH"
    assert lookup(other_member, subject("leaving"))["status"] == "CLEAR"
    assert consensus_verify(region=region).different == 0


def test_the_consensus_history_and_the_audit_name_the_upload(send, member):
    upload = send(csv_bytes([row("h1", "BLACK", "COURT_ENFORCED"), row("h2", "WHITE", "GOOD_REPAYMENT")])).upload

    history = history_of(member.region, subject("h1"))
    assert [(h.cause, h.cause_ref, h.new_status) for h in history] == [
        (ConsensusCause.UPLOAD, f"upload:{upload.pk}", "BLACK")
    ]
    events = AuditEvent.objects.filter(action="upload.apply", object_id=str(upload.pk))
    assert events.count() == 1
    details = events.get().details
    assert {k: details[k] for k in ("created", "updated", "unchanged", "withdrawn", "invalid")} == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "withdrawn": 0,
        "invalid": 0,
    }
    assert events.get().member_id == member.pk


def test_a_row_relisting_a_withdrawn_entry_reactivates_it(send, member):
    entry = submit(member, subject("back")).entry
    assert entry is not None
    entry_withdraw(actor=member_actor(member), entry_id=entry.pk)

    upload = send(csv_bytes([row("back")])).upload

    assert (upload.updated, upload.unchanged) == (1, 0)
    assert entry_of(member, subject("back")).state == EntryState.ACTIVE
    assert lookup(member, subject("back"))["status"] == "WATCH"


def test_unchanged_rows_touch_no_consensus(send, member):
    submit(member, subject("quiet"), event_date=days_ago(10))
    history_before = ConsensusHistory.objects.count()

    upload = send(csv_bytes([row("quiet", event_date=days_ago(10))])).upload

    assert (upload.unchanged, upload.created, upload.updated) == (1, 0, 0)
    assert ConsensusHistory.objects.count() == history_before


def test_sending_the_same_file_again_applies_nothing_twice(send, member):
    content = csv_bytes([row("once")])
    first = send(content)
    again = send(content)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Entry.objects.filter(member=member).count() == 1
    assert len(history_of(member.region, subject("once"))) == 1


def test_the_apply_event_says_how_long_each_phase_took(send, member):
    upload = send(csv_bytes([row("phase-1"), row("phase-2", "WHITE", "GOOD_REPAYMENT")])).upload

    assert upload.state == UploadState.SUCCEEDED
    phases = AuditEvent.objects.get(action="upload.apply", object_id=str(upload.pk)).details["phase_seconds"]
    # (PostgreSQL's jsonb keeps keys in its own order.)
    assert set(phases) == {"parse_validate", "stage_copy", "whole_file_checks", "classify", "merge", "consensus"}
    assert all(isinstance(seconds, float | int) and seconds >= 0 for seconds in phases.values())


def test_the_job_leaves_its_connection_with_the_default_memory_settings(send, member):
    if connection.vendor != "postgresql":
        pytest.skip("the job tunes its PostgreSQL session only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]

    upload = send(csv_bytes([row("tuned")])).upload

    assert upload.state == UploadState.SUCCEEDED
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before
