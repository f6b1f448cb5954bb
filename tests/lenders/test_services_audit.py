"""Every state change of the lenders services writes exactly one audit event, naming who
acted (user, API key, member), on what, from which request, and carrying no secret."""

from __future__ import annotations

import base64
import datetime
import secrets

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from core.request_context import request_context
from lenders.actors import Actor
from lenders.key_encryption import decrypt_key
from lenders.models import Member, User
from lenders.services.api_keys import api_key_create, api_key_revoke
from lenders.services.members import member_create, member_update
from lenders.services.regions import hash_key_rotate, region_create, region_update_policy
from lenders.services.staff import staff_change_password, staff_create, staff_set_active, staff_set_roles
from tests.factories import PASSWORD, make_api_key, make_user, valid_uscc

NEW_PASSWORD = "Another-long-passphrase-42"


def _only_event(action: str, **filters: object) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action, **filters))
    assert len(events) == 1, f"expected one {action} event, found {len(events)}"
    return events[0]


def _all_audit_text() -> str:
    return repr(list(AuditEvent.objects.values()))


@pytest.fixture
def operator_admin(region) -> User:
    return make_user(region.operator, ["OPERATOR_ADMIN"], username="op-admin")


@pytest.fixture
def member_admin(member) -> User:
    return make_user(member, ["MEMBER_ADMIN"], username="member-admin")


@pytest.fixture
def bound_request():  # type: ignore[no-untyped-def]
    """The request context a web request would bind: its id and the client address."""
    with request_context(request_id="req-test-000001", ip="10.20.30.40") as ctx:
        yield ctx


def _assert_user_actor(event: AuditEvent, user: User) -> None:
    assert event.user_id == user.pk
    assert event.actor_label == f"user:{user.username}"
    assert event.api_key_id == ""
    assert event.member_id == (user.member.pk if user.member else None)


def _assert_request(event: AuditEvent) -> None:
    assert event.request_id == "req-test-000001"
    assert event.ip == "10.20.30.40"


# -- one event per state change ------------------------------------------------------------


def test_region_create_is_audited_with_its_first_key(db, bound_request):
    region = region_create(code="AUD", name="审计区域", actor=Actor.system("create_region"))
    event = _only_event("region.create")
    assert (event.object_type, event.object_id, event.region_id) == ("lenders.region", str(region.pk), region.pk)
    assert event.actor_label == "system:create_region"
    assert (event.user_id, event.member_id, event.api_key_id) == (None, None, "")
    assert event.details == {"code": "AUD", "key_id": region.current_hash_key.key_id}
    _assert_request(event)


def test_hash_key_rotate_is_audited(region, operator_admin, bound_request):
    key = hash_key_rotate(region=region, actor=Actor.for_user(operator_admin))
    event = _only_event("hash_key.rotate")
    _assert_user_actor(event, operator_admin)
    assert (event.object_type, event.object_id) == ("lenders.hashkey", str(key.pk))
    assert event.details == {"key_id": key.key_id}
    assert event.region_id == region.pk
    _assert_request(event)


def test_hash_key_read_through_the_api_records_key_member_request_id_and_address(member):
    api_key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient(REMOTE_ADDR="192.0.2.7")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = client.get("/api/v1/region/hash-key", HTTP_X_REQUEST_ID="req-hash-key-0001")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-hash-key-0001"
    event = _only_event("hash_key.read")
    assert event.api_key_id == api_key.prefix
    assert event.actor_label == f"api-key:{api_key.prefix}"
    assert (event.member_id, event.user_id, event.region_id) == (member.pk, None, member.region_id)
    assert event.object_type == "lenders.hashkey"
    assert event.details == {"key_id": response.json()["key_id"]}
    assert (event.request_id, event.ip) == ("req-hash-key-0001", "192.0.2.7")


