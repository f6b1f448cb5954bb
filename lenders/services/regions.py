"""Regions, their policy and their hash keys."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from lenders.actors import Actor
from lenders.choices import BlackReason
from lenders.hooks import run_region_policy_changed
from lenders.key_encryption import decrypt_key, encrypt_key
from lenders.models import HashKey, Operator, Region
from lenders.permissions import Perm
from lenders.services.validation import full_clean_or_refuse

_REGION_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,15}")

# Every policy setting an operator may change, with its kind. Integers are bounded by the
# model's check constraints and by the ranges below.
POLICY_INT_RANGES: dict[str, tuple[int, int]] = {
    "black_score_threshold": (0, 100),
    "min_black_members": (1, 100),
    "black_retention_years": (1, 30),
    "white_retention_years": (1, 30),
    "response_days": (1, 365),
    "reminder_days_before": (0, 365),
    "escalation_days": (0, 365),
    "relist_block_days": (0, 3650),
    "upload_max_rows": (1, 50_000_000),
    "upload_max_bytes": (1024, 16 * 1024**3),
    "upload_max_line_bytes": (64, 1024 * 1024),
    "lookup_rate_per_minute": (1, 1_000_000),
    "upload_rate_per_hour": (1, 100_000),
    "api_rate_per_minute": (1, 1_000_000),
    # Data lifecycle: 0 purges a withdrawn entry at the next nightly run; lookup records are
    # kept at least a month so that a subject can still ask who looked them up.
    "entry_purge_grace_days": (0, 3650),
    "lookup_retention_days": (30, 3650),
}
POLICY_BOOLS = ("suspend_disputed_entries", "count_suspended_members", "consent_reference_required")
POLICY_FIELDS = (
    *POLICY_INT_RANGES,
    *POLICY_BOOLS,
    "severity_weights",
    "decisive_reasons",
    "snapshot_max_withdraw_ratio",
)
# Settings whose change alters who is BLACK, WATCH or WHITE: changing one recomputes the region.
CONSENSUS_FIELDS = frozenset(
    {
        "severity_weights",
        "black_score_threshold",
        "min_black_members",
        "decisive_reasons",
        "black_retention_years",
        "white_retention_years",
        "suspend_disputed_entries",
        "count_suspended_members",
    }
)


def _new_key_id(region: Region) -> str:
    return f"{region.code.lower()}-{timezone.now():%Y%m%d}-{secrets.token_hex(3)}"


def _hash_key_create(*, region: Region) -> HashKey:
    HashKey.objects.filter(region=region, is_current=True).update(is_current=False, retired_at=timezone.now())
    return HashKey.objects.create(
        region=region, key_id=_new_key_id(region), encrypted_key=encrypt_key(secrets.token_bytes(32))
    )


@transaction.atomic
def region_create(*, code: str, name: str, actor: Actor, operator_name: str = "") -> Region:
    """Create a region, its operator organisation and its first hash key."""
    code = code.strip().upper()
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not _REGION_CODE.fullmatch(code):
        errors["code"] = [_("2 to 16 characters: capital letters, digits and _, starting with a letter.")]
    if not name:
        errors["name"] = [_("A region needs a name.")]
    if errors:
        raise InvalidInput(_("The region cannot be created."), details=errors)
    if Region.objects.filter(code=code).exists():
        raise InvalidInput(_("The region cannot be created."), details={"code": [_("A region with this code exists.")]})
    region = Region.objects.create(code=code, name=name)
    Operator.objects.create(region=region, name=operator_name or f"{name} registry operator")
    key = _hash_key_create(region=region)
    audit_record(
        actor=actor,
        action="region.create",
        obj=region,
        region_id=region.pk,
        details={"code": code, "key_id": key.key_id},
    )
    return region


@transaction.atomic
def hash_key_rotate(*, region: Region, actor: Actor) -> HashKey:
    """Make a new current key; the old ones stay readable for entries and lookups made with them."""
    actor.require(Perm.HASH_KEY_ROTATE)
    Region.objects.select_for_update().get(pk=region.pk)
    key = _hash_key_create(region=region)
    audit_record(actor=actor, action="hash_key.rotate", obj=key, region_id=region.pk, details={"key_id": key.key_id})
    return key


@transaction.atomic
def hash_key_read(*, actor: Actor, key_id: str | None = None) -> tuple[HashKey, bytes]:
    """The caller's region key (the current one unless ``key_id`` names an older one). Audited."""
    actor.require(Perm.HASH_KEY_READ)
    keys = HashKey.objects.filter(region=actor.region)
    key = keys.filter(key_id=key_id).first() if key_id else keys.filter(is_current=True).first()
    if key is None:
        raise NotFound(_("This region has no hash key with that key_id."))
    audit_record(actor=actor, action="hash_key.read", obj=key, details={"key_id": key.key_id})
    return key, decrypt_key(key.encrypted_key)


