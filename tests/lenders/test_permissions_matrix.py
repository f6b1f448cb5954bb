"""Who may do what (``concepts.md``): every role, every key scope and both operator key roles
against every capability, then the same rules through the HTTP API.

The expected tables are written out here by hand from the specification, not derived from
``lenders.permissions``, so a change to the code that breaks the specification fails here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import cast

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from lenders.actors import Actor
from lenders.choices import Role, Scope
from lenders.models import Member, Region, User
from lenders.permissions import (
    Perm,
    permissions_for_operator_key,
    permissions_for_roles,
    permissions_for_scopes,
)
from tests.core.error_shape import assert_error
from tests.factories import MemberFactory, make_api_key, make_user

# MEMBER_ADMIN manages its own staff and keys and does everything below it; ANALYST looks up
# and disputes; UPLOADER uploads and keeps its own entries; VIEWER reads its own entries,
# uploads and disputes (no lookups); OPERATOR_ADMIN manages members, trust weights, policy and
# keys, arbitrates and reads all audit; REGULATOR reads what OPERATOR_ADMIN reads, no lookups,
# no changes.
ROLE_COLUMNS = ("MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER", "OPERATOR_ADMIN", "REGULATOR")
ROLE_TABLE = """
capability             MEMBER_ADMIN ANALYST UPLOADER VIEWER OPERATOR_ADMIN REGULATOR
lookup                 yes          yes     -        -      -              -
hash_key.read          yes          yes     yes      -      -              -
upload                 yes          -       yes      -      -              -
upload.read            yes          -       yes      yes    -              -
upload.confirm         yes          -       -        -      -              -
entry.read             yes          -       yes      yes    -              -
entry.write            yes          -       yes      -      -              -
dispute.read           yes          yes     -        yes    -              -
dispute.write          yes          yes     -        -      -              -
staff.manage           yes          -       -        -      yes            -
api_key.manage         yes          -       -        -      yes            -
audit.read_own         yes          -       -        -      -              -
audit.read_all         -            -       -        -      yes            yes
member.read            -            -       -        -      yes            yes
member.write           -            -       -        -      yes            -
region.policy_write    -            -       -        -      yes            -
hash_key.rotate        -            -       -        -      yes            -
dispute.read_all       -            -       -        -      yes            yes
dispute.arbitrate      -            -       -        -      yes            -
subject.history_read   -            -       -        -      yes            yes
relist_block.lift      -            -       -        -      yes            -
statistics.read        -            -       -        -      yes            yes
"""

# A member's key carries scopes; an operator's key one operator role. Machines never manage
# staff or keys and never confirm a snapshot (a person must).
KEY_COLUMNS = ("lookup", "upload", "entries", "disputes", "OPERATOR_ADMIN", "REGULATOR")
KEY_TABLE = """
capability             lookup upload entries disputes OPERATOR_ADMIN REGULATOR
lookup                 yes    -      -       -        -              -
hash_key.read          yes    yes    -       -        -              -
upload                 -      yes    -       -        -              -
upload.read            -      yes    -       -        -              -
upload.confirm         -      -      -       -        -              -
entry.read             -      -      yes     -        -              -
entry.write            -      -      yes     -        -              -
dispute.read           -      -      -       yes      -              -
dispute.write          -      -      -       yes      -              -
staff.manage           -      -      -       -        -              -
api_key.manage         -      -      -       -        -              -
audit.read_own         -      -      -       -        -              -
audit.read_all         -      -      -       -        yes            yes
member.read            -      -      -       -        yes            yes
member.write           -      -      -       -        yes            -
region.policy_write    -      -      -       -        yes            -
hash_key.rotate        -      -      -       -        yes            -
dispute.read_all       -      -      -       -        yes            yes
dispute.arbitrate      -      -      -       -        yes            -
subject.history_read   -      -      -       -        yes            yes
relist_block.lift      -      -      -       -        yes            -
statistics.read        -      -      -       -        yes            yes
"""


def _parse(table: str, columns: tuple[str, ...]) -> dict[tuple[str, str], bool]:
    lines = [line.split() for line in table.strip().splitlines()]
    assert tuple(lines[0][1:]) == columns
    expected: dict[tuple[str, str], bool] = {}
    for capability, *marks in lines[1:]:
        assert len(marks) == len(columns), capability
        for column, mark in zip(columns, marks, strict=True):
            assert mark in ("yes", "-")
            expected[(column, capability)] = mark == "yes"
    return expected


ROLE_EXPECTED = _parse(ROLE_TABLE, ROLE_COLUMNS)
KEY_EXPECTED = _parse(KEY_TABLE, KEY_COLUMNS)


def test_the_role_table_covers_every_role_and_every_capability():
    assert set(ROLE_COLUMNS) == set(Role.values)
    assert {capability for _role, capability in ROLE_EXPECTED} == {perm.value for perm in Perm}


def test_the_key_table_covers_every_scope_and_every_capability():
    assert set(KEY_COLUMNS[:4]) == set(Scope.values)
    assert {capability for _key, capability in KEY_EXPECTED} == {perm.value for perm in Perm}


@pytest.mark.parametrize(("role", "capability"), sorted(ROLE_EXPECTED))
def test_role_grants_exactly_its_capabilities(role, capability):
    granted = Perm(capability) in permissions_for_roles({role})
    assert granted is ROLE_EXPECTED[(role, capability)]


@pytest.mark.parametrize(("key", "capability"), sorted(KEY_EXPECTED))
def test_api_key_grants_exactly_its_capabilities(key, capability):
    if key in Scope.values:
        granted = Perm(capability) in permissions_for_scopes({key})
    else:
        granted = Perm(capability) in permissions_for_operator_key(key)
    assert granted is KEY_EXPECTED[(key, capability)]


def test_several_roles_grant_the_union_of_their_capabilities():
    perms = permissions_for_roles({"ANALYST", "UPLOADER"})
    assert Perm.LOOKUP in perms and Perm.UPLOAD in perms
    assert Perm.STAFF_MANAGE not in perms


def test_an_unknown_role_or_scope_grants_nothing():
    assert permissions_for_roles({"SUPERUSER"}) == frozenset()
    assert permissions_for_scopes({"admin"}) == frozenset()
    assert permissions_for_operator_key("MEMBER_ADMIN") == frozenset()


@pytest.mark.parametrize("role", ROLE_COLUMNS)
def test_signed_in_user_acts_with_the_capabilities_of_their_role(region, member, role):
    org = region.operator if role in ("OPERATOR_ADMIN", "REGULATOR") else member
    actor = Actor.for_user(make_user(org, [role]))
    for perm in Perm:
        assert actor.can(perm) is ROLE_EXPECTED[(role, perm.value)], perm


# -- the same rules through the HTTP API ---------------------------------------------------

CALLERS = (
    "MEMBER_ADMIN",
    "ANALYST",
    "UPLOADER",
    "VIEWER",
    "OPERATOR_ADMIN",
    "REGULATOR",
    "key:lookup",
    "key:upload",
    "key:entries",
    "key:disputes",
    "key:OPERATOR_ADMIN",
    "key:REGULATOR",
)
# Status of each endpoint for each caller, in the order of CALLERS (people by their portal
# session, machines by an API key).
HTTP_COLUMNS = "MA  AN  UP  VI  OA  RE  kLo kUp kEn kDi kOA kRE"
HTTP_TABLE = {
    "GET region": "200 200 200 200 200 200 200 200 200 200 200 200",
    "GET region/hash-key": "200 200 200 403 403 403 200 200 403 403 403 403",
    "GET members": "403 403 403 403 200 200 403 403 403 403 200 200",
    "GET members/{id}": "403 403 403 403 200 200 403 403 403 403 200 200",
    "PATCH members/{id}": "403 403 403 403 200 403 403 403 403 403 200 403",
    "GET audit-events": "200 403 403 403 200 200 403 403 403 403 200 200",
}
HTTP_CASES = [
    (endpoint, caller, int(status))
    for endpoint, row in HTTP_TABLE.items()
    for caller, status in zip(CALLERS, row.split(), strict=True)
]


def _session_client(user: User) -> APIClient:
    """A browser-like session: CSRF enforced, with the CSRF cookie and header a page would set."""
    token = secrets.token_hex(16)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    client.credentials(HTTP_X_CSRFTOKEN=token)
    return client


@pytest.fixture
def caller_client(region: Region, member: Member) -> Callable[[str], APIClient]:
    def build(caller: str) -> APIClient:
        if caller.startswith("key:"):
            what = caller.removeprefix("key:")
            if what in Scope.values:
                _key, secret = make_api_key(member, scopes=[what])
            else:
                _key, secret = make_api_key(region.operator, role=what)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
            return client
        org = region.operator if caller in ("OPERATOR_ADMIN", "REGULATOR") else member
        return _session_client(make_user(org, [caller]))

    return build


def _call(client: APIClient, endpoint: str, member: Member):  # type: ignore[no-untyped-def]
    method, path = endpoint.split(" ")
    url = "/api/v1/" + path.replace("{id}", str(member.pk))
    if method == "PATCH":
        return client.patch(url, {"excluded_from_consensus": True}, format="json")
    return client.get(url)


@pytest.mark.parametrize(("endpoint", "caller", "status"), HTTP_CASES)
def test_endpoint_answers_each_caller_as_the_table_says(caller_client, member, endpoint, caller, status):
    response = _call(caller_client(caller), endpoint, member)
    if status == 403:
        assert_error(response, 403, "permission_denied")
    else:
        assert response.status_code == status, response.content[:300]


@pytest.mark.parametrize(
    "caller", [c for c, s in zip(CALLERS, HTTP_TABLE["PATCH members/{id}"].split(), strict=True) if s == "403"]
)
def test_refused_member_patch_changes_nothing(caller_client, member, caller):
    _call(caller_client(caller), "PATCH members/{id}", member)
    member.refresh_from_db()
    assert member.excluded_from_consensus is False


def test_operator_sees_no_member_of_another_region(caller_client, region):
    stranger = cast(Member, MemberFactory())  # in a region of its own
    response = caller_client("OPERATOR_ADMIN").get(f"/api/v1/members/{stranger.pk}")
    assert_error(response, 404, "not_found")


def test_operator_member_list_holds_only_its_region(caller_client, member, other_member):
    MemberFactory()  # another region's member
    response = caller_client("key:REGULATOR").get("/api/v1/members")
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()["results"]) == sorted([member.pk, other_member.pk])
