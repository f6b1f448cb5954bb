"""``GET/POST entries``, ``GET entries/{id}``, ``POST entries/{id}/withdraw`` (``api.md``): the
member's own entries, the row rules of ``csv.md`` with their codes, the relisting block, the
audit events and the consensus history each write leaves."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from core.models import AuditEvent
from registry.choices import ConsensusCause
from registry.models import ConsensusHistory, Entry, RelistBlock
from registry.services.entry_rules import add_years
from tests.registry.helpers import (
    current_key,
    days_ago,
    entry_of,
    error_of,
    event_date_ending_on,
    history_of,
    local_today,
    new_member,
    subject,
    submit,
)

ONE_DAY = datetime.timedelta(days=1)
ENTRY_KEYS = {
    "id",
    "id_type",
    "subject_hash",
    "key_id",
    "list",
    "reason",
    "event_date",
    "expires_on",
    "ends_on",
    "reference",
    "state",
    "created_at",
    "updated_at",
    "state_changed_at",
}


@pytest.fixture
def entries(member, key_client):  # type: ignore[no-untyped-def]
    return key_client(member, scopes=["entries"])


def _row(h: str, **values: Any) -> dict[str, Any]:
    row = {"id_type": "RIC", "subject_hash": h, "list": "BLACK", "reason": "SEVERE_OVERDUE", "event_date": days_ago(30)}
    row.update(values)
    return {k: v for k, v in row.items() if v is not None}


def _post(client, h, **values):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/entries", _row(h, **values), format="json")


def _audit(entry: Entry) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="registry.entry", object_id=str(entry.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# -- create, read, update, withdraw ---------------------------------------------------------------


def test_post_creates_an_entry_and_get_reads_it(region, member, entries):
    h = subject("create")
    response = _post(entries, h.upper(), reference="LOAN-2026-001", event_date="2026-03-01")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] == "created"
    entry = body["entry"]
    assert set(entry) == ENTRY_KEYS
    assert entry["subject_hash"] == h
    assert (entry["list"], entry["reason"], entry["state"], entry["reference"]) == (
        "BLACK",
        "SEVERE_OVERDUE",
        "ACTIVE",
        "LOAN-2026-001",
    )
    assert (entry["event_date"], entry["ends_on"], entry["expires_on"]) == ("2026-03-01", "2031-03-01", None)
    assert entry["key_id"] == current_key(region).key_id
    read = entries.get(f"/api/v1/entries/{entry['id']}")
    assert read.status_code == 200
    assert read.json() == entry
    assert Entry.objects.get(pk=entry["id"]).member_id == member.pk


def test_post_of_the_same_row_again_is_unchanged(entries):
    h = subject("unchanged")
    _post(entries, h)
    response = _post(entries, h)
    assert response.status_code == 200
    assert response.json()["result"] == "unchanged"


def test_post_of_a_new_statement_updates_the_entry(entries):
    h = subject("update")
    first = _post(entries, h).json()["entry"]
    response = _post(entries, h, list="WHITE", reason="GOOD_REPAYMENT")
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "updated"
    assert body["entry"]["id"] == first["id"]
    assert (body["entry"]["list"], body["entry"]["reason"]) == ("WHITE", "GOOD_REPAYMENT")


def test_withdraw_then_withdraw_again_is_a_conflict(member, entries):
    h = subject("withdraw-twice")
    entry_id = _post(entries, h).json()["entry"]["id"]
    response = entries.post(f"/api/v1/entries/{entry_id}/withdraw", {"note": "repaid in full"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "WITHDRAWN"
    error_of(entries.post(f"/api/v1/entries/{entry_id}/withdraw", {}, format="json"), 409, "entry_not_active")
    assert entry_of(member, h).state == "WITHDRAWN"


def test_a_withdrawn_entry_is_made_active_again_by_a_new_statement(entries):
    h = subject("reactivate")
    entry_id = _post(entries, h).json()["entry"]["id"]
    entries.post(f"/api/v1/entries/{entry_id}/withdraw", {}, format="json")
    body = _post(entries, h).json()
    assert (body["result"], body["entry"]["id"], body["entry"]["state"]) == ("updated", entry_id, "ACTIVE")


def test_a_withdraw_row_withdraws_and_a_second_one_changes_nothing(entries):
    h = subject("withdraw-row")
    _post(entries, h)
    body = entries.post("/api/v1/entries", {"id_type": "RIC", "subject_hash": h, "action": "WITHDRAW"}, format="json")
    assert body.json()["result"] == "withdrawn"
    again = entries.post("/api/v1/entries", {"id_type": "RIC", "subject_hash": h, "action": "WITHDRAW"}, format="json")
    assert again.json()["result"] == "unchanged"


def test_post_refuses_unknown_fields(entries):
    error = error_of(_post(entries, subject(1), colour="red"), 400, "validation_error")
    assert "colour" in error["details"]


@pytest.mark.parametrize("scopes", [["lookup"], ["upload"], ["disputes"]])
def test_keys_without_the_entries_scope_are_refused(member, key_client, scopes):
    client = key_client(member, scopes=scopes)
    error_of(client.get("/api/v1/entries"), 403, "permission_denied")
    error_of(_post(client, subject(1)), 403, "permission_denied")
    assert not Entry.objects.exists()


def test_a_viewer_reads_but_does_not_write(member, user_with, session_client):
    submit(member, subject(1))
    client = session_client(user_with(member, "VIEWER"))
    assert client.get("/api/v1/entries").status_code == 200
    assert client.get(f"/api/v1/entries/{entry_of(member, subject(1)).pk}").status_code == 200
    response = client.post("/api/v1/entries", _row(subject(2)), format="json")
    assert response.status_code == 403


# -- validation: every refusal names the field and the rule ------------------------------------------


def _today() -> datetime.date:
    return local_today()


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"list": "WHITE", "reason": "FRAUD"}, "reason", "reason_not_for_list"),
        ({"list": "BLACK", "reason": "GOOD_REPAYMENT"}, "reason", "reason_not_for_list"),
        ({"reason": "LATE"}, "reason", "reason_not_for_list"),
        ({"list": "GREY"}, "list", "invalid_list"),
        ({"list": ""}, "list", "required"),
        ({"id_type": "PASSPORT"}, "id_type", "invalid_id_type"),
        ({"subject_hash": "xyz"}, "subject_hash", "invalid_hash"),
        ({"subject_hash": "0" * 63}, "subject_hash", "invalid_hash"),
        ({"subject_hash": "g" * 64}, "subject_hash", "invalid_hash"),
        ({"event_date": lambda: (_today() + ONE_DAY).isoformat()}, "event_date", "future_date"),
        ({"event_date": "2026-02-30"}, "event_date", "invalid_date"),
        ({"event_date": "26-3-1"}, "event_date", "invalid_date"),
        ({"event_date": lambda: add_years(_today(), -6).isoformat()}, "event_date", "past_retention"),
        (
            {"list": "WHITE", "reason": "GOOD_REPAYMENT", "event_date": lambda: add_years(_today(), -4).isoformat()},
            "event_date",
            "past_retention",
        ),
        ({"expires_on": lambda: _today().isoformat()}, "expires_on", "expires_not_after_today"),
        ({"expires_on": "2020-01-01"}, "expires_on", "expires_not_after_today"),
        ({"expires_on": "tomorrow"}, "expires_on", "invalid_date"),
        (
            {
                "event_date": lambda: (_today() - ONE_DAY).isoformat(),
                "expires_on": lambda: (add_years(_today() - ONE_DAY, 5) + ONE_DAY).isoformat(),
            },
            "expires_on",
            "expires_beyond_retention",
        ),
        ({"reference": "x" * 65}, "reference", "reference_too_long"),
        ({"reference": "line\nbreak"}, "reference", "reference_not_printable"),
        ({"action": "DELETE"}, "action", "invalid_action"),
    ],
)
def test_a_refused_row_names_the_field_and_the_rule(entries, values, field, code):
    row = {name: value() if callable(value) else value for name, value in values.items()}
    response = _post(entries, row.pop("subject_hash", subject("refused")), **row)
    error = error_of(response, 400, "validation_error")
    assert field in error["details"], error
    assert any(message.startswith(f"{code}:") for message in error["details"][field]), error
    assert not Entry.objects.exists()


def test_expires_on_within_retention_is_accepted(entries):
    expires = (_today() + datetime.timedelta(days=90)).isoformat()
    body = _post(entries, subject("expires"), expires_on=expires).json()
    assert (body["entry"]["expires_on"], body["entry"]["ends_on"]) == (expires, expires)


@pytest.mark.parametrize(("list_kind", "reason", "years"), [("BLACK", "FRAUD", 5), ("WHITE", "GOOD_REPAYMENT", 3)])
def test_an_event_whose_retention_ends_today_is_refused_and_one_day_later_accepted(entries, list_kind, reason, years):
    ends_today = event_date_ending_on(_today(), years)
    ends_tomorrow = event_date_ending_on(_today() + ONE_DAY, years)
    if ends_today is None or ends_tomorrow is None:
        pytest.skip("no event date's retention ends on this day (29 February)")
    refused = _post(entries, subject("ends-today"), list=list_kind, reason=reason, event_date=ends_today.isoformat())
    error = error_of(refused, 400, "validation_error")
    assert error["details"]["event_date"][0].startswith("past_retention:")
    accepted = _post(
        entries, subject("ends-tomorrow"), list=list_kind, reason=reason, event_date=ends_tomorrow.isoformat()
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["entry"]["ends_on"] == (_today() + ONE_DAY).isoformat()


def test_an_event_of_today_is_accepted(entries):
    assert _post(entries, subject("today"), event_date=_today().isoformat()).status_code == 201


# -- the relisting block ---------------------------------------------------------------------------


@pytest.fixture
def blocked(region, member):  # type: ignore[no-untyped-def]
    h = subject("blocked")
    block = RelistBlock.objects.create(
        member=member,
        hash_key=current_key(region),
        id_type="RIC",
        subject_hash=bytes.fromhex(h),
        until=_today() + datetime.timedelta(days=30),
    )
    return h, block


def test_a_relist_block_refuses_a_black_entry(member, entries, blocked):
    h, _block = blocked
    error_of(_post(entries, h), 409, "relist_blocked")
    assert not Entry.objects.filter(member=member).exists()


def test_a_relist_block_allows_a_white_entry(entries, blocked):
    h, _block = blocked
    response = _post(entries, h, list="WHITE", reason="GOOD_REPAYMENT")
    assert response.status_code == 201, response.content


def test_a_lifted_relist_block_allows_a_black_entry(entries, blocked):
    h, block = blocked
    _post(entries, h, list="WHITE", reason="GOOD_REPAYMENT")
    block.lifted_at = timezone.now()
    block.save()
    response = _post(entries, h)
    assert response.status_code == 200, response.content
    assert response.json()["entry"]["list"] == "BLACK"


def test_a_relist_block_ends_on_its_until_day(entries, blocked):
    h, block = blocked
    block.until = _today()
    block.save()
    assert _post(entries, h).status_code == 201


def test_a_relist_block_binds_only_its_member(other_member, key_client, blocked):
    h, _block = blocked
    assert _post(key_client(other_member, scopes=["entries"]), h).status_code == 201


# -- audit and history -----------------------------------------------------------------------------


def test_each_write_is_audited(member, entries):
    h = subject("audited")
    entry_id = _post(entries, h).json()["entry"]["id"]
    _post(entries, h)  # unchanged: no event
    _post(entries, h, reason="WRITE_OFF")
    entries.post(f"/api/v1/entries/{entry_id}/withdraw", {"note": "settled"}, format="json")
    entry = Entry.objects.get(pk=entry_id)
    assert _audit(entry) == ["entry.create", "entry.update", "entry.withdraw"]
    withdraw = AuditEvent.objects.filter(object_id=str(entry_id), action="entry.withdraw").get()
    assert withdraw.member_id == member.pk
    assert withdraw.details["note"] == "settled"
    assert withdraw.api_key_id


def test_a_withdraw_row_is_audited(entries):
    h = subject("audited-row")
    _post(entries, h)
    entries.post("/api/v1/entries", {"id_type": "RIC", "subject_hash": h, "action": "WITHDRAW"}, format="json")
    assert _audit(Entry.objects.get()) == ["entry.create", "entry.withdraw"]


def test_a_refused_write_is_not_audited(entries):
    _post(entries, "xyz")
    assert not AuditEvent.objects.filter(action__startswith="entry.").exists()


def test_history_records_each_change_of_status_or_score_and_nothing_else(region, member, other_member, key_client):
    third = new_member(region)
    h = subject("history")
    mine, theirs, white = (key_client(m, scopes=["entries"]) for m in (member, other_member, third))

    _post(mine, h)  # -> WATCH 60
    _post(theirs, h)  # -> BLACK 84
    _post(white, h, list="WHITE", reason="GOOD_REPAYMENT")  # conflict, but no change of status or score
    _post(mine, h)  # unchanged
    _post(mine, h, reference="NEW-REF")  # updated, but the consensus is the same
    _post(theirs, h, event_date=days_ago(3))  # a later event date only
    entry_id = entry_of(member, h).pk
    mine.post(f"/api/v1/entries/{entry_id}/withdraw", {}, format="json")  # -> WATCH 60
    _post(theirs, h, reason="WRITE_OFF")  # -> WATCH 80

    rows = [(r.cause, r.old_status, r.new_status, r.old_score, r.new_score) for r in history_of(region, h)]
    edit = ConsensusCause.ENTRY_EDIT
    assert rows == [
        (edit, "", "WATCH", None, 60),
        (edit, "WATCH", "BLACK", 60, 84),
        (edit, "BLACK", "WATCH", 84, 60),
        (edit, "WATCH", "WATCH", 60, 80),
    ]
    assert ConsensusHistory.objects.get(new_score=84).cause_ref == f"entry:{entry_of(other_member, h).pk}"


# -- listing, filters, pagination --------------------------------------------------------------------


@pytest.fixture
def listed(member):  # type: ignore[no-untyped-def]
    """Six entries of the member: their ids by name."""
    rows = {
        "black_ric": dict(list_kind="BLACK", reason="SEVERE_OVERDUE"),
        "black_fraud": dict(list_kind="BLACK", reason="FRAUD"),
        "white_ric": dict(list_kind="WHITE", reason="GOOD_REPAYMENT"),
        "black_uscc": dict(list_kind="BLACK", reason="SEVERE_OVERDUE", id_type="USCC"),
        "white_mobile": dict(list_kind="WHITE", reason="LONG_TERM_CLIENT", id_type="MOBILE"),
        "withdrawn": dict(list_kind="BLACK", reason="WRITE_OFF"),
    }
    ids = {}
    for name, row in rows.items():
        outcome = submit(member, subject(name), row.pop("list_kind"), row.pop("reason"), **row)
        assert outcome.entry is not None
        ids[name] = outcome.entry.pk
    submit(member, subject("withdrawn"), action="WITHDRAW")
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"black_ric", "black_fraud", "white_ric", "black_uscc", "white_mobile", "withdrawn"}),
        ("list=WHITE", {"white_ric", "white_mobile"}),
        ("list=BLACK&state=ACTIVE", {"black_ric", "black_fraud", "black_uscc"}),
        ("id_type=USCC", {"black_uscc"}),
        ("id_type=MOBILE&list=WHITE", {"white_mobile"}),
        ("reason=SEVERE_OVERDUE", {"black_ric", "black_uscc"}),
        ("state=WITHDRAWN", {"withdrawn"}),
        ("state=EXPIRED", set()),
        (f"subject_hash={subject('black_fraud')}", {"black_fraud"}),
        (f"subject_hash={subject('black_fraud').upper()}", {"black_fraud"}),
    ],
)
def test_list_filters(entries, listed, query, expected):
    response = entries.get(f"/api/v1/entries?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    by_id = {v: k for k, v in listed.items()}
    assert {by_id[e["id"]] for e in body["results"]} == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("subject_hash=xyz", "subject_hash"), ("list=GREY", "list"), ("state=GONE", "state"), ("id_type=X", "id_type")],
)
def test_a_bad_filter_is_refused(entries, query, field):
    error = error_of(entries.get(f"/api/v1/entries?{query}"), 400, "validation_error")
    assert field in error["details"]


def test_the_list_is_cursor_paginated_and_the_next_link_works(entries, listed):
    seen: list[int] = []
    url: str | None = "/api/v1/entries?page_size=4"
    pages = 0
    while url:
        response = entries.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= 4
        seen += [e["id"] for e in body["results"]]
        url = body["next"]
        pages += 1
        if pages == 1:
            assert body["previous"] is None
            assert "cursor=" in url
    assert pages == 2
    assert seen == sorted(listed.values(), reverse=True)  # newest first, each once


def test_the_previous_link_goes_back(entries, listed):
    first = entries.get("/api/v1/entries?page_size=4").json()
    second = entries.get(first["next"]).json()
    back = entries.get(second["previous"]).json()
    assert [e["id"] for e in back["results"]] == [e["id"] for e in first["results"]]


def test_the_list_with_a_trailing_slash_works(entries, listed):
    assert entries.get("/api/v1/entries/").status_code == 200