def test_hash_key_read_event_holds_no_key_material(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    key_b64 = client.get("/api/v1/region/hash-key").json()["key_b64"]
    raw = base64.b64decode(key_b64)
    text = _all_audit_text()
    assert key_b64 not in text
    assert raw.hex() not in text
    assert member.region.current_hash_key.encrypted_key not in text


def test_member_create_is_audited(region, operator_admin, bound_request):
    member = member_create(region=region, name="新成员", uscc=valid_uscc(9001), actor=Actor.for_user(operator_admin))
    event = _only_event("member.create")
    _assert_user_actor(event, operator_admin)
    assert (event.object_type, event.object_id) == ("lenders.member", str(member.pk))
    assert event.details == {"name": "新成员", "uscc": member.uscc}
    _assert_request(event)


def test_member_update_through_the_api_records_the_user_and_from_to(region, member, operator_admin):
    token = secrets.token_hex(16)
    client = APIClient(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.9")
    client.force_login(operator_admin)
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = client.patch(
        f"/api/v1/members/{member.pk}",
        {"trust_weight": "0.4", "status": "SUSPENDED"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_X_REQUEST_ID="req-member-update-1",
    )
    assert response.status_code == 200
    event = _only_event("member.update")
    _assert_user_actor(event, operator_admin)
    assert (event.object_type, event.object_id) == ("lenders.member", str(member.pk))
    assert event.details == {
        "trust_weight": {"from": "1.000", "to": "0.400"},
        "status": {"from": "ACTIVE", "to": "SUSPENDED"},
    }
    assert (event.request_id, event.ip) == ("req-member-update-1", "198.51.100.9")


def test_staff_create_is_audited_without_the_password(member, member_admin, bound_request):
    user = staff_create(
        org=member, username="new-analyst", password=NEW_PASSWORD, roles=["ANALYST"], actor=Actor.for_user(member_admin)
    )
    event = _only_event("staff.create", object_id=str(user.pk))
    _assert_user_actor(event, member_admin)
    assert (event.object_type, event.object_id) == ("lenders.user", str(user.pk))
    assert event.details == {"username": "new-analyst", "roles": ["ANALYST"]}
    assert NEW_PASSWORD not in _all_audit_text()
    _assert_request(event)


def test_staff_set_roles_is_audited_from_to(member, member_admin, bound_request):
    user = make_user(member, ["VIEWER"])
    staff_set_roles(user=user, roles=["ANALYST", "UPLOADER"], actor=Actor.for_user(member_admin))
    event = _only_event("staff.set_roles")
    _assert_user_actor(event, member_admin)
    assert event.object_id == str(user.pk)
    assert event.details == {"from": ["VIEWER"], "to": ["ANALYST", "UPLOADER"]}


def test_staff_deactivate_and_activate_are_audited(member, member_admin, bound_request):
    user = make_user(member, ["VIEWER"])
    staff_set_active(user=user, active=False, actor=Actor.for_user(member_admin))
    staff_set_active(user=user, active=True, actor=Actor.for_user(member_admin))
    for action in ("staff.deactivate", "staff.activate"):
        event = _only_event(action)
        _assert_user_actor(event, member_admin)
        assert event.object_id == str(user.pk)
        _assert_request(event)


def test_staff_password_change_is_audited_without_either_password(member, bound_request):
    user = make_user(member, ["ANALYST"])
    staff_change_password(user=user, old_password=PASSWORD, new_password=NEW_PASSWORD, actor=Actor.for_user(user))
    event = _only_event("staff.password_change")
    _assert_user_actor(event, user)
    assert event.object_id == str(user.pk)
    assert event.details == {}
    text = _all_audit_text()
    assert PASSWORD not in text and NEW_PASSWORD not in text


def test_api_key_create_is_audited_without_the_secret(member, member_admin, bound_request):
    expires = timezone.localdate() + datetime.timedelta(days=30)
    api_key, secret = api_key_create(
        org=member, name="nightly", scopes=["upload", "lookup"], expires_on=expires, actor=Actor.for_user(member_admin)
    )
    event = _only_event("api_key.create")
    _assert_user_actor(event, member_admin)
    assert (event.object_type, event.object_id) == ("lenders.apikey", api_key.prefix)
    assert event.details == {
        "name": "nightly",
        "prefix": api_key.prefix,
        "scopes": ["lookup", "upload"],
        "role": "",
        "expires_on": expires.isoformat(),
    }
    text = _all_audit_text()
    assert secret not in text
    assert secret.partition(".")[2] not in text


def test_api_key_revoke_is_audited(member, member_admin, bound_request):
    api_key, _secret = make_api_key(member, scopes=["lookup"])
    api_key_revoke(api_key=api_key, actor=Actor.for_user(member_admin))
    event = _only_event("api_key.revoke")
    _assert_user_actor(event, member_admin)
    assert event.object_id == api_key.prefix
    assert event.details == {"name": api_key.name, "prefix": api_key.prefix}


def test_region_policy_update_is_audited_from_to(region, operator_admin, bound_request):
    region_update_policy(
        region=region,
        actor=Actor.for_user(operator_admin),
        changes={"black_score_threshold": 70, "consent_reference_required": True},
    )
    event = _only_event("region.policy_update")
    _assert_user_actor(event, operator_admin)
    assert (event.object_type, event.object_id) == ("lenders.region", str(region.pk))
    assert event.details == {
        "black_score_threshold": {"from": 80, "to": 70},
        "consent_reference_required": {"from": False, "to": True},
    }
    _assert_request(event)


def test_operator_key_change_is_recorded_against_the_key(region, member):
    api_key, secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    client.patch(f"/api/v1/members/{member.pk}", {"excluded_from_consensus": True}, format="json")
    event = _only_event("member.update")
    assert (event.api_key_id, event.user_id, event.member_id) == (api_key.prefix, None, None)
    assert event.actor_label == f"api-key:{api_key.prefix}"
    assert event.region_id == region.pk


def test_event_outside_a_request_has_no_request_id(region):
    hash_key_rotate(region=region, actor=Actor.system("rotate_hash_key", region))
    event = _only_event("hash_key.rotate")
    assert (event.request_id, event.ip) == ("", None)


def test_no_change_writes_no_event(region, member, operator_admin):
    actor = Actor.for_user(operator_admin)
    before = AuditEvent.objects.count()
    member_update(member=member, actor=actor, trust_weight="1.0", status="ACTIVE")
    region_update_policy(region=region, actor=actor, changes={"black_score_threshold": 80})
    staff_set_roles(user=operator_admin, roles=["OPERATOR_ADMIN"], actor=actor)
    assert AuditEvent.objects.count() == before


def test_hash_key_material_is_nowhere_in_the_audit_log_after_every_action(region, member, operator_admin):
    actor = Actor.for_user(operator_admin)
    hash_key_rotate(region=region, actor=actor)
    member_update(member=Member.objects.get(pk=member.pk), actor=actor, trust_weight="0.9")
    text = _all_audit_text()
    for key in region.hash_keys.all():
        raw = decrypt_key(key.encrypted_key)
        assert base64.b64encode(raw).decode() not in text
        assert raw.hex() not in text
