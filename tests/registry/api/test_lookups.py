"""``GET lookups/{id_type}/{subject_hash}`` and ``POST lookups/batch`` (``api.md``): the result
shape, what each lookup must state, keys, and the lookup records written."""

from __future__ import annotations

import re
import uuid

import pytest

from lenders.services.regions import hash_key_rotate
from registry.models import LookupRecord
from tests.registry.helpers import (
    current_key,
    entry_of,
    error_of,
    new_member,
    operator_system,
    set_policy,
    subject,
    submit,
)

RESULT_KEYS = {
    "id_type",
    "subject_hash",
    "key_id",
    "status",
    "black_score",
    "black_members",
    "white_members",
    "reasons",
    "latest_black_event_date",
    "conflict",
    "disputed",
    "own_entry",
    "consensus_updated_at",
    "lookup_id",
}
OWN_ENTRY_KEYS = {"id", "list", "reason", "event_date", "state"}
UTC_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def lookups(member, key_client):  # type: ignore[no-untyped-def]
    return key_client(member, scopes=["lookup"])


def _get(client, h, query="purpose=UNDERWRITING", id_type="RIC"):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/lookups/{id_type}/{h}?{query}")


def _batch(client, hashes, **body):  # type: ignore[no-untyped-def]
    body.setdefault("purpose", "UNDERWRITING")
    body.setdefault("subjects", [{"id_type": "RIC", "subject_hash": h} for h in hashes])
    return client.post("/api/v1/lookups/batch", body, format="json")


# -- the result shape ----------------------------------------------------------------------------


def test_a_never_seen_subject_is_clear_with_zero_counts(region, lookups):
    h = subject("never-seen")
    response = _get(lookups, h)
    assert response.status_code == 200, response.content
    body = response.json()
    lookup_id = body.pop("lookup_id")
    assert uuid.UUID(lookup_id)
    assert body == {
        "id_type": "RIC",
        "subject_hash": h,
        "key_id": current_key(region).key_id,
        "status": "CLEAR",
        "black_score": 0,
        "black_members": 0,
        "white_members": 0,
        "reasons": {},
        "latest_black_event_date": None,
        "conflict": False,
        "disputed": False,
        "own_entry": None,
        "consensus_updated_at": None,
    }


def test_a_seen_subject_has_every_key_with_the_right_types(region, member, other_member, lookups):
    h = subject("seen")
    submit(member, h, event_date="2026-03-01", today=None)
    submit(other_member, h, event_date="2026-02-01")
    response = _get(lookups, h.upper())  # either case is accepted; the answer is lower case
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESULT_KEYS
    assert body["subject_hash"] == h
    assert body["key_id"] == current_key(region).key_id
    assert (body["status"], body["black_score"], body["black_members"], body["white_members"]) == ("BLACK", 84, 2, 0)
    assert body["reasons"] == {"SEVERE_OVERDUE": 2}
    assert body["latest_black_event_date"] == "2026-03-01"
    assert body["conflict"] is False and body["disputed"] is False
    assert UTC_SECONDS.fullmatch(body["consensus_updated_at"])
    assert uuid.UUID(body["lookup_id"])
    own = body["own_entry"]
    assert set(own) == OWN_ENTRY_KEYS
    assert own == {
        "id": entry_of(member, h).pk,
        "list": "BLACK",
        "reason": "SEVERE_OVERDUE",
        "event_date": "2026-03-01",
        "state": "ACTIVE",
    }
    for name in ("black_score", "black_members", "white_members"):
        assert type(body[name]) is int


def test_own_entry_shows_a_withdrawn_entry_with_its_state(member, other_member, lookups):
    h = subject("withdrawn-own")
    submit(member, h)
    submit(other_member, h)
    submit(member, h, action="WITHDRAW")
    body = _get(lookups, h).json()
    assert body["own_entry"]["state"] == "WITHDRAWN"
    assert body["own_entry"]["id"] == entry_of(member, h).pk
    assert (body["status"], body["black_members"]) == ("WATCH", 1)


def test_own_entry_is_null_when_only_others_have_entries(member, other_member, lookups):
    h = subject("others-only")
    submit(other_member, h, reference="OTHERS-LOAN-42")
    body = _get(lookups, h).json()
    assert body["own_entry"] is None
    assert (body["status"], body["black_members"]) == ("WATCH", 1)


def test_a_lookup_never_names_another_member(member, other_member, lookups):
    h = subject("never-named")
    submit(member, h, reference="MY-OWN-LOAN-1")
    submit(other_member, h, reference="OTHERS-LOAN-42")
    other_entry = entry_of(other_member, h)
    response = _get(lookups, h)
    body = response.json()
    assert set(body) == RESULT_KEYS
    text = response.content.decode()
    assert other_member.name not in text and other_member.uscc not in text
    assert "OTHERS-LOAN-42" not in text and "MY-OWN-LOAN-1" not in text  # references are never shown
    assert body["own_entry"]["id"] != other_entry.pk
    assert body["black_members"] == 2


