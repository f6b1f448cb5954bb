"""Retention ends an entry on the exact day (``consensus.md``): a lookup stops counting it that
day even before the daily job runs, and ``expire_entries --as-of`` expires it."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry.choices import ConsensusCause, EntryState
from tests.registry.helpers import (
    entry_of,
    event_date_ending_on,
    history_of,
    local_today,
    lookup,
    record_of,
    run_command,
    subject,
    submit,
)

ONE_DAY = datetime.timedelta(days=1)
ENDING = subject("retention-ends-today")
RUNNING = subject("retention-ends-tomorrow")


def _event_dates(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Event dates of BLACK entries whose 5-year retention ends today and tomorrow."""
    ends_today = event_date_ending_on(today, 5)
    ends_tomorrow = event_date_ending_on(today + ONE_DAY, 5)
    if ends_today is None or ends_tomorrow is None:
        pytest.skip("no event date's retention ends on this day (29 February)")
    return ends_today, ends_tomorrow


@pytest.fixture
def entries_at_the_boundary(member, other_member):  # type: ignore[no-untyped-def]
    """ENDING: an entry whose retention ends today, made yesterday (when it still counted).
    RUNNING: an entry whose retention ends tomorrow. Each subject also has a WHITE entry, so
    its record survives as WHITE when the BLACK entry stops counting."""
    today = local_today()
    ends_today, ends_tomorrow = _event_dates(today)
    for h in (ENDING, RUNNING):
        submit(other_member, h, "WHITE", "GOOD_REPAYMENT")
    submit(member, ENDING, "BLACK", "FRAUD", event_date=ends_today.isoformat(), today=today - ONE_DAY)
    submit(member, RUNNING, "BLACK", "FRAUD", event_date=ends_tomorrow.isoformat(), today=today)
    return today


def test_an_entry_counts_the_day_before_its_retention_ends(member, entries_at_the_boundary):
    seen = lookup(member, RUNNING)
    assert (seen["status"], seen["black_members"], seen["black_score"]) == ("WATCH", 1, 100)
    assert entry_of(member, RUNNING).ends_on == entries_at_the_boundary + ONE_DAY


def test_the_stored_record_still_counts_an_entry_ending_today_until_someone_looks(member, entries_at_the_boundary):
    record = record_of(member.region, ENDING)
    assert record is not None
    assert (record.status, record.valid_until) == ("WATCH", entries_at_the_boundary)


def test_a_lookup_does_not_count_an_entry_on_the_day_its_retention_ends(member, entries_at_the_boundary):
    seen = lookup(member, ENDING)
    assert (seen["status"], seen["black_members"], seen["black_score"], seen["white_members"]) == ("WHITE", 0, 0, 1)
    assert seen["reasons"] == {"GOOD_REPAYMENT": 1}
    assert seen["latest_black_event_date"] is None
    assert seen["own_entry"]["state"] == EntryState.ACTIVE  # the daily job has not run yet
    record = record_of(member.region, ENDING)
    assert record is not None and record.status == "WHITE"
    last = history_of(member.region, ENDING)[-1]
    assert (last.cause, last.old_status, last.new_status) == (ConsensusCause.EXPIRY, "WATCH", "WHITE")


def test_a_batch_lookup_does_not_count_an_entry_on_the_day_its_retention_ends(member, entries_at_the_boundary):
    from registry.services.lookups import lookup_batch
    from tests.registry.helpers import member_actor

    answer = lookup_batch(
        actor=member_actor(member),
        purpose="POST_LOAN",
        subjects=[{"id_type": "RIC", "subject_hash": h} for h in (ENDING, RUNNING)],
    )
    assert [r["status"] for r in answer["results"]] == ["WHITE", "WATCH"]


def test_expires_on_today_stops_counting_today(member):
    today = local_today()
    h = subject("expires-today")
    submit(member, h, "BLACK", "FRAUD", expires_on=today.isoformat(), today=today - ONE_DAY)
    assert lookup(member, h)["status"] == "CLEAR"


def test_expire_entries_expires_what_ends_on_or_before_as_of(member, entries_at_the_boundary):
    today = entries_at_the_boundary
    assert run_command("expire_entries", "--as-of", today.isoformat()) == {"as_of": today.isoformat(), "expired": 1}
    assert entry_of(member, ENDING).state == EntryState.EXPIRED
    assert entry_of(member, RUNNING).state == EntryState.ACTIVE
    record = record_of(member.region, ENDING)
    assert record is not None and (record.status, record.black_members) == ("WHITE", 0)
    last = history_of(member.region, ENDING)[-1]
    assert (last.cause, last.old_status, last.new_status) == (ConsensusCause.EXPIRY, "WATCH", "WHITE")
    assert [h.cause for h in history_of(member.region, RUNNING)] == [ConsensusCause.ENTRY_EDIT] * 2


def test_expire_entries_is_idempotent(member, entries_at_the_boundary):
    as_of = entries_at_the_boundary.isoformat()
    assert run_command("expire_entries", "--as-of", as_of)["expired"] == 1
    history = len(history_of(member.region, ENDING))
    assert run_command("expire_entries", "--as-of", as_of) == {"as_of": as_of, "expired": 0}
    assert len(history_of(member.region, ENDING)) == history


def test_expire_entries_the_next_day_expires_the_next_entry(member, entries_at_the_boundary):
    tomorrow = entries_at_the_boundary + ONE_DAY
    assert run_command("expire_entries", "--as-of", tomorrow.isoformat())["expired"] == 2
    assert entry_of(member, RUNNING).state == EntryState.EXPIRED
    record = record_of(member.region, RUNNING)
    assert record is not None and record.status == "WHITE"


def test_expire_entries_after_a_lookup_refreshed_the_record_changes_no_status(member, entries_at_the_boundary):
    lookup(member, ENDING)
    history = len(history_of(member.region, ENDING))
    assert run_command("expire_entries", "--as-of", entries_at_the_boundary.isoformat())["expired"] == 1
    assert len(history_of(member.region, ENDING)) == history
    assert entry_of(member, ENDING).state == EntryState.EXPIRED


@pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday"])
def test_expire_entries_refuses_a_bad_date_with_exit_2(db, as_of):
    with pytest.raises(CommandError) as raised:
        call_command("expire_entries", "--as-of", as_of, stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode == 2
