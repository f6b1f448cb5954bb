"""``GET audit-events``: a member admin reads its own member's events, the operator its whole
region's, nobody anything of another region."""

from __future__ import annotations

from typing import cast

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from lenders.models import Member, User
from tests.core.error_shape import assert_error
from tests.factories import MemberFactory, make_api_key, make_user


def _key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _read_hash_key(member: Member) -> None:
    """A state-reading action that the member itself does: one hash_key.read event of that member."""
    _key, secret = make_api_key(member, scopes=["lookup"])
    assert _key_client(secret).get("/api/v1/region/hash-key").status_code == 200


def _ids(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def stranger_region_event() -> AuditEvent:
    stranger = cast(Member, MemberFactory())
    _read_hash_key(stranger)
    return AuditEvent.objects.get(action="hash_key.read", member_id=stranger.pk)


def test_member_admin_reads_only_its_own_members_events(member, other_member, session_client, stranger_region_event):
    _read_hash_key(member)
    _read_hash_key(other_member)
    admin: User = make_user(member, ["MEMBER_ADMIN"])
    ids = _ids(session_client(admin).get("/api/v1/audit-events"))
    assert ids == set(AuditEvent.objects.filter(member_id=member.pk).values_list("id", flat=True))
    assert ids, "the member's own event is listed"


@pytest.mark.parametrize("role", ["OPERATOR_ADMIN", "REGULATOR"])
def test_operator_reads_every_event_of_its_region(region, member, other_member, role, stranger_region_event):
    _read_hash_key(member)
    _read_hash_key(other_member)
    _key, secret = make_api_key(region.operator, role=role)
    ids = _ids(_key_client(secret).get("/api/v1/audit-events", {"page_size": 500}))
    assert ids == set(AuditEvent.objects.filter(region_id=region.pk).values_list("id", flat=True))
    assert stranger_region_event.id not in ids


@pytest.mark.parametrize("role", ["ANALYST", "UPLOADER", "VIEWER"])
def test_other_member_roles_may_not_read_audit_events(member, session_client, role):
    response = session_client(make_user(member, [role])).get("/api/v1/audit-events")
    assert_error(response, 403, "permission_denied")


def test_member_keys_may_not_read_audit_events(member):
    _key, secret = make_api_key(member, scopes=["lookup", "upload", "entries", "disputes"])
    assert_error(_key_client(secret).get("/api/v1/audit-events"), 403, "permission_denied")


def test_audit_events_filter_by_action(region, member):
    _read_hash_key(member)
    _key, secret = make_api_key(region.operator, role="REGULATOR")
    response = _key_client(secret).get("/api/v1/audit-events", {"action": "hash_key.read"})
    actions = {row["action"] for row in response.json()["results"]}
    assert actions == {"hash_key.read"}


def test_audit_events_are_newest_first_and_cursor_paginated(region):
    for n in range(3):
        MemberFactory(region=region, name=f"分页 {n}")
    _key, secret = make_api_key(region.operator, role="REGULATOR")
    client = _key_client(secret)
    first = client.get("/api/v1/audit-events", {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["results"][0]["id"] > first["results"][1]["id"]
    assert first["next"] is not None
    second = client.get(first["next"]).json()
    assert second["results"][0]["id"] < first["results"][1]["id"]


def test_audit_event_shows_who_what_and_the_chain_hash(region, member):
    _read_hash_key(member)
    _key, secret = make_api_key(region.operator, role="REGULATOR")
    row = _key_client(secret).get("/api/v1/audit-events", {"action": "hash_key.read"}).json()["results"][0]
    event = AuditEvent.objects.get(pk=row["id"])
    assert row["actor_label"] == event.actor_label
    assert row["member_id"] == member.pk
    assert row["object_type"] == "lenders.hashkey"
    assert row["hash"] == event.hash