def _parse_policy(region: Region, changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in POLICY_FIELDS:
            errors[name] = [_("Not a policy setting.")]
        elif name in POLICY_INT_RANGES:
            low, high = POLICY_INT_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
                errors[name] = [_("A whole number is required.")]
            elif not low <= int(value) <= high:
                errors[name] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
            else:
                parsed[name] = int(value)
        elif name in POLICY_BOOLS:
            if not isinstance(value, bool):
                errors[name] = [_("true or false is required.")]
            else:
                parsed[name] = value
        elif name == "snapshot_max_withdraw_ratio":
            try:
                ratio = Decimal(str(value))
            except InvalidOperation:
                ratio = Decimal(-1)
            if isinstance(value, bool) or not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
                errors[name] = [_("A number from 0 to 1 is required.")]
            else:
                parsed[name] = ratio.quantize(Decimal("0.001"))
        elif name == "severity_weights":
            problem = _severity_problem(value)
            if problem:
                errors[name] = [problem]
            else:
                parsed[name] = {code: str(Decimal(str(w)).quantize(Decimal("0.001"))) for code, w in value.items()}
        elif name == "decisive_reasons":
            if not isinstance(value, list) or any(code not in BlackReason.values for code in value):
                errors[name] = [
                    _("A list of black reason codes is required: %(codes)s.") % {"codes": ", ".join(BlackReason.values)}
                ]
            else:
                parsed[name] = sorted(set(value))
    if errors:
        raise InvalidInput(_("The policy was not changed."), details=errors)
    return parsed


def _severity_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != set(BlackReason.values):
        return _("Give a weight for each black reason: %(codes)s.") % {"codes": ", ".join(BlackReason.values)}
    for weight in value.values():
        try:
            number = Decimal(str(weight))
        except InvalidOperation:
            return _("Each weight is a number from 0 to 1.")
        if isinstance(weight, bool) or not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
            return _("Each weight is a number from 0 to 1.")
    return None


@transaction.atomic
def region_update_policy(*, region: Region, actor: Actor, changes: dict[str, Any]) -> tuple[Region, set[str]]:
    """Change policy settings; returns the region and the names of the settings that changed.
    A change to any of ``CONSENSUS_FIELDS`` has the registry recompute the region."""
    actor.require(Perm.REGION_POLICY_WRITE)
    parsed = _parse_policy(region, changes)
    region = Region.objects.select_for_update().get(pk=region.pk)
    before = {name: getattr(region, name) for name in parsed}
    if "severity_weights" in before:  # stored weights may be written "1.0"; compare them as parsed
        before["severity_weights"] = {
            code: str(Decimal(str(w)).quantize(Decimal("0.001"))) for code, w in before["severity_weights"].items()
        }
    changed = {name for name, value in parsed.items() if before[name] != value}
    if not changed:
        return region, set()
    for name in changed:
        setattr(region, name, parsed[name])
    # ``_parse_policy`` has checked every setting; the model's blank check would refuse an
    # empty ``decisive_reasons``, which is a valid policy (no reason decides alone).
    full_clean_or_refuse(region, exclude=["decisive_reasons"])
    region.save()
    audit_record(
        actor=actor,
        action="region.policy_update",
        obj=region,
        region_id=region.pk,
        details={name: {"from": before[name], "to": parsed[name]} for name in sorted(changed)},
    )
    if changed & CONSENSUS_FIELDS:
        run_region_policy_changed(region, actor)
    return region, changed


def policy_summary(region: Region) -> dict[str, Any]:
    """What ``GET region`` shows of the policy."""
    return {
        "consensus": {
            "severity_weights": {code: float(w) for code, w in region.severity_weights.items()},
            "black_score_threshold": region.black_score_threshold,
            "min_black_members": region.min_black_members,
            "decisive_reasons": list(region.decisive_reasons),
            "black_retention_years": region.black_retention_years,
            "white_retention_years": region.white_retention_years,
            "suspend_disputed_entries": region.suspend_disputed_entries,
            "count_suspended_members": region.count_suspended_members,
        },
        "disputes": {
            "response_days": region.response_days,
            "reminder_days_before": region.reminder_days_before,
            "escalation_days": region.escalation_days,
            "relist_block_days": region.relist_block_days,
        },
        "uploads": {
            "max_rows": region.upload_max_rows,
            "max_bytes": region.upload_max_bytes,
            "max_line_bytes": region.upload_max_line_bytes,
            "snapshot_max_withdraw_ratio": float(region.snapshot_max_withdraw_ratio),
        },
        "api": {
            "lookup_rate_per_minute": region.lookup_rate_per_minute,
            "upload_rate_per_hour": region.upload_rate_per_hour,
            "api_rate_per_minute": region.api_rate_per_minute,
            "consent_reference_required": region.consent_reference_required,
        },
        "data_lifecycle": {
            "entry_purge_grace_days": region.entry_purge_grace_days,
            "lookup_retention_days": region.lookup_retention_days,
        },
    }
