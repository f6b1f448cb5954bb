"""The consensus rules of ``consensus.md``: which entries count, the score, the status and what
a record holds, each checked on what a member's lookup shows and on the stored record."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from registry.choices import ConsensusCause, EntryState
from registry.models import Entry
from registry.services.consensus import consensus_recompute_subjects, consensus_verify
from registry.services.entry_rules import add_years
from tests.registry.helpers import (
    current_key,
    days_ago,
    entry_of,
    history_of,
    lookup,
    new_member,
    record_of,
    set_member,
    set_policy,
    subject,
    submit,
)

H = subject("consensus")


def _members(region, n):  # type: ignore[no-untyped-def]
    return [new_member(region) for _ in range(n)]


def _seen(member, h=H):  # type: ignore[no-untyped-def]
    """What a lookup shows, after checking that the stored consensus equals a full recomputation."""
    assert consensus_verify(region=member.region, chunks=1).different == 0
    return lookup(member, h)


# -- the examples of consensus.md (default policy, trust 1.0) ----------------------------------


@pytest.mark.parametrize(
    ("reasons", "score", "status"),
    [
        (["SEVERE_OVERDUE", "SEVERE_OVERDUE"], 84, "BLACK"),
        (["FRAUD"], 100, "WATCH"),
        (["COURT_ENFORCED"], 100, "BLACK"),
        (["OTHER_BLACK", "OTHER_BLACK"], 51, "WATCH"),
        (["WRITE_OFF", "SEVERE_OVERDUE"], 92, "BLACK"),
    ],
    ids=["two-severe-overdue", "one-fraud", "one-court-enforced", "two-other-black", "write-off-and-severe"],
)
def test_examples_of_the_spec(region, reasons, score, status):
    members = _members(region, len(reasons))
    for member, reason in zip(members, reasons, strict=True):
        submit(member, H, "BLACK", reason)
    seen = _seen(members[0])
    assert (seen["status"], seen["black_score"], seen["black_members"]) == (status, score, len(reasons))
    record = record_of(region, H)
    assert record is not None
    assert (record.status, record.black_score, record.black_members) == (status, score, len(reasons))


# -- the status boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "score", "status"),
    [
        # FRAUD has severity 1.0, so w = trust weight: 100 × (1 − 0.7 × 0.3) = 79
        (("0.300", "0.700"), 79, "WATCH"),
        # 100 × (1 − 0.4 × 0.5) = 80
        (("0.600", "0.500"), 80, "BLACK"),
    ],
    ids=["score-79", "score-80"],
)
def test_black_needs_a_score_of_80_with_two_members(region, weights, score, status):
    members = _members(region, 2)
    for member, weight in zip(members, weights, strict=True):
        set_member(member, trust_weight=weight)
        submit(member, H, "BLACK", "FRAUD")
    seen = _seen(members[0])
    assert (seen["black_score"], seen["status"]) == (score, status)


def test_a_regions_threshold_moves_the_boundary(region, eager_celery, django_capture_on_commit_callbacks):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    assert _seen(members[0])["status"] == "BLACK"  # 84 >= 80
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(region, black_score_threshold=85)
    assert (_seen(members[0])["black_score"], _seen(members[0])["status"]) == (84, "WATCH")
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(region, black_score_threshold=84)
    assert _seen(members[0])["status"] == "BLACK"


@pytest.mark.parametrize(("n_members", "status"), [(1, "WATCH"), (2, "BLACK")], ids=["one-member", "two-members"])
def test_black_needs_two_members_however_high_the_score(region, n_members, status):
    members = _members(region, n_members)
    for member in members:
        submit(member, H, "BLACK", "FRAUD")
    seen = _seen(members[0])
    assert (seen["black_score"], seen["status"], seen["black_members"]) == (100, status, n_members)


def test_a_region_may_need_only_one_member(region, eager_celery, django_capture_on_commit_callbacks):
    (member,) = _members(region, 1)
    submit(member, H, "BLACK", "FRAUD")
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(region, min_black_members=1)
    assert _seen(member)["status"] == "BLACK"


def test_a_decisive_reason_makes_black_alone_whatever_the_score(region):
    (member,) = _members(region, 1)
    set_member(member, trust_weight="0.5")
    submit(member, H, "BLACK", "COURT_ENFORCED")
    seen = _seen(member)
    assert (seen["status"], seen["black_score"], seen["black_members"]) == ("BLACK", 50, 1)


@pytest.mark.parametrize(
    ("reason", "status"),
    [("FRAUD", "BLACK"), ("COURT_ENFORCED", "WATCH"), ("SEVERE_OVERDUE", "WATCH")],
)
def test_the_decisive_reasons_are_a_region_setting(
    region, eager_celery, django_capture_on_commit_callbacks, reason, status
):
    (member,) = _members(region, 1)
    submit(member, H, "BLACK", reason)
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(region, decisive_reasons=["FRAUD"])
    assert _seen(member)["status"] == status


@pytest.mark.parametrize(
    ("reason", "weight", "score"),
    [
        ("FRAUD", "0.500", 50),
        ("SEVERE_OVERDUE", "0.500", 30),
        ("WRITE_OFF", "0.500", 40),
        ("OTHER_BLACK", "0.100", 3),
        ("SEVERE_OVERDUE", "0.000", 0),
    ],
)
def test_trust_weight_scales_the_members_weight(region, reason, weight, score):
    (member,) = _members(region, 1)
    set_member(member, trust_weight=weight)
    submit(member, H, "BLACK", reason)
    seen = _seen(member)
    assert (seen["black_score"], seen["status"], seen["black_members"]) == (score, "WATCH", 1)


@pytest.mark.parametrize(
    ("weights", "score"),
    [
        (["0.845"], 85),  # 84.5 rounds up (banker's rounding would give 84)
        (["0.795"], 80),  # 79.5
        (["0.125"], 13),  # 12.5
        (["0.005"], 1),  # 0.5
        (["0.844"], 84),  # 84.4
        (["0.500", "0.010"], 51),  # 100 × (1 − 0.5 × 0.99) = 50.5
        (["0.500", "0.500", "0.500"], 88),  # 87.5
        (["0.300", "0.300", "0.300"], 66),  # 100 × (1 − 0.343) = 65.7
    ],
)
def test_the_score_is_rounded_half_up_exactly(region, weights, score):
    members = _members(region, len(weights))
    for member, weight in zip(members, weights, strict=True):
        set_member(member, trust_weight=weight)
        submit(member, H, "BLACK", "FRAUD")
    assert _seen(members[0])["black_score"] == score


# -- white, conflict, lists ----------------------------------------------------------------------


def test_white_entries_only_make_white(region):
    members = _members(region, 2)
    submit(members[0], H, "WHITE", "GOOD_REPAYMENT")
    submit(members[1], H, "WHITE", "LONG_TERM_CLIENT")
    seen = _seen(members[0])
    assert seen["status"] == "WHITE"
    assert (seen["black_score"], seen["black_members"], seen["white_members"]) == (0, 0, 2)
    assert seen["reasons"] == {"GOOD_REPAYMENT": 1, "LONG_TERM_CLIENT": 1}
    assert seen["conflict"] is False
    assert seen["latest_black_event_date"] is None


@pytest.mark.parametrize(
    ("black_reasons", "status", "score"),
    [(["SEVERE_OVERDUE"], "WATCH", 60), (["SEVERE_OVERDUE", "SEVERE_OVERDUE"], "BLACK", 84)],
)
def test_black_and_white_from_different_members_conflict_and_black_decides(region, black_reasons, status, score):
    members = _members(region, len(black_reasons) + 1)
    for member, reason in zip(members, black_reasons, strict=False):
        submit(member, H, "BLACK", reason)
    submit(members[-1], H, "WHITE", "VERIFIED_BUSINESS")
    seen = _seen(members[-1])
    assert (seen["status"], seen["black_score"], seen["conflict"]) == (status, score, True)
    assert (seen["black_members"], seen["white_members"]) == (len(black_reasons), 1)


def test_a_members_new_statement_replaces_its_old_one_and_may_switch_the_list(region):
    (member,) = _members(region, 1)
    submit(member, H, "BLACK", "FRAUD")
    submit(member, H, "WHITE", "GOOD_REPAYMENT")
    seen = _seen(member)
    assert (seen["status"], seen["black_members"], seen["white_members"], seen["conflict"]) == ("WHITE", 0, 1, False)
    assert Entry.objects.filter(member=member).count() == 1


def test_clear_when_every_entry_is_withdrawn(region):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    submit(members[1], H, "WHITE", "GOOD_REPAYMENT")
    submit(members[0], H, action="WITHDRAW")
    submit(members[1], H, action="WITHDRAW")
    seen = _seen(members[0])
    assert seen["status"] == "CLEAR"
    assert (seen["black_score"], seen["black_members"], seen["white_members"]) == (0, 0, 0)
    assert seen["reasons"] == {}
    assert seen["latest_black_event_date"] is None
    assert seen["conflict"] is False


def test_a_withdrawn_entry_does_not_count(region):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    submit(members[1], H, action="WITHDRAW")
    seen = _seen(members[0])
    assert (seen["status"], seen["black_score"], seen["black_members"]) == ("WATCH", 60, 1)


def test_an_entry_removed_by_a_dispute_does_not_count(region):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    removed = entry_of(members[1], H)
    Entry.objects.filter(pk=removed.pk).update(state=EntryState.REMOVED)
    consensus_recompute_subjects(
        region=region, subjects=[(current_key(region).pk, "RIC", bytes.fromhex(H))], cause=ConsensusCause.DISPUTE
    )
    seen = _seen(members[0])
    assert (seen["status"], seen["black_score"], seen["black_members"]) == ("WATCH", 60, 1)
    last = history_of(region, H)[-1]
    assert (last.cause, last.old_status, last.new_status) == (ConsensusCause.DISPUTE, "BLACK", "WATCH")


# -- which members count -------------------------------------------------------------------------


def test_a_suspended_members_entries_do_not_count_by_default(region):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    set_member(members[1], status="SUSPENDED")
    seen = _seen(members[0])
    assert (seen["status"], seen["black_score"], seen["black_members"]) == ("WATCH", 60, 1)
    set_member(members[1], status="ACTIVE")
    assert _seen(members[0])["status"] == "BLACK"


def test_a_suspended_members_entries_count_when_the_region_says_so(
    region, eager_celery, django_capture_on_commit_callbacks
):
    members = _members(region, 2)
    for member in members:
        submit(member, H)
    set_member(members[1], status="SUSPENDED")
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(region, count_suspended_members=True)
    seen = _seen(members[0])
    assert (seen["status"], seen["black_score"], seen["black_members"]) == ("BLACK", 84, 2)


def test_an_excluded_members_entries_do_not_count(region):
    members = _members(region, 3)
    for member in members[:2]:
        submit(member, H)
    submit(members[2], H, "WHITE", "GOOD_REPAYMENT")
    set_member(members[1], excluded_from_consensus=True)
    set_member(members[2], excluded_from_consensus=True)
    seen = _seen(members[0])
    assert (seen["status"], seen["black_members"], seen["white_members"], seen["conflict"]) == ("WATCH", 1, 0, False)
    set_member(members[1], excluded_from_consensus=False)
    assert _seen(members[0])["status"] == "BLACK"


# -- what a record holds ---------------------------------------------------------------------------


def test_reasons_count_members_per_code_and_leave_out_zeros(region):
    members = _members(region, 6)
    submit(members[0], H, "BLACK", "FRAUD")
    submit(members[1], H, "BLACK", "SEVERE_OVERDUE")
    submit(members[2], H, "BLACK", "SEVERE_OVERDUE")
    submit(members[3], H, "WHITE", "GOOD_REPAYMENT")
    submit(members[4], H, "BLACK", "WRITE_OFF")
    submit(members[4], H, action="WITHDRAW")
    submit(members[5], H, "WHITE", "LONG_TERM_CLIENT")
    set_member(members[5], excluded_from_consensus=True)
    seen = _seen(members[0])
    assert seen["reasons"] == {"FRAUD": 1, "SEVERE_OVERDUE": 2, "GOOD_REPAYMENT": 1}
    assert (seen["black_members"], seen["white_members"]) == (3, 1)


def test_latest_black_event_date_is_the_latest_counted_black_event(region):
    members = _members(region, 4)
    submit(members[0], H, event_date=days_ago(100))
    submit(members[1], H, event_date=days_ago(10))
    submit(members[2], H, "WHITE", "GOOD_REPAYMENT", event_date=days_ago(1))
    submit(members[3], H, event_date=days_ago(2))
    submit(members[3], H, action="WITHDRAW")
    assert _seen(members[0])["latest_black_event_date"] == days_ago(10)


# -- retention ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (datetime.date(2024, 2, 29), 5, datetime.date(2029, 2, 28)),
        (datetime.date(2024, 2, 29), 3, datetime.date(2027, 2, 28)),
        (datetime.date(2024, 2, 29), 4, datetime.date(2028, 2, 29)),
        (datetime.date(2023, 3, 1), 5, datetime.date(2028, 3, 1)),
        (datetime.date(2021, 12, 31), 5, datetime.date(2026, 12, 31)),
    ],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == expected


@pytest.mark.parametrize(
    ("list_kind", "reason", "ends_on"), [("BLACK", "FRAUD", "2029-02-28"), ("WHITE", "GOOD_REPAYMENT", "2027-02-28")]
)
def test_an_entry_of_29_february_ends_on_28_february(member, list_kind, reason, ends_on):
    outcome = submit(member, H, list_kind, reason, event_date="2024-02-29", today=datetime.date(2024, 3, 1))
    assert outcome.entry is not None
    assert outcome.entry.ends_on.isoformat() == ends_on


def test_expires_on_earlier_than_retention_ends_the_entry(member):
    today = timezone.localdate()
    outcome = submit(member, H, expires_on=(today + datetime.timedelta(days=10)).isoformat())
    assert outcome.entry is not None
    assert outcome.entry.ends_on == today + datetime.timedelta(days=10)
    assert outcome.entry.expires_on == today + datetime.timedelta(days=10)
