"""Members: created by the operator, who also sets their status, trust weight and exclusion."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.choices import MemberStatus
from lenders.hooks import run_member_counting_changed
from lenders.models import Member, Region
from lenders.permissions import Perm
from registry_client.hashing import InvalidIdentifier, canonicalise


@transaction.atomic
def member_create(*, region: Region, name: str, uscc: str, actor: Actor) -> Member:
    actor.require(Perm.MEMBER_WRITE)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 200:
        errors["name"] = [_("A member needs a name of at most 200 characters.")]
    try:
        uscc = canonicalise("USCC", uscc)
    except InvalidIdentifier as exc:
        errors["uscc"] = [exc.message]
    if not errors and Member.objects.filter(region=region, uscc=uscc).exists():
        errors["uscc"] = [_("A member with this USCC exists in the region.")]
    if errors:
        raise InvalidInput(_("The member cannot be created."), details=errors)
    member = Member.objects.create(region=region, name=name, uscc=uscc)
    audit_record(
        actor=actor, action="member.create", obj=member, region_id=region.pk, details={"name": name, "uscc": uscc}
    )
    return member


def _parse_trust_weight(value: Any) -> Decimal:
    try:
        weight = Decimal(str(value))
    except InvalidOperation:
        weight = Decimal(-1)
    if isinstance(value, bool) or not weight.is_finite() or not Decimal(0) <= weight <= Decimal(1):
        raise InvalidInput(
            _("The member was not changed."), details={"trust_weight": [_("A number from 0.0 to 1.0 is required.")]}
        )
    return weight.quantize(Decimal("0.001"))


@transaction.atomic
def member_update(
    *,
    member: Member,
    actor: Actor,
    trust_weight: Any = None,
    status: str | None = None,
    excluded_from_consensus: bool | None = None,
) -> Member:
    """Change what the operator controls. A change that alters counting recomputes the
    member's subjects (through ``lenders.hooks``) in the same transaction."""
    actor.require(Perm.MEMBER_WRITE)
    changes: dict[str, Any] = {}
    if trust_weight is not None:
        changes["trust_weight"] = _parse_trust_weight(trust_weight)
    if status is not None:
        if status not in MemberStatus.values:
            raise InvalidInput(
                _("The member was not changed."),
                details={"status": [_("Use ACTIVE or SUSPENDED.")]},
            )
        changes["status"] = status
    if excluded_from_consensus is not None:
        if not isinstance(excluded_from_consensus, bool):
            raise InvalidInput(
                _("The member was not changed."),
                details={"excluded_from_consensus": [_("true or false is required.")]},
            )
        changes["excluded_from_consensus"] = excluded_from_consensus
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = {name: getattr(member, name) for name in changes}
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if not changed:
        return member
    for name, value in changed.items():
        setattr(member, name, value)
    member.save(update_fields=[*changed, "updated_at"])
    # Recompute first, audit last: entry writers take the consensus locks before the audit
    # chain's lock, and this order keeps the two paths from deadlocking.
    run_member_counting_changed(member, actor)
    audit_record(
        actor=actor,
        action="member.update",
        obj=member,
        region_id=member.region_id,
        details={name: {"from": before[name], "to": value} for name, value in changed.items()},
    )
    return member
