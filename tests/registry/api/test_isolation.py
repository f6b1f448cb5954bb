"""A member cannot read, change or infer another member's entries through any endpoint
(``concepts.md``), and the subject history is the operator's alone."""

from __future__ import annotations

from typing import Any

import pytest

from registry.choices import EntryState
from registry.models import Entry
from tests.registry.helpers import entry_of, error_of, new_region, subject, submit

H = subject("isolation")
OTHERS_REFERENCE = "OTHERS-CASE-9931"


@pytest.fixture
def others_entry(other_member) -> Entry:  # type: ignore[no-untyped-def]
    outcome = submit(other_member, H, "BLACK", "FRAUD", reference=OTHERS_REFERENCE)
    assert outcome.entry is not None
    return outcome.entry


@pytest.fixture
def mine(member, key_client):  # type: ignore[no-untyped-def]
    return key_client(member, scopes=["lookup", "entries", "upload", "disputes"])


def _ids(value: Any) -> set[int]:
    """Every value of an ``id`` or ``entry_id`` key anywhere in a JSON body."""
    found: set[int] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("id", "entry_id") and isinstance(item, int):
                found.add(item)
            found |= _ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids(item)
    return found


def _assert_nothing_of(response, other_member, entry) -> None:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    assert other_member.name not in text
    assert other_member.uscc not in text
    assert OTHERS_REFERENCE not in text
    assert "member" not in text.replace("black_members", "").replace("white_members", "")
    assert entry.pk not in _ids(response.json())


def test_the_list_holds_only_own_entries(member, other_member, others_entry, mine):
    submit(member, subject("own"))
    for query in ("", f"?subject_hash={H}", "?list=BLACK", "?reason=FRAUD", "?state=ACTIVE"):
        response = mine.get(f"/api/v1/entries{query}")
        assert response.status_code == 200
        ids = {e["id"] for e in response.json()["results"]}
        assert others_entry.pk not in ids
        assert ids <= set(Entry.objects.filter(member=member).values_list("id", flat=True))
        _assert_nothing_of(response, other_member, others_entry)


def test_another_members_entry_is_not_found(other_member, others_entry, mine):
    error_of(mine.get(f"/api/v1/entries/{others_entry.pk}"), 404, "not_found")


def test_another_members_entry_cannot_be_withdrawn(other_member, others_entry, mine):
    error_of(mine.post(f"/api/v1/entries/{others_entry.pk}/withdraw", {}, format="json"), 404, "not_found")
    others_entry.refresh_from_db()
    assert others_entry.state == EntryState.ACTIVE


def test_an_unknown_entry_and_another_members_look_the_same(others_entry, mine):
    missing = mine.get(f"/api/v1/entries/{others_entry.pk + 10_000}")
    hidden = mine.get(f"/api/v1/entries/{others_entry.pk}")
    assert (missing.status_code, missing.json()) == (hidden.status_code, hidden.json())
    missing = mine.post(f"/api/v1/entries/{others_entry.pk + 10_000}/withdraw", {}, format="json")
    hidden = mine.post(f"/api/v1/entries/{others_entry.pk}/withdraw", {}, format="json")
    assert (missing.status_code, missing.json()) == (hidden.status_code, hidden.json())


