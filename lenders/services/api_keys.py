"""API keys of members (with scopes) and of operators (with a role)."""

from __future__ import annotations

import datetime
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from lenders.actors import Actor
from lenders.choices import OPERATOR_ROLES, Scope
from lenders.models import ApiKey, Member, Operator
from lenders.permissions import Perm

Organisation = Member | Operator
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _require_manages(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.API_KEY_MANAGE)
    if actor.is_system:
        return
    own = actor.member if isinstance(org, Member) else actor.operator
    if own is None or own.pk != org.pk:
        raise NotFound(_("No such organisation."))


@transaction.atomic
def api_key_create(
    *,
    org: Organisation,
    name: str,
    actor: Actor,
    scopes: list[str] | None = None,
    role: str | None = None,
    expires_on: datetime.date | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is shown this once and stored hashed."""
    _require_manages(actor, org)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 50:
        errors["name"] = [_("A key needs a name of at most 50 characters.")]
    if isinstance(org, Member):
        scopes = sorted(set(scopes or []))
        if role:
            errors["role"] = [_("A member's key carries scopes, not a role.")]
        if not scopes:
            errors["scopes"] = [_("Choose at least one scope: %(s)s.") % {"s": ", ".join(Scope.values)}]
        elif any(scope not in Scope.values for scope in scopes):
            errors["scopes"] = [_("Unknown scope; use %(s)s.") % {"s": ", ".join(Scope.values)}]
        role = ""
    else:
        if scopes:
            errors["scopes"] = [_("An operator's key acts with a role, not scopes.")]
        if role not in OPERATOR_ROLES:
            errors["role"] = [_("Use OPERATOR_ADMIN or REGULATOR.")]
        scopes = []
    expiry: datetime.datetime | None = None
    if expires_on is not None:
        if expires_on <= timezone.localdate():
            errors["expires"] = [_("The expiry date must be in the future.")]
        else:
            # The key works through the whole of its expiry day, Asia/Shanghai.
            expiry = timezone.make_aware(datetime.datetime.combine(expires_on, datetime.time.max))
    if errors:
        raise InvalidInput(_("The key cannot be created."), details=errors)
    created, secret = ApiKey.objects.create_key(
        name=name,
        member=org if isinstance(org, Member) else None,
        operator=org if isinstance(org, Operator) else None,
        scopes=scopes,
        role=role or "",
        expiry_date=expiry,
        created_by=actor.user,
    )
    api_key = cast(ApiKey, created)
    audit_record(
        actor=actor,
        action="api_key.create",
        obj=api_key,
        object_id=api_key.prefix,
        region_id=org.region_id,
        details={
            "name": name,
            "prefix": api_key.prefix,
            "scopes": scopes,
            "role": role or "",
            "expires_on": expires_on,
        },
    )
    return api_key, secret


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    org: Organisation = api_key.member or api_key.operator  # type: ignore[assignment]
    _require_manages(actor, org)
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked:
        raise Conflict(_("This key is already revoked."), code="already_revoked")
    api_key.revoked = True
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked", "revoked_at"])
    audit_record(
        actor=actor,
        action="api_key.revoke",
        obj=api_key,
        object_id=api_key.prefix,
        region_id=org.region_id,
        details={"name": api_key.name, "prefix": api_key.prefix},
    )
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key, so a busy key does not write on every request."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
