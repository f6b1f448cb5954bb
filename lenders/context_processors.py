from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest

from core.errors import ServiceError
from lenders.actors import Actor


def portal(request: HttpRequest) -> dict[str, Any]:
    """What the portal layout needs on every page: the acting ``actor`` (set by
    ``lenders.views.access.portal_view``), the navigation it may follow, and, on the
    lock-out page, when signing in works again."""
    from lenders.views.navigation import nav_for

    actor = getattr(request, "actor", None)
    if actor is None:
        actor = _actor_outside_portal_views(request)
    context: dict[str, Any] = {
        "actor": actor,
        "nav_links": nav_for(actor, request.path) if isinstance(actor, Actor) else [],
        "portal_organisation": _organisation(request, actor),
    }
    if getattr(request, "axes_locked_out", False):
        context.update(_lockout(request))
    return context


def _actor_outside_portal_views(request: HttpRequest) -> Actor | None:
    """On pages not wrapped in ``portal_view`` (error pages of ``core.errors``), the signed-in
    person still gets the layout with their navigation; a refused account gets none."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        return Actor.for_user(user)
    except ServiceError:
        return None


def _organisation(request: HttpRequest, actor: Actor | None) -> Any:
    """The organisation named in the header, also for a refused (suspended) account."""
    if actor is not None:
        return actor.member or actor.operator
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.member or user.operator


def _lockout(request: HttpRequest) -> dict[str, Any]:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if cool_off is None:
        return {}
    # Each refused attempt during a lock-out starts the cool-off again (django-axes default).
    started = getattr(request, "axes_attempt_time", None) or datetime.datetime.now(tz=datetime.UTC)
    return {
        "lockout_until": started + cool_off,
        "lockout_minutes": max(1, round(cool_off.total_seconds() / 60)),
    }