def test_a_statement_on_the_same_subject_makes_an_own_entry(member, other_member, others_entry, mine):
    response = mine.post(
        "/api/v1/entries",
        {"id_type": "RIC", "subject_hash": H, "list": "WHITE", "reason": "GOOD_REPAYMENT", "event_date": "2026-01-05"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["entry"]["id"] != others_entry.pk
    _assert_nothing_of(response, other_member, others_entry)
    others_entry.refresh_from_db()
    assert (others_entry.list, others_entry.reason, others_entry.reference) == ("BLACK", "FRAUD", OTHERS_REFERENCE)
    withdraw = mine.post("/api/v1/entries", {"id_type": "RIC", "subject_hash": H, "action": "WITHDRAW"}, format="json")
    assert withdraw.json()["result"] == "withdrawn"
    others_entry.refresh_from_db()
    assert others_entry.state == EntryState.ACTIVE


def test_a_lookup_shows_counts_but_never_who(member, other_member, others_entry, mine):
    submit(member, H, "WHITE", "GOOD_REPAYMENT")
    response = mine.get(f"/api/v1/lookups/RIC/{H}?purpose=UNDERWRITING")
    body = response.json()
    assert (body["black_members"], body["white_members"], body["reasons"]) == (1, 1, {"FRAUD": 1, "GOOD_REPAYMENT": 1})
    assert body["own_entry"]["id"] == entry_of(member, H).pk
    _assert_nothing_of(response, other_member, others_entry)
    batch = mine.post(
        "/api/v1/lookups/batch",
        {"purpose": "UNDERWRITING", "subjects": [{"id_type": "RIC", "subject_hash": H}]},
        format="json",
    )
    _assert_nothing_of(batch, other_member, others_entry)
    assert batch.json()["results"][0]["own_entry"]["id"] == entry_of(member, H).pk


def test_a_lookup_by_a_member_without_an_entry_shows_no_entry(other_member, others_entry, mine):
    body = mine.get(f"/api/v1/lookups/RIC/{H}?purpose=UNDERWRITING").json()
    assert body["own_entry"] is None
    assert body["black_members"] == 1


# -- the subject history ----------------------------------------------------------------------------


def _history(client, h=H):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/subjects/RIC/{h}/history")


def test_a_members_key_cannot_read_a_subject_history(others_entry, mine):
    error_of(_history(mine), 403, "permission_denied")


@pytest.mark.parametrize("role", ["MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER"])
def test_a_members_people_cannot_read_a_subject_history(member, others_entry, user_with, session_client, role):
    error_of(_history(session_client(user_with(member, role))), 403, "permission_denied")


@pytest.mark.parametrize("role", ["OPERATOR_ADMIN", "REGULATOR"])
def test_the_operator_reads_a_subject_history_by_key(
    region, operator, member, other_member, others_entry, key_client, role
):
    submit(member, H)
    lookup_client = key_client(member, scopes=["lookup"])
    first = lookup_client.get(f"/api/v1/lookups/RIC/{H}?purpose=UNDERWRITING&consent_reference=C-77").json()
    submit(member, H, action="WITHDRAW")
    second = lookup_client.get(f"/api/v1/lookups/RIC/{H}?purpose=POST_LOAN").json()

    response = _history(key_client(operator, role=role))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id_type"], body["subject_hash"], body["status"]) == ("RIC", H, "WATCH")
    history = [(h["cause"], h["old_status"], h["new_status"], h["new_score"]) for h in body["history"]]
    assert history == [  # newest first
        ("ENTRY_EDIT", "BLACK", "WATCH", 100),
        ("ENTRY_EDIT", "WATCH", "BLACK", 100),
        ("ENTRY_EDIT", "", "WATCH", 100),
    ]
    lookups = body["lookups"]
    assert [item["lookup_id"] for item in lookups] == [second["lookup_id"], first["lookup_id"]]
    newest, oldest = lookups
    assert (newest["member_id"], newest["member"], newest["purpose"]) == (member.pk, member.name, "POST_LOAN")
    assert (oldest["purpose"], oldest["consent_reference"], oldest["status"]) == ("UNDERWRITING", "C-77", "BLACK")
    assert oldest["created_at"] and oldest["api_key_prefix"]


@pytest.mark.parametrize("role", ["OPERATOR_ADMIN", "REGULATOR"])
def test_the_operators_people_read_a_subject_history(operator, others_entry, user_with, session_client, role):
    response = _history(session_client(user_with(operator, role)))
    assert response.status_code == 200, response.content
    assert [h["new_status"] for h in response.json()["history"]] == ["WATCH"]


def test_another_regions_operator_sees_nothing_of_this_region(others_entry, key_client):
    stranger = new_region()
    response = _history(key_client(stranger.operator, role="OPERATOR_ADMIN"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["history"], body["lookups"]) == ("CLEAR", [], [])


def test_a_malformed_subject_history_request_is_refused(operator, key_client):
    client = key_client(operator, role="REGULATOR")
    error = error_of(_history(client, "xyz"), 400, "validation_error")
    assert "subject_hash" in error["details"]
