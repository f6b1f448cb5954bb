"""Regions: their policy settings, validated one by one, and their hash keys with rotation."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import cast

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from core.errors import Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from lenders.actors import Actor
from lenders.key_encryption import decrypt_key
from lenders.models import HashKey, Region
from lenders.services.regions import hash_key_read, hash_key_rotate, region_create, region_update_policy
from tests.factories import RegionFactory, make_api_key, make_user

ALL_WEIGHTS = {"FRAUD": 1, "COURT_ENFORCED": 1, "WRITE_OFF": 0.8, "SEVERE_OVERDUE": 0.6, "OTHER_BLACK": 0.3}


def _state(region: Region) -> dict[str, object]:
    region.refresh_from_db()
    return model_to_dict(region)


def _system(region: Region) -> Actor:
    return Actor.system("tests", region)


# -- policy validation ---------------------------------------------------------------------

INVALID_POLICY = [
    ("black_score_threshold", 101),
    ("black_score_threshold", -1),
    ("black_score_threshold", "eighty"),
    ("black_score_threshold", 80.5),
    ("black_score_threshold", True),
    ("black_score_threshold", None),
    ("min_black_members", 0),
    ("black_retention_years", 0),
    ("white_retention_years", 31),
    ("response_days", 0),
    ("reminder_days_before", 366),
    ("relist_block_days", -5),
    ("upload_max_rows", 0),
    ("upload_max_bytes", 10),
    ("upload_max_line_bytes", 63),
    ("lookup_rate_per_minute", 0),
    ("upload_rate_per_hour", 0),
    ("api_rate_per_minute", 0),
    ("api_rate_per_minute", 10**12),
    ("snapshot_max_withdraw_ratio", 1.5),
    ("snapshot_max_withdraw_ratio", -0.1),
    ("snapshot_max_withdraw_ratio", "half"),
    ("snapshot_max_withdraw_ratio", "NaN"),
    ("consent_reference_required", "yes"),
    ("suspend_disputed_entries", 1),
    ("severity_weights", {"FRAUD": 1}),
    ("severity_weights", {**ALL_WEIGHTS, "FRAUD": 1.5}),
    ("severity_weights", {**ALL_WEIGHTS, "FRAUD": -0.1}),
    ("severity_weights", {**ALL_WEIGHTS, "FRAUD": "heavy"}),
    ("severity_weights", {**ALL_WEIGHTS, "FRAUD": "NaN"}),
    ("severity_weights", {**ALL_WEIGHTS, "FRAUD": None}),
    ("severity_weights", {**ALL_WEIGHTS, "GOOD_REPAYMENT": 0.5}),
    ("severity_weights", [1, 1, 0.8, 0.6, 0.3]),
    ("decisive_reasons", ["GOOD_REPAYMENT"]),
    ("decisive_reasons", ["FRAUD", "NOT_A_REASON"]),
    ("decisive_reasons", "FRAUD"),
    ("colour", "red"),
    ("code", "NEW"),
    ("name", "renamed"),
]


@pytest.mark.parametrize(("setting", "value"), INVALID_POLICY)
def test_invalid_policy_setting_is_refused_naming_it_and_changes_nothing(region, setting, value):
    before = _state(region)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        region_update_policy(region=region, actor=_system(region), changes={setting: value})
    assert list(refused.value.details) == [setting]
    assert _state(region) == before
    assert AuditEvent.objects.count() == events


def test_one_invalid_setting_refuses_the_whole_change(region):
    before = _state(region)
    with pytest.raises(InvalidInput) as refused:
        region_update_policy(
            region=region, actor=_system(region), changes={"black_score_threshold": 60, "min_black_members": 0}
        )
    assert list(refused.value.details) == ["min_black_members"]
    assert _state(region) == before


def test_every_invalid_setting_is_named_at_once(region):
    with pytest.raises(InvalidInput) as refused:
        region_update_policy(region=region, actor=_system(region), changes={"response_days": 0, "colour": "red"})
    assert set(refused.value.details) == {"response_days", "colour"}


@pytest.mark.parametrize(
    ("setting", "value", "stored"),
    [
        ("black_score_threshold", 0, 0),
        ("black_score_threshold", 100, 100),
        ("black_score_threshold", "75", 75),
        ("min_black_members", 1, 1),
        ("snapshot_max_withdraw_ratio", "0.25", Decimal("0.250")),
        ("snapshot_max_withdraw_ratio", 1, Decimal("1.000")),
        ("decisive_reasons", ["FRAUD", "COURT_ENFORCED", "FRAUD"], ["COURT_ENFORCED", "FRAUD"]),
        ("decisive_reasons", [], []),
        ("consent_reference_required", True, True),
        ("api_rate_per_minute", 1, 1),
    ],
)
def test_valid_policy_setting_is_stored(region, setting, value, stored):
    _region, changed = region_update_policy(region=region, actor=_system(region), changes={setting: value})
    assert changed == {setting}
    region.refresh_from_db()
    assert getattr(region, setting) == stored


def test_severity_weights_are_stored_for_every_black_reason(region):
    weights = {**ALL_WEIGHTS, "OTHER_BLACK": 0.25}
    region_update_policy(region=region, actor=_system(region), changes={"severity_weights": weights})
    region.refresh_from_db()
    assert region.severity_weights["OTHER_BLACK"] == "0.250"
    assert set(region.severity_weights) == set(ALL_WEIGHTS)


def test_policy_update_audits_from_and_to_values(region):
    region_update_policy(
        region=region,
        actor=_system(region),
        changes={"snapshot_max_withdraw_ratio": "0.3", "decisive_reasons": ["FRAUD"], "response_days": 20},
    )
    event = AuditEvent.objects.get(action="region.policy_update")
    assert event.details == {
        "snapshot_max_withdraw_ratio": {"from": "0.500", "to": "0.300"},
        "decisive_reasons": {"from": ["COURT_ENFORCED"], "to": ["FRAUD"]},
    }


def test_policy_update_needs_the_operator_admin_role(region):
    regulator = Actor.for_user(make_user(region.operator, ["REGULATOR"]))
    before = _state(region)
    with pytest.raises(Forbidden):
        region_update_policy(region=region, actor=regulator, changes={"black_score_threshold": 10})
    assert _state(region) == before
    assert not AuditEvent.objects.filter(action="region.policy_update").exists()


def test_policy_change_shows_in_get_region(region, member):
    region_update_policy(region=region, actor=_system(region), changes={"black_score_threshold": 65})
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert client.get("/api/v1/region").json()["policy"]["consensus"]["black_score_threshold"] == 65


# -- region creation -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["", "A", "1AB", "ab-c", "TOO_LONG_REGION_CODE"])
def test_region_create_refuses_a_bad_code(db, code):
    with pytest.raises(InvalidInput) as refused:
        region_create(code=code, name="区域", actor=Actor.system("tests"))
    assert "code" in refused.value.details
    assert not Region.objects.exists()
    assert not AuditEvent.objects.exists()


def test_region_create_refuses_a_duplicate_code(region):
    with pytest.raises(InvalidInput) as refused:
        region_create(code=region.code.lower(), name="again", actor=Actor.system("tests"))
    assert "code" in refused.value.details
    assert Region.objects.count() == 1


def test_region_create_makes_its_operator_and_one_current_key(db):
    region = region_create(code="NEWR", name="新区域", actor=Actor.system("tests"))
    assert region.operator.name
    key = region.current_hash_key
    assert len(decrypt_key(key.encrypted_key)) == 32
    assert HashKey.objects.filter(region=region).count() == 1


# -- hash keys -----------------------------------------------------------------------------


def test_rotation_makes_a_new_current_key(region):
    old = region.current_hash_key
    new = hash_key_rotate(region=region, actor=_system(region))
    assert new.key_id != old.key_id
    assert region.current_hash_key == new
    old.refresh_from_db()
    assert (old.is_current, old.retired_at is not None) == (False, True)
    assert decrypt_key(new.encrypted_key) != decrypt_key(old.encrypted_key)


def test_rotation_keeps_the_old_key_readable_through_the_api(region, member):
    old = region.current_hash_key
    new = hash_key_rotate(region=region, actor=_system(region))
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    current = client.get("/api/v1/region/hash-key").json()
    older = client.get("/api/v1/region/hash-key", {"key_id": old.key_id}).json()
    assert current["key_id"] == new.key_id
    assert older["key_id"] == old.key_id
    assert base64.b64decode(older["key_b64"]) == decrypt_key(old.encrypted_key)
    region_body = client.get("/api/v1/region").json()
    assert region_body["key_id"] == new.key_id
    assert region_body["key_ids"] == [new.key_id, old.key_id]


def test_rotation_needs_the_operator_admin_role(region):
    regulator = Actor.for_user(make_user(region.operator, ["REGULATOR"]))
    with pytest.raises(Forbidden):
        hash_key_rotate(region=region, actor=regulator)
    assert HashKey.objects.filter(region=region).count() == 1


def test_another_regions_key_is_not_found(region, member):
    stranger = cast(Region, RegionFactory())
    actor = Actor.for_api_key(make_api_key(member, scopes=["lookup"])[0])
    with pytest.raises(NotFound):
        hash_key_read(actor=actor, key_id=stranger.current_hash_key.key_id)
    assert not AuditEvent.objects.filter(action="hash_key.read").exists()
