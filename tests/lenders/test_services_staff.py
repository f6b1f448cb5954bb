"""Staff users: who may manage whom, role rules, passwords. A refused change writes nothing."""

from __future__ import annotations

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from lenders.actors import Actor, MemberSuspended, NoOrganisation
from lenders.models import User
from lenders.services.members import member_update
from lenders.services.staff import staff_change_password, staff_create, staff_set_active, staff_set_roles
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "Another-long-passphrase-42"


@pytest.fixture
def member_admin(member) -> User:
    return make_user(member, ["MEMBER_ADMIN"])


def _create(org, actor, **overrides):  # type: ignore[no-untyped-def]
    fields = {"username": "newcomer", "password": NEW_PASSWORD, "roles": ["ANALYST"], **overrides}
    return staff_create(org=org, actor=actor, **fields)


def test_member_admin_creates_staff_of_its_own_member(member, member_admin):
    user = _create(member, Actor.for_user(member_admin), roles=["ANALYST", "UPLOADER"])
    assert user.member == member
    assert user.role_codes == {"ANALYST", "UPLOADER"}
    assert user.check_password(NEW_PASSWORD)


def test_member_admin_cannot_create_staff_of_another_member(member_admin, other_member):
    events = AuditEvent.objects.count()
    with pytest.raises(NotFound):
        _create(other_member, Actor.for_user(member_admin))
    assert not User.objects.filter(username="newcomer").exists()
    assert AuditEvent.objects.count() == events


def test_member_admin_cannot_create_operator_staff(region, member_admin):
    with pytest.raises(NotFound):
        _create(region.operator, Actor.for_user(member_admin), roles=["REGULATOR"])
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("role", ["ANALYST", "UPLOADER", "VIEWER"])
def test_staff_without_the_admin_role_cannot_create_staff(member, role):
    actor = Actor.for_user(make_user(member, [role]))
    with pytest.raises(Forbidden):
        _create(member, actor)
    assert not User.objects.filter(username="newcomer").exists()


def test_operator_admin_creates_operator_staff(region):
    admin = make_user(region.operator, ["OPERATOR_ADMIN"])
    user = _create(region.operator, Actor.for_user(admin), roles=["REGULATOR"])
    assert (user.operator, user.member) == (region.operator, None)


@pytest.mark.parametrize(
    ("org_kind", "roles"),
    [
        ("member", ["OPERATOR_ADMIN"]),
        ("member", ["ANALYST", "REGULATOR"]),
        ("operator", ["MEMBER_ADMIN"]),
        ("member", []),
        ("member", ["SUPERUSER"]),
    ],
)
def test_roles_must_belong_to_the_kind_of_organisation(region, member, org_kind, roles):
    org = member if org_kind == "member" else region.operator
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        _create(org, Actor.system("tests"), roles=roles)
    assert "roles" in refused.value.details
    assert not User.objects.filter(username="newcomer").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "1234567890123"}, "password"),
        ({"password": "password123"}, "password"),
        ({"username": "a"}, "username"),
        ({"username": "has space"}, "username"),
    ],
)
def test_invalid_staff_fields_are_refused_naming_the_field(member, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        _create(member, Actor.system("tests"), **overrides)
    assert field in refused.value.details
    assert not User.objects.filter(member=member).exists()


def test_user_name_is_unique_ignoring_case(member):
    make_user(member, ["VIEWER"], username="Taken")
    with pytest.raises(InvalidInput) as refused:
        _create(member, Actor.system("tests"), username="taken")
    assert "username" in refused.value.details


def test_set_roles_replaces_the_roles(member, member_admin):
    user = make_user(member, ["VIEWER"])
    staff_set_roles(user=user, roles=["UPLOADER"], actor=Actor.for_user(member_admin))
    assert User.objects.get(pk=user.pk).role_codes == {"UPLOADER"}


def test_set_roles_refused_for_a_wrong_role_changes_nothing(member, member_admin):
    user = make_user(member, ["VIEWER"])
    with pytest.raises(InvalidInput):
        staff_set_roles(user=user, roles=["OPERATOR_ADMIN"], actor=Actor.for_user(member_admin))
    assert User.objects.get(pk=user.pk).role_codes == {"VIEWER"}
    assert not AuditEvent.objects.filter(action="staff.set_roles").exists()


def test_set_roles_of_another_members_user_is_not_found(member_admin, other_member):
    stranger = make_user(other_member, ["VIEWER"])
    with pytest.raises(NotFound):
        staff_set_roles(user=stranger, roles=["MEMBER_ADMIN"], actor=Actor.for_user(member_admin))
    assert User.objects.get(pk=stranger.pk).role_codes == {"VIEWER"}


def test_deactivated_user_cannot_use_the_api(member, member_admin, session_client):
    user = make_user(member, ["ANALYST"])
    client = session_client(user)
    staff_set_active(user=user, active=False, actor=Actor.for_user(member_admin))
    assert client.get("/api/v1/region").status_code == 401


def test_admin_cannot_deactivate_their_own_account(member_admin):
    with pytest.raises(InvalidInput):
        staff_set_active(user=member_admin, active=False, actor=Actor.for_user(member_admin))
    member_admin.refresh_from_db()
    assert member_admin.is_active
    assert not AuditEvent.objects.filter(action="staff.deactivate").exists()


def test_password_change_needs_the_current_password(member):
    user = make_user(member, ["ANALYST"])
    with pytest.raises(InvalidInput) as refused:
        staff_change_password(user=user, old_password="wrong", new_password=NEW_PASSWORD, actor=Actor.for_user(user))
    assert "old_password" in refused.value.details
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="staff.password_change").exists()


def test_password_change_refuses_a_weak_new_password(member):
    user = make_user(member, ["ANALYST"])
    with pytest.raises(InvalidInput) as refused:
        staff_change_password(user=user, old_password=PASSWORD, new_password="abc", actor=Actor.for_user(user))
    assert "new_password" in refused.value.details
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_sets_the_new_password(member):
    user = make_user(member, ["ANALYST"])
    staff_change_password(user=user, old_password=PASSWORD, new_password=NEW_PASSWORD, actor=Actor.for_user(user))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_suspended_members_user_gets_no_actor(member):
    user = make_user(member, ["MEMBER_ADMIN"])
    member_update(member=member, actor=Actor.system("tests"), status="SUSPENDED")
    with pytest.raises(MemberSuspended):
        Actor.for_user(User.objects.get(pk=user.pk))


def test_user_of_no_organisation_gets_no_actor(db):
    user = User.objects.create_user(username="orphan", password=PASSWORD)
    with pytest.raises(NoOrganisation):
        Actor.for_user(user)


def test_user_of_no_organisation_is_refused_by_the_api(db, session_client):
    user = User.objects.create_user(username="orphan", password=PASSWORD)
    response = session_client(user).get("/api/v1/region")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_organisation"
