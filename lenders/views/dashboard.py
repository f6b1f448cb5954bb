"""The dashboard at ``/``: a column of sections, each shown to the actors it concerns.

A section is a template and a function that gathers its data for one actor (returning
``None`` when it has nothing to say to this actor). Later features add theirs with
``dashboard_register``, for example from ``registry``'s ``AppConfig.ready``::

    dashboard_register(DashboardSection(
        key="entries", order=30, template="registry/dashboard/entries.html",
        build=lambda actor: {"counts": entry_counts(actor)} if actor.can(Perm.ENTRY_READ) else None,
    ))

Sections show only data that exists: no placeholders, no invented numbers.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from lenders.actors import Actor
from lenders.choices import MemberStatus, Role
from lenders.permissions import Perm
from lenders.selectors import api_keys_visible_to, members_visible_to, staff_visible_to
from lenders.views.access import PortalRequest, portal_view


@dataclass(frozen=True)
class DashboardSection:
    key: str
    order: int
    template: str
    build: Callable[[Actor], dict[str, Any] | None]


@dataclass(frozen=True)
class RenderedSection:
    key: str
    template: str
    data: dict[str, Any]


_SECTIONS: dict[str, DashboardSection] = {}
EXPIRY_WARNING = datetime.timedelta(days=30)


def dashboard_register(section: DashboardSection) -> None:
    """Add (or replace) one dashboard section."""
    _SECTIONS[section.key] = section


def sections_for(actor: Actor) -> list[RenderedSection]:
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        data = section.build(actor)
        if data is not None:
            shown.append(RenderedSection(key=section.key, template=section.template, data=data))
    return shown


@portal_view()
@require_GET
def dashboard(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/dashboard.html", {"sections": sections_for(request.actor)})


# -- the sections of the lenders app --------------------------------------------------------


def _organisation(actor: Actor) -> dict[str, Any] | None:
    """Who the person is acting for, and as what."""
    roles = [Role(code).label for code in sorted(actor.user.role_codes)] if actor.user is not None else []
    return {
        "member": actor.member,
        "operator": actor.operator,
        "region": actor.region,
        "roles": roles,
        "hash_key_id": actor.region.current_hash_key.key_id
        if actor.region is not None and actor.can(Perm.MEMBER_READ)
        else None,
    }


def _administration(actor: Actor) -> dict[str, Any] | None:
    """Staff and API key counts, for those who manage them."""
    data: dict[str, Any] = {}
    if actor.can(Perm.STAFF_MANAGE):
        data["staff"] = staff_visible_to(actor).aggregate(
            total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
        )
    if actor.can(Perm.API_KEY_MANAGE):
        now = timezone.now()
        data["api_keys"] = api_keys_visible_to(actor).aggregate(
            total=Count("pk"),
            active=Count("pk", filter=Q(revoked=False) & (Q(expiry_date__isnull=True) | Q(expiry_date__gt=now))),
            expiring=Count(
                "pk",
                filter=Q(revoked=False, expiry_date__gt=now, expiry_date__lte=now + EXPIRY_WARNING),
            ),
        )
    return data or None


def _region_members(actor: Actor) -> dict[str, Any] | None:
    """For the operator: the region's members, their status and trust weight."""
    if not actor.can(Perm.MEMBER_READ):
        return None
    members = members_visible_to(actor)
    counts = members.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=MemberStatus.ACTIVE)),
        suspended=Count("pk", filter=Q(status=MemberStatus.SUSPENDED)),
        excluded=Count("pk", filter=Q(excluded_from_consensus=True)),
    )
    return {"members": list(members.order_by("name")), "counts": counts}


dashboard_register(
    DashboardSection(key="organisation", order=10, template="portal/dashboard/organisation.html", build=_organisation)
)
dashboard_register(
    DashboardSection(
        key="region_members", order=20, template="portal/dashboard/region_members.html", build=_region_members
    )
)
dashboard_register(
    DashboardSection(
        key="administration", order=90, template="portal/dashboard/administration.html", build=_administration
    )
)
