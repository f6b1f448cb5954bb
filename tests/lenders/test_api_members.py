"""The operator's member endpoints and what a member's suspension does to its users and keys."""

from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.models import User
from lenders.services.members import member_update
from tests.core.error_shape import assert_error
from tests.factories import make_api_key, make_user


def _key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _session_client(user: User, *, csrf: bool = True) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    if csrf:
        token = secrets.token_hex(16)
        client.cookies[settings.CSRF_COOKIE_NAME] = token
        client.credentials(HTTP_X_CSRFTOKEN=token)
    return client


@pytest.fixture
def admin_key(region) -> APIClient:
    _key, secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    return _key_client(secret)


def _suspend(member, status="SUSPENDED"):  # type: ignore[no-untyped-def]
    return member_update(member=member, actor=Actor.system("tests"), status=status)


# -- suspension ----------------------------------------------------------------------------


def test_suspended_members_api_key_is_refused_with_member_suspended(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    _suspend(member)
    assert_error(_key_client(secret).get("/api/v1/region"), 403, "member_suspended")


def test_suspended_members_api_key_cannot_fetch_the_hash_key(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    _suspend(member)
    assert_error(_key_client(secret).get("/api/v1/region/hash-key"), 403, "member_suspended")
    assert not AuditEvent.objects.filter(action="hash_key.read").exists()


@pytest.mark.parametrize("role", ["MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER"])
def test_suspended_members_users_session_is_refused_with_member_suspended(member, role):
    client = _session_client(make_user(member, [role]))
    _suspend(member)
    assert_error(client.get("/api/v1/region"), 403, "member_suspended")


def test_reactivated_members_key_works_again(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    _suspend(member)
    _suspend(member, "ACTIVE")
    assert _key_client(secret).get("/api/v1/region").status_code == 200


def test_reactivated_members_users_session_works_again(member):
    client = _session_client(make_user(member, ["ANALYST"]))
    _suspend(member)
    _suspend(member, "ACTIVE")
    assert client.get("/api/v1/region").status_code == 200


def test_suspending_one_member_leaves_the_others_working(member, other_member):
    _key, secret = make_api_key(other_member, scopes=["lookup"])
    _suspend(member)
    assert _key_client(secret).get("/api/v1/region").status_code == 200


def test_operator_suspends_a_member_through_the_api(admin_key, member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    response = admin_key.patch(f"/api/v1/members/{member.pk}", {"status": "SUSPENDED"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "SUSPENDED"
    assert_error(_key_client(secret).get("/api/v1/region"), 403, "member_suspended")


# -- reading and changing members ---------------------------------------------------------


def test_member_detail_shows_what_the_operator_controls(admin_key, member):
    body = admin_key.get(f"/api/v1/members/{member.pk}").json()
    assert body["id"] == member.pk
    assert body["uscc"] == member.uscc
    assert body["region"] == member.region.code
    assert body["status"] == "ACTIVE"
    assert body["trust_weight"] == 1.0
    assert body["excluded_from_consensus"] is False


def test_member_list_filters_by_status(admin_key, member, other_member):
    _suspend(other_member)
    response = admin_key.get("/api/v1/members", {"status": "SUSPENDED"})
    assert [row["id"] for row in response.json()["results"]] == [other_member.pk]


def test_patch_changes_trust_weight_and_exclusion(admin_key, member):
    response = admin_key.patch(
        f"/api/v1/members/{member.pk}/", {"trust_weight": 0.25, "excluded_from_consensus": True}, format="json"
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert str(member.trust_weight) == "0.250"
    assert member.excluded_from_consensus is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trust_weight": 2}, "trust_weight"),
        ({"trust_weight": -0.1}, "trust_weight"),
        ({"trust_weight": "lots"}, "trust_weight"),
        ({"status": "PAUSED"}, "status"),
        ({"excluded_from_consensus": "perhaps"}, "excluded_from_consensus"),
        ({"colour": "red"}, "colour"),
        ({"trust_weight": 0.5, "name": "renamed"}, "name"),
    ],
)
def test_patch_with_invalid_value_is_400_naming_the_field_and_changes_nothing(admin_key, member, body, field):
    response = admin_key.patch(f"/api/v1/members/{member.pk}", body, format="json")
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    member.refresh_from_db()
    assert (str(member.trust_weight), member.status, member.name) == ("1.000", "ACTIVE", member.name)
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_patch_that_changes_nothing_writes_no_event(admin_key, member):
    response = admin_key.patch(f"/api/v1/members/{member.pk}", {"trust_weight": "1.0"}, format="json")
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_operator_admin_session_patches_with_its_csrf_token(region, member):
    client = _session_client(make_user(region.operator, ["OPERATOR_ADMIN"]))
    response = client.patch(f"/api/v1/members/{member.pk}", {"excluded_from_consensus": True}, format="json")
    assert response.status_code == 200


def test_session_patch_without_csrf_token_is_refused(region, member):
    client = _session_client(make_user(region.operator, ["OPERATOR_ADMIN"]), csrf=False)
    response = client.patch(f"/api/v1/members/{member.pk}", {"excluded_from_consensus": True}, format="json")
    assert_error(response, 403, "permission_denied")
    member.refresh_from_db()
    assert member.excluded_from_consensus is False


def test_patch_of_unknown_member_is_404(admin_key):
    assert_error(admin_key.patch("/api/v1/members/999999", {"status": "SUSPENDED"}, format="json"), 404, "not_found")
