"""Creating and revoking API keys: who may, what a key carries, what is refused."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from lenders.actors import Actor
from lenders.models import ApiKey
from lenders.services.api_keys import api_key_create, api_key_revoke
from tests.factories import make_api_key, make_user


def _create(org, actor, **fields):  # type: ignore[no-untyped-def]
    return api_key_create(org=org, actor=actor, **{"name": "nightly job", **fields})


def test_member_admin_creates_a_key_of_its_member_with_scopes(member):
    admin = make_user(member, ["MEMBER_ADMIN"])
    api_key, secret = _create(member, Actor.for_user(admin), scopes=["upload", "lookup", "upload"])
    assert api_key.member == member
    assert api_key.scopes == ["lookup", "upload"]
    assert api_key.role == ""
    assert api_key.created_by == admin
    assert secret.startswith(api_key.prefix + ".")


def test_operator_admin_creates_an_operator_key_with_a_role(region):
    admin = make_user(region.operator, ["OPERATOR_ADMIN"])
    api_key, _secret = _create(region.operator, Actor.for_user(admin), role="REGULATOR")
    assert (api_key.operator, api_key.role, api_key.scopes) == (region.operator, "REGULATOR", [])


@pytest.mark.parametrize(
    ("org_kind", "fields", "field"),
    [
        ("member", {"scopes": []}, "scopes"),
        ("member", {"scopes": ["admin"]}, "scopes"),
        ("member", {"scopes": ["lookup"], "role": "OPERATOR_ADMIN"}, "role"),
        ("member", {"scopes": ["lookup"], "name": ""}, "name"),
        ("member", {"scopes": ["lookup"], "name": "x" * 51}, "name"),
        ("operator", {"role": "MEMBER_ADMIN"}, "role"),
        ("operator", {}, "role"),
        ("operator", {"role": "REGULATOR", "scopes": ["lookup"]}, "scopes"),
    ],
)
def test_invalid_key_is_refused_naming_the_field(region, member, org_kind, fields, field):
    org = member if org_kind == "member" else region.operator
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        _create(org, Actor.system("tests"), **fields)
    assert field in refused.value.details
    assert not ApiKey.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("days", [0, -1])
def test_expiry_must_be_in_the_future(member, days):
    expires = timezone.localdate() + datetime.timedelta(days=days)
    with pytest.raises(InvalidInput) as refused:
        _create(member, Actor.system("tests"), scopes=["lookup"], expires_on=expires)
    assert "expires" in refused.value.details
    assert not ApiKey.objects.exists()


def test_member_admin_cannot_create_a_key_of_another_member(member, other_member):
    admin = make_user(member, ["MEMBER_ADMIN"])
    with pytest.raises(NotFound):
        _create(other_member, Actor.for_user(admin), scopes=["lookup"])
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("role", ["ANALYST", "UPLOADER", "VIEWER"])
def test_staff_without_the_admin_role_cannot_create_keys(member, role):
    with pytest.raises(Forbidden):
        _create(member, Actor.for_user(make_user(member, [role])), scopes=["lookup"])
    assert not ApiKey.objects.exists()


def test_a_key_cannot_create_keys(member):
    api_key, _secret = make_api_key(member, scopes=["lookup", "upload", "entries", "disputes"])
    with pytest.raises(Forbidden):
        _create(member, Actor.for_api_key(api_key), scopes=["lookup"])
    assert ApiKey.objects.count() == 1


def test_an_operator_admin_key_cannot_create_keys(region):
    api_key, _secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    with pytest.raises(Forbidden):
        _create(region.operator, Actor.for_api_key(api_key), role="OPERATOR_ADMIN")
    assert ApiKey.objects.count() == 1


def test_revoke_marks_the_key_revoked_with_its_time(member):
    api_key, _secret = make_api_key(member, scopes=["lookup"])
    api_key_revoke(api_key=api_key, actor=Actor.system("tests"))
    api_key.refresh_from_db()
    assert api_key.revoked is True
    assert api_key.revoked_at is not None


def test_revoking_twice_is_a_conflict_and_writes_one_event(member):
    api_key, _secret = make_api_key(member, scopes=["lookup"])
    api_key_revoke(api_key=api_key, actor=Actor.system("tests"))
    with pytest.raises(Conflict):
        api_key_revoke(api_key=api_key, actor=Actor.system("tests"))
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_member_admin_cannot_revoke_another_members_key(member, other_member):
    admin = make_user(member, ["MEMBER_ADMIN"])
    api_key, _secret = make_api_key(other_member, scopes=["lookup"])
    with pytest.raises(NotFound):
        api_key_revoke(api_key=api_key, actor=Actor.for_user(admin))
    api_key.refresh_from_db()
    assert api_key.revoked is False