# -- what a lookup states ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "purpose=", "purpose=MARKETING", "purpose=underwriting"])
def test_purpose_is_required(lookups, query):
    error = error_of(_get(lookups, subject(1), query), 400, "validation_error")
    assert "purpose" in error["details"]
    assert not LookupRecord.objects.exists()


@pytest.mark.parametrize("purpose", ["UNDERWRITING", "POST_LOAN", "DISPUTE_CHECK"])
def test_each_purpose_is_recorded(member, lookups, purpose):
    body = _get(lookups, subject(1), f"purpose={purpose}").json()
    record = LookupRecord.objects.get(pk=body["lookup_id"])
    assert (record.purpose, record.member_id) == (purpose, member.pk)


def test_consent_reference_is_required_when_the_region_says_so(region, lookups):
    set_policy(region, consent_reference_required=True)
    error = error_of(_get(lookups, subject(1)), 400, "validation_error")
    assert set(error["details"]) == {"consent_reference"}
    response = _get(lookups, subject(1), "purpose=UNDERWRITING&consent_reference=CONSENT-2026-0042")
    assert response.status_code == 200, response.content
    assert LookupRecord.objects.get().consent_reference == "CONSENT-2026-0042"


def test_consent_reference_is_required_for_a_batch_when_the_region_says_so(region, lookups):
    set_policy(region, consent_reference_required=True)
    error = error_of(_batch(lookups, [subject(1)]), 400, "validation_error")
    assert "consent_reference" in error["details"]
    assert _batch(lookups, [subject(1)], consent_reference="C-1").status_code == 200


def test_consent_reference_is_optional_by_default(lookups):
    assert _get(lookups, subject(1)).status_code == 200


def test_an_unknown_key_id_is_refused(lookups):
    error = error_of(_get(lookups, subject(1), "purpose=UNDERWRITING&key_id=no-such-key"), 400, "validation_error")
    assert "key_id" in error["details"]
    error = error_of(_batch(lookups, [subject(1)], key_id="no-such-key"), 400, "validation_error")
    assert "key_id" in error["details"]
    assert not LookupRecord.objects.exists()


def test_a_malformed_subject_is_refused(lookups):
    assert _get(lookups, "abc").status_code == 400
    assert _get(lookups, subject(1), id_type="PASSPORT").status_code == 400
    assert not LookupRecord.objects.exists()


def test_after_a_rotation_each_key_sees_the_entries_made_under_it(region, member, other_member, lookups):
    h = subject("rotated")
    submit(member, h)
    submit(other_member, h)
    old = current_key(region).key_id
    assert _get(lookups, h).json()["status"] == "BLACK"  # the lookup service now knows the old key as current
    new = hash_key_rotate(region=region, actor=operator_system(region)).key_id

    current = _get(lookups, h).json()
    assert (current["key_id"], current["status"], current["own_entry"]) == (new, "CLEAR", None)
    with_old = _get(lookups, h, f"purpose=UNDERWRITING&key_id={old}").json()
    assert (with_old["key_id"], with_old["status"], with_old["black_score"]) == (old, "BLACK", 84)
    assert with_old["own_entry"]["id"] == entry_of(member, h).pk
    explicit_new = _get(lookups, h, f"purpose=UNDERWRITING&key_id={new}").json()
    assert (explicit_new["key_id"], explicit_new["status"]) == (new, "CLEAR")
    records = LookupRecord.objects.order_by("created_at")
    assert [r.hash_key.key_id for r in records] == [old, new, old, new]


def test_entries_made_under_the_new_key_are_seen_by_current_key_lookups(region, member, lookups):
    h = subject("new-key")
    _get(lookups, h)
    hash_key_rotate(region=region, actor=operator_system(region))
    submit(member, h, "BLACK", "COURT_ENFORCED")
    assert _get(lookups, h).json()["status"] == "BLACK"


# -- lookup records ------------------------------------------------------------------------------


def test_each_lookup_writes_one_record(member, lookups):
    h = subject("recorded")
    submit(member, h)
    first = _get(lookups, h, "purpose=POST_LOAN").json()
    second = _get(lookups, h, "purpose=POST_LOAN").json()
    assert first["lookup_id"] != second["lookup_id"]
    records = LookupRecord.objects.order_by("created_at")
    assert [str(r.pk) for r in records] == [first["lookup_id"], second["lookup_id"]]
    record = records[0]
    assert (record.member_id, record.purpose, record.status, record.black_score) == (
        member.pk,
        "POST_LOAN",
        "WATCH",
        60,
    )
    assert (record.id_type, bytes(record.subject_hash).hex(), record.batch_id) == ("RIC", h, None)
    assert record.api_key_prefix
    assert record.user_id is None


