"""Data lifecycle: withdrawn and expired entries purged after the region's grace period,
lookup records after the region's retention, by the nightly task; audit events stay and the
consensus stays what a full recompute gives."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from config.settings import CELERY_BEAT_SCHEDULE
from core.audit import audit_verify_chain
from core.errors import InvalidInput
from core.models import AuditEvent
from lenders.choices import Role
from lenders.models import Region
from registry.choices import EntryState
from registry.models import ConsensusRecord, Entry, LookupRecord
from registry.services.consensus import consensus_verify
from registry.services.entries import entries_expire, entry_withdraw
from registry.services.purge import data_purge, region_data_purge
from registry.tasks import purge_data
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import (
    entry_of,
    event_date_ending_on,
    local_today,
    lookup,
    member_actor,
    new_member,
    record_of,
    set_policy,
    subject,
    submit,
)


def _later(days: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def _withdraw(member, subject_hash: str) -> Entry:  # type: ignore[no-untyped-def]
    return entry_withdraw(actor=member_actor(member), entry_id=entry_of(member, subject_hash).pk)


def _purge_events(region: Region) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="data.purge", region_id=region.pk))


def test_withdrawn_entry_is_purged_after_the_grace_period_and_its_audit_events_stay(region, member, other_member):
    submit(member, subject(1))
    submit(other_member, subject(1))
    submit(member, subject(2))
    withdrawn = _withdraw(member, subject(1))
    entry_events = AuditEvent.objects.filter(object_type="registry.entry", object_id=str(withdrawn.pk))
    assert sorted(entry_events.values_list("action", flat=True)) == ["entry.create", "entry.withdraw"]

    # Within the grace period (90 days by default) nothing goes.
    assert region_data_purge(region=region, now=_later(89)).entries == 0
    assert Entry.objects.filter(pk=withdrawn.pk).exists()
    assert _purge_events(region) == []

    result = region_data_purge(region=region, now=_later(91))

    assert result.entries == 1
    assert not Entry.objects.filter(pk=withdrawn.pk).exists()
    # The other member's entry on the same subject and the active entry stay.
    assert Entry.objects.filter(member=other_member, state=EntryState.ACTIVE).count() == 1
    assert Entry.objects.filter(member=member, state=EntryState.ACTIVE).count() == 1
    assert entry_events.count() == 2
    (event,) = _purge_events(region)
    assert event.actor_label == "purge_data"
    assert event.details["entries"] == 1
    assert event.details["lookup_records"] == 0
    assert event.details["entry_purge_grace_days"] == 90
    assert audit_verify_chain().ok


def test_a_second_run_purges_nothing_more_and_writes_no_event(region, member):
    submit(member, subject(1))
    _withdraw(member, subject(1))
    assert region_data_purge(region=region, now=_later(91)).entries == 1
    again = region_data_purge(region=region, now=_later(91))
    assert (again.entries, again.lookup_records) == (0, 0)
    assert len(_purge_events(region)) == 1


def test_expired_entry_is_purged_grace_days_after_it_expired(region, member):
    today = local_today()
    event_date = event_date_ending_on(today + datetime.timedelta(days=1), region.black_retention_years)
    assert event_date is not None
    submit(member, subject(1), event_date=event_date.isoformat())
    set_policy(region, entry_purge_grace_days=10)
    tomorrow = today + datetime.timedelta(days=1)
    assert entries_expire(as_of=tomorrow) == 1
    assert entry_of(member, subject(1)).state == EntryState.EXPIRED

    assert region_data_purge(region=region, now=_later(9)).entries == 0
    assert region_data_purge(region=region, now=_later(11)).entries == 1
    assert not Entry.objects.filter(member=member).exists()


def test_active_entries_are_never_purged_but_removed_ones_past_retention_are(region, member, other_member):
    submit(member, subject(1))
    submit(other_member, subject(2))
    # A dispute outcome: the entry no longer counts but is kept until its retention is over.
    removed = entry_of(other_member, subject(2))
    Entry.objects.filter(pk=removed.pk).update(state=EntryState.REMOVED)

    assert region_data_purge(region=region, now=_later(365)).entries == 0
    six_years = _later(6 * 366)
    assert region_data_purge(region=region, now=six_years).entries == 1
    assert not Entry.objects.filter(pk=removed.pk).exists()
    assert entry_of(member, subject(1)).state == EntryState.ACTIVE


def test_consensus_equals_a_full_recompute_after_a_purge(region, member, other_member):
    third = new_member(region)
    for n in range(6):
        submit(member, subject(n))
        submit(other_member, subject(n), "WHITE" if n % 2 else "BLACK", "GOOD_REPAYMENT" if n % 2 else "FRAUD")
    submit(third, subject(0), reason="COURT_ENFORCED")
    for n in (0, 1, 2):
        _withdraw(member, subject(n))
    _withdraw(third, subject(0))
    before = {n: record_of(region, subject(n)) for n in range(6)}
    shown_before = lookup(member, subject(0))

    result = region_data_purge(region=region, now=_later(91))

    assert result.entries == 4
    assert consensus_verify(region=region).different == 0
    for n in range(6):
        after, earlier = record_of(region, subject(n)), before[n]
        assert after is not None and earlier is not None
        assert (after.status, after.black_score, after.black_members, after.white_members) == (
            earlier.status,
            earlier.black_score,
            earlier.black_members,
            earlier.white_members,
        )
    shown_after = lookup(member, subject(0))
    assert (shown_after["status"], shown_after["black_score"]) == (shown_before["status"], shown_before["black_score"])


def test_subject_whose_entries_are_all_purged_reads_clear(region, member):
    submit(member, subject(1))
    _withdraw(member, subject(1))
    region_data_purge(region=region, now=_later(91))
    record = ConsensusRecord.objects.filter(region=region).first()
    assert record is None or record.status == "CLEAR"
    assert lookup(member, subject(1))["status"] == "CLEAR"
    assert consensus_verify(region=region).different == 0


def test_lookup_records_are_purged_after_the_regions_retention(region, member):
    submit(member, subject(1))
    other = new_member()  # another region, with a longer retention
    submit(other, subject(1))
    set_policy(region, lookup_retention_days=30)
    set_policy(other.region, lookup_retention_days=60)
    lookup(member, subject(1))
    lookup(member, subject(1))
    lookup(other, subject(1))

    assert region_data_purge(region=region, now=_later(29)).lookup_records == 0
    result = data_purge(now=_later(31))

    assert result.lookup_records == 2
    assert not LookupRecord.objects.filter(region=region).exists()
    assert LookupRecord.objects.filter(region=other.region).count() == 1
    (event,) = _purge_events(region)
    assert event.details["lookup_records"] == 2
    assert _purge_events(other.region) == []


def test_nightly_task_is_scheduled_and_purges(region, member):
    assert CELERY_BEAT_SCHEDULE["purge-data"]["task"] == "registry.tasks.purge_data"
    submit(member, subject(1))
    _withdraw(member, subject(1))
    set_policy(region, entry_purge_grace_days=0)
    outcome = purge_data()
    assert outcome["entries"] == 1
    assert not Entry.objects.filter(member=member).exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("lookup_retention_days", 29), ("lookup_retention_days", 3651), ("entry_purge_grace_days", -1)],
)
def test_retention_settings_out_of_range_are_refused(region, name, value):
    with pytest.raises(InvalidInput) as refused:
        set_policy(region, **{name: value})
    assert name in refused.value.details


def test_region_settings_page_shows_and_changes_the_retention(region, user_with):
    from tests.registry.test_portal_operator_region import policy_form

    admin = user_with(region.operator, Role.OPERATOR_ADMIN)
    client = signed_in(admin, language="en")
    html = page_text(client.get("/region/"))
    assert "Purge grace period (days)" in html
    assert "Lookup record retention (days)" in html

    response = client.post("/region/", policy_form(region, entry_purge_grace_days="30", lookup_retention_days="400"))
    assert response.status_code == 302
    region.refresh_from_db()
    assert (region.entry_purge_grace_days, region.lookup_retention_days) == (30, 400)
    change = AuditEvent.objects.filter(action="region.policy_update", region_id=region.pk).latest("id")
    assert change.details["lookup_retention_days"] == {"from": 1095, "to": 400}

    regulator = user_with(region.operator, Role.REGULATOR)
    html = page_text(signed_in(regulator, language="en").get("/region/"))
    assert "Data retention" in html and "400" in html


def _disputed_and_removed(region, member) -> Entry:  # type: ignore[no-untyped-def]
    """A BLACK entry that a dispute removed: the respondent withdrew it in answer to the item."""
    from registry.services.disputes import dispute_file, dispute_item_respond

    submit(member, subject("disputed"))
    dispute = dispute_file(
        actor=member_actor(member),
        id_type="RIC",
        subject_hash=subject("disputed"),
        grounds="REPAID",
        statement="The loan was repaid in full.",
    )
    (item,) = dispute.items.all()
    dispute_item_respond(
        actor=member_actor(member), dispute_id=dispute.pk, item_id=item.pk, decision="WITHDRAW", note="Repaid."
    )
    entry = entry_of(member, subject("disputed"))
    assert entry.state == EntryState.REMOVED
    return entry


def test_an_entry_a_dispute_item_names_is_kept_while_others_go(region, member):
    removed = _disputed_and_removed(region, member)
    submit(member, subject(2))
    _withdraw(member, subject(2))

    result = region_data_purge(region=region, now=_later(6 * 366))

    assert result.entries == 1  # the withdrawn one; the disputed one is the dispute's record
    assert Entry.objects.filter(pk=removed.pk).exists()
    assert consensus_verify(region=region).different == 0
