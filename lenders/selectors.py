"""Reads of the lenders app, each scoped to what the actor may see (``concepts.md``)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.models import ApiKey, Member, Operator, Region, User
from lenders.permissions import Perm


def members_visible_to(actor: Actor) -> QuerySet[Member]:
    """The operator sees its region's members; a member sees only itself."""
    if actor.is_system:
        return Member.objects.all()
    if actor.can(Perm.MEMBER_READ):
        return Member.objects.filter(region=actor.region)
    if actor.member is not None:
        return Member.objects.filter(pk=actor.member.pk)
    return Member.objects.none()


def staff_visible_to(actor: Actor) -> QuerySet[User]:
    if not actor.can(Perm.STAFF_MANAGE):
        return User.objects.none()
    if actor.member is not None:
        users = User.objects.filter(member=actor.member)
    elif actor.operator is not None:
        users = User.objects.filter(operator=actor.operator)
    else:
        return User.objects.none()
    return users.prefetch_related("role_grants").order_by("username")


def api_keys_visible_to(actor: Actor) -> QuerySet[ApiKey]:
    if not actor.can(Perm.API_KEY_MANAGE):
        return ApiKey.objects.none()
    if actor.member is not None:
        return ApiKey.objects.filter(member=actor.member).order_by("-created")
    if actor.operator is not None:
        return ApiKey.objects.filter(operator=actor.operator).order_by("-created")
    return ApiKey.objects.none()


def audit_events_visible_to(actor: Actor) -> QuerySet[AuditEvent]:
    """The operator reads its region's whole log; a member admin the events of its own member."""
    if actor.can(Perm.AUDIT_READ_ALL):
        return AuditEvent.objects.filter(region_id=actor.region_id)
    if actor.can(Perm.AUDIT_READ_OWN) and actor.member is not None:
        return AuditEvent.objects.filter(member_id=actor.member.pk)
    return AuditEvent.objects.none()


def organisation_by_reference(reference: str) -> Member | Operator:
    """``<member id>`` or ``operator:<region code>``, as the management commands take it."""
    from core.errors import InvalidInput

    reference = reference.strip()
    if reference.lower().startswith("operator:"):
        code = reference.split(":", 1)[1].strip().upper()
        operator = Operator.objects.select_related("region").filter(region__code=code).first()
        if operator is None:
            raise InvalidInput(f"No region with code {code!r}.", details={"org": ["unknown region code"]})
        return operator
    if not reference.isdigit():
        raise InvalidInput(
            "--org takes a member id or operator:<region code>.", details={"org": [f"not understood: {reference!r}"]}
        )
    member = Member.objects.select_related("region").filter(pk=int(reference)).first()
    if member is None:
        raise InvalidInput(f"No member with id {reference}.", details={"org": ["unknown member id"]})
    return member


def region_by_code(code: str) -> Region:
    from core.errors import InvalidInput

    region = Region.objects.filter(code=code.strip().upper()).first()
    if region is None:
        raise InvalidInput(f"No region with code {code!r}.", details={"region": ["unknown region code"]})
    return region