def test_a_lookup_through_a_persons_session_records_the_person(member, user_with, session_client):
    user = user_with(member, "ANALYST")
    response = _get(session_client(user), subject(1))
    assert response.status_code == 200, response.content
    record = LookupRecord.objects.get()
    assert (record.user_id, record.api_key_prefix, record.member_id) == (user.pk, "", member.pk)


@pytest.mark.parametrize("role", ["VIEWER", "UPLOADER"])
def test_roles_without_lookups_are_refused(member, user_with, session_client, role):
    error_of(_get(session_client(user_with(member, role)), subject(1)), 403, "permission_denied")
    assert not LookupRecord.objects.exists()


def test_a_key_without_the_lookup_scope_is_refused(member, key_client):
    error_of(_get(key_client(member, scopes=["entries", "upload"]), subject(1)), 403, "permission_denied")


# -- batches ------------------------------------------------------------------------------------


def test_a_batch_answers_in_request_order_with_duplicates(member, other_member, lookups):
    black, white, clear = subject("b-black"), subject("b-white"), subject("b-clear")
    submit(member, black)
    submit(other_member, black)
    submit(other_member, white, "WHITE", "GOOD_REPAYMENT")
    order = [white, black, clear, black, white]
    response = _batch(lookups, order, purpose="POST_LOAN")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"lookup_batch_id", "results"}
    results = body["results"]
    assert [r["subject_hash"] for r in results] == order
    assert [r["status"] for r in results] == ["WHITE", "BLACK", "CLEAR", "BLACK", "WHITE"]
    assert all(set(r) == RESULT_KEYS for r in results)
    assert results[1]["own_entry"]["id"] == entry_of(member, black).pk
    assert results[0]["own_entry"] is None
    assert len({r["lookup_id"] for r in results}) == 5


def test_a_batch_writes_one_record_per_subject_sharing_the_batch_id(member, lookups):
    hashes = [subject(n) for n in range(7)] + [subject(0)]
    body = _batch(lookups, hashes, purpose="DISPUTE_CHECK").json()
    records = LookupRecord.objects.all()
    assert records.count() == 8
    assert {str(r.batch_id) for r in records} == {body["lookup_batch_id"]}
    assert {str(r.pk) for r in records} == {r["lookup_id"] for r in body["results"]}
    assert {r.purpose for r in records} == {"DISPUTE_CHECK"}
    assert sorted(bytes(r.subject_hash).hex() for r in records) == sorted(hashes)


def test_a_batch_with_malformed_subjects_is_refused_whole_naming_each_bad_index(lookups):
    subjects = [
        {"id_type": "RIC", "subject_hash": subject(1)},
        {"id_type": "RIC", "subject_hash": "not-hex"},
        {"id_type": "RIC", "subject_hash": subject(2)},
        {"id_type": "PASSPORT", "subject_hash": subject(3)},
        {"id_type": "RIC", "subject_hash": subject(4)[:63]},
        "RIC:" + subject(5),
        {"id_type": "RIC", "subject_hash": subject(6), "name": "张三"},
    ]
    error = error_of(_batch(lookups, [], subjects=subjects), 400, "validation_error")
    assert set(error["details"]["subjects"]) == {"1", "3", "4", "5", "6"}
    assert not LookupRecord.objects.exists()


@pytest.mark.parametrize("count", [0, 10_001])
def test_a_batch_needs_1_to_10000_subjects(lookups, count):
    error = error_of(_batch(lookups, [subject(n % 50) for n in range(count)]), 400, "validation_error")
    assert "subjects" in error["details"]
    assert not LookupRecord.objects.exists()


def test_a_batch_of_10000_subjects_is_answered(lookups):
    response = _batch(lookups, [subject(n % 3000) for n in range(10_000)])
    assert response.status_code == 200
    assert len(response.json()["results"]) == 10_000
    assert LookupRecord.objects.count() == 10_000


def test_a_batch_refuses_unknown_fields(lookups):
    error = error_of(_batch(lookups, [subject(1)], colour="red"), 400, "validation_error")
    assert "colour" in error["details"]


def test_a_batch_in_another_region_sees_nothing_of_this_one(member, key_client):
    h = subject("other-region")
    submit(member, h, "BLACK", "COURT_ENFORCED")
    stranger = new_member()
    body = _batch(key_client(stranger, scopes=["lookup"]), [h]).json()
    assert body["results"][0]["status"] == "CLEAR"
    assert body["results"][0]["key_id"] == current_key(stranger.region).key_id
