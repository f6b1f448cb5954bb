"""Staff users of members and operators, their roles and passwords."""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from lenders.actors import Actor
from lenders.choices import MEMBER_ROLES, OPERATOR_ROLES
from lenders.models import Member, Operator, RoleGrant, User
from lenders.permissions import Perm

Organisation = Member | Operator
_USERNAME = re.compile(r"[A-Za-z0-9@.+_\-]{3,150}")


def organisation_region_id(org: Organisation) -> int:
    return org.region_id


def _check_roles(org: Organisation, roles: list[str]) -> list[str]:
    allowed = MEMBER_ROLES if isinstance(org, Member) else OPERATOR_ROLES
    roles = sorted(set(roles))
    if not roles:
        raise InvalidInput(_("Choose at least one role."), details={"roles": [_("At least one role is required.")]})
    wrong = [role for role in roles if role not in allowed]
    if wrong:
        raise InvalidInput(
            _("These roles do not belong to this kind of organisation."),
            details={
                "roles": [
                    _("Not allowed here: %(wrong)s; allowed: %(allowed)s.")
                    % {"wrong": ", ".join(wrong), "allowed": ", ".join(allowed)}
                ]
            },
        )
    return roles


def _require_manages(actor: Actor, org: Organisation) -> None:
    """A member admin manages its own member's staff; an operator admin its own operator's.
    Someone else's organisation is not found, rather than forbidden, so nothing leaks."""
    actor.require(Perm.STAFF_MANAGE)
    if actor.is_system:
        return
    own = actor.member if isinstance(org, Member) else actor.operator
    if own is None or own.pk != org.pk:
        raise NotFound(_("No such organisation."))


def _password_errors(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def staff_create(
    *,
    org: Organisation,
    username: str,
    password: str,
    roles: list[str],
    actor: Actor,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    _require_manages(actor, org)
    roles = _check_roles(org, roles)
    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not _USERNAME.fullmatch(username):
        errors["username"] = [_("3 to 150 characters: letters, digits and @ . + - _ only.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This user name is taken.")]
    candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
    password_errors = _password_errors(password, candidate)
    if password_errors:
        errors["password"] = password_errors
    if errors:
        raise InvalidInput(_("The user cannot be created."), details=errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        member=org if isinstance(org, Member) else None,
        operator=org if isinstance(org, Operator) else None,
    )
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=role) for role in roles])
    audit_record(
        actor=actor,
        action="staff.create",
        obj=user,
        region_id=org.region_id,
        details={"username": username, "roles": roles},
    )
    return user


@transaction.atomic
def staff_set_roles(*, user: User, roles: list[str], actor: Actor) -> User:
    org: Organisation = user.member or user.operator  # type: ignore[assignment]
    _require_manages(actor, org)
    roles = _check_roles(org, roles)
    before = sorted(user.role_codes)
    if before == roles:
        return user
    RoleGrant.objects.filter(user=user).exclude(role__in=roles).delete()
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=role) for role in roles if role not in before])
    user._role_codes = frozenset(roles)  # type: ignore[attr-defined]
    audit_record(
        actor=actor, action="staff.set_roles", obj=user, region_id=org.region_id, details={"from": before, "to": roles}
    )
    return user


@transaction.atomic
def staff_set_active(*, user: User, active: bool, actor: Actor) -> User:
    org: Organisation = user.member or user.operator  # type: ignore[assignment]
    _require_manages(actor, org)
    if actor.user is not None and actor.user.pk == user.pk and not active:
        raise InvalidInput(
            _("You cannot deactivate your own account."), details={"is_active": [_("Ask another administrator.")]}
        )
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor, action="staff.activate" if active else "staff.deactivate", obj=user, region_id=org.region_id
    )
    return user


@transaction.atomic
def staff_change_password(*, user: User, old_password: str, new_password: str, actor: Actor) -> User:
    """A person changes their own password (the old one is required)."""
    if not user.check_password(old_password):
        raise InvalidInput(
            _("The password was not changed."), details={"old_password": [_("The current password is wrong.")]}
        )
    errors = _password_errors(new_password, user)
    if errors:
        raise InvalidInput(_("The password was not changed."), details={"new_password": errors})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    org = user.member or user.operator
    region_id = org.region_id if org is not None else None
    audit_record(actor=actor, action="staff.password_change", obj=user, region_id=region_id)
    return user


@transaction.atomic
def staff_reset_password(*, user: User, new_password: str, actor: Actor) -> User:
    """A person sets a new password through the link of a reset e-mail (the link's token,
    checked by the caller, stands in for the old password)."""
    errors = _password_errors(new_password, user)
    if errors:
        raise InvalidInput(_("The password was not changed."), details={"new_password1": errors})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    org = user.member or user.operator
    region_id = org.region_id if org is not None else None
    audit_record(actor=actor, action="staff.password_reset", obj=user, region_id=region_id)
    return user
