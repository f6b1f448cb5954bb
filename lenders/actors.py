"""The actor: who is acting, for which organisation, with which capabilities.

Built once per request from the signed-in user or the API key (``lenders.api.authentication``)
or for the portal (``lenders.views.access``), and passed to every service, which checks
``actor.require(...)`` and records the actor in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.errors import Forbidden
from lenders.choices import MemberStatus
from lenders.models import ApiKey, Member, Operator, Region, User
from lenders.permissions import (
    Perm,
    permissions_for_operator_key,
    permissions_for_roles,
    permissions_for_scopes,
)


class MemberSuspended(Forbidden):
    code = "member_suspended"


class NoOrganisation(Forbidden):
    code = "no_organisation"


@dataclass(frozen=True)
class Actor:
    region: Region | None
    member: Member | None = None
    operator: Operator | None = None
    user: User | None = None
    api_key: ApiKey | None = None
    permissions: frozenset[Perm] = field(default_factory=frozenset)
    system_label: str = ""

    # -- construction -------------------------------------------------------------------
    @classmethod
    def for_user(cls, user: User) -> Actor:
        member, operator = user.member, user.operator
        if member is None and operator is None:
            raise NoOrganisation(_("This account belongs to no member and no operator; ask an administrator."))
        if member is not None and member.status == MemberStatus.SUSPENDED:
            raise MemberSuspended(_("Your organisation is suspended from the registry; contact the operator."))
        region = member.region if member is not None else operator.region  # type: ignore[union-attr]
        return cls(
            region=region,
            member=member,
            operator=operator,
            user=user,
            permissions=permissions_for_roles(user.role_codes),
        )

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Actor:
        if api_key.member is not None:
            if api_key.member.status == MemberStatus.SUSPENDED:
                raise MemberSuspended(_("This key's member is suspended from the registry; contact the operator."))
            return cls(
                region=api_key.member.region,
                member=api_key.member,
                api_key=api_key,
                permissions=permissions_for_scopes(api_key.scope_codes),
            )
        assert api_key.operator is not None
        return cls(
            region=api_key.operator.region,
            operator=api_key.operator,
            api_key=api_key,
            permissions=permissions_for_operator_key(api_key.role),
        )

    @classmethod
    def system(cls, label: str, region: Region | None = None) -> Actor:
        """The registry itself, for management commands and scheduled jobs: may do anything."""
        return cls(region=region, system_label=label, permissions=frozenset(Perm))

    # -- questions ----------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_system(self) -> bool:
        return bool(self.system_label)

    @property
    def is_operator(self) -> bool:
        return self.operator is not None or self.is_system

    @property
    def is_person(self) -> bool:
        return self.user is not None

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, perm: Perm) -> None:
        if perm not in self.permissions:
            raise Forbidden(_("Your role or key scopes do not allow this action."))

    # -- what the audit log records ----------------------------------------------------------
    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def api_key_id(self) -> str | None:
        return self.api_key.prefix if self.api_key is not None else None

    @property
    def member_id(self) -> int | None:
        return self.member.pk if self.member is not None else None

    @property
    def region_id(self) -> int | None:
        return self.region.pk if self.region is not None else None

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"user:{self.user.username}"
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return f"system:{self.system_label}"
