"""Members: created and changed by the operator only, with validated values."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import pytest

from core.errors import Forbidden, InvalidInput
from core.models import AuditEvent
from lenders import hooks
from lenders.actors import Actor
from lenders.models import Member, Region
from lenders.services.members import member_create, member_update
from tests.factories import RegionFactory, make_user, valid_uscc


def _system() -> Actor:
    return Actor.system("tests")


def test_member_create_stores_the_canonical_uscc(region):
    uscc = valid_uscc(4242)
    member = member_create(region=region, name="  前海小贷  ", uscc=f" {uscc[:9]}-{uscc[9:].lower()} ", actor=_system())
    assert (member.name, member.uscc, member.status) == ("前海小贷", uscc, "ACTIVE")
    assert member.trust_weight == Decimal("1.000")


@pytest.mark.parametrize("uscc", ["", "91440300000000001", "914403000000000010", "9144030000000000IO", "not a code"])
def test_member_create_refuses_a_bad_uscc(region, uscc):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        member_create(region=region, name="小贷公司", uscc=uscc, actor=_system())
    assert "uscc" in refused.value.details
    assert not Member.objects.exists()
    assert AuditEvent.objects.count() == events


def test_member_create_refuses_a_duplicate_uscc_in_the_region(member):
    with pytest.raises(InvalidInput) as refused:
        member_create(region=member.region, name="again", uscc=member.uscc, actor=_system())
    assert "uscc" in refused.value.details
    assert Member.objects.count() == 1


def test_the_same_uscc_may_join_another_region(member):
    other = member_create(region=cast(Region, RegionFactory()), name="同一公司", uscc=member.uscc, actor=_system())
    assert other.uscc == member.uscc


def test_member_create_refuses_an_empty_name(region):
    with pytest.raises(InvalidInput) as refused:
        member_create(region=region, name="  ", uscc=valid_uscc(77), actor=_system())
    assert "name" in refused.value.details


@pytest.mark.parametrize("role", ["REGULATOR", "MEMBER_ADMIN"])
def test_only_the_operator_admin_creates_members(region, member, role):
    org = region.operator if role == "REGULATOR" else member
    actor = Actor.for_user(make_user(org, [role]))
    with pytest.raises(Forbidden):
        member_create(region=region, name="小贷公司", uscc=valid_uscc(78), actor=actor)
    assert Member.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"trust_weight": "1.5"}, "trust_weight"),
        ({"trust_weight": -1}, "trust_weight"),
        ({"trust_weight": "NaN"}, "trust_weight"),
        ({"trust_weight": "Infinity"}, "trust_weight"),
        ({"trust_weight": True}, "trust_weight"),
        ({"trust_weight": "heavy"}, "trust_weight"),
        ({"status": "PAUSED"}, "status"),
        ({"excluded_from_consensus": "true"}, "excluded_from_consensus"),
    ],
)
def test_member_update_refuses_invalid_values_and_changes_nothing(member, fields, field):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        member_update(member=member, actor=_system(), **fields)
    assert list(refused.value.details) == [field]
    member.refresh_from_db()
    assert (member.trust_weight, member.status, member.excluded_from_consensus) == (Decimal("1.000"), "ACTIVE", False)
    assert AuditEvent.objects.count() == events


def test_member_update_rounds_trust_weight_to_three_places(member):
    member_update(member=member, actor=_system(), trust_weight="0.12345")
    member.refresh_from_db()
    assert member.trust_weight == Decimal("0.123")


def test_regulator_cannot_update_a_member(region, member):
    actor = Actor.for_user(make_user(region.operator, ["REGULATOR"]))
    with pytest.raises(Forbidden):
        member_update(member=member, actor=actor, status="SUSPENDED")
    member.refresh_from_db()
    assert member.status == "ACTIVE"
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_member_update_tells_the_registry_to_recount(member, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(hooks, "member_counting_changed", [lambda m, actor: calls.append(m.pk)])
    member_update(member=member, actor=_system(), excluded_from_consensus=True)
    assert calls == [member.pk]


def test_member_update_without_a_change_does_not_recount(member, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(hooks, "member_counting_changed", [lambda m, actor: calls.append(m.pk)])
    member_update(member=member, actor=_system(), excluded_from_consensus=False)
    assert calls == []
