"""The dispute pages in the menu (with the unread-message count) and on the dashboard
(imported by ``registry.apps``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from lenders.actors import Actor
from lenders.permissions import Perm
from lenders.views.dashboard import DashboardSection, dashboard_register
from lenders.views.navigation import NavItem, nav_register
from registry.selectors.dispute_pages import member_waiting_items, operator_near_deadline
from registry.selectors.disputes import dispute_statistics, unread_notifications_count


def _unread(actor: Actor) -> int:
    return unread_notifications_count(actor.user) if actor.user is not None else 0


def _member_waiting(actor: Actor) -> dict[str, Any] | None:
    """A member's items waiting for its answer, most urgent first, with days left."""
    if actor.member is None or not actor.can(Perm.DISPUTE_READ):
        return None
    return {"waiting": member_waiting_items(actor), "can_answer": actor.can(Perm.DISPUTE_WRITE)}


def _operator_near_deadline(actor: Actor) -> dict[str, Any] | None:
    """The operator's open items near their deadline and the disputes awaiting arbitration."""
    if actor.member is not None or not actor.can(Perm.DISPUTE_READ_ALL):
        return None
    assert actor.region is not None
    # Members that received disputes, the highest lapse rate first (issue: lapse rate per member).
    lapse = sorted(
        (row for row in dispute_statistics(actor.region) if row.lapse_rate is not None),
        key=lambda row: (-(row.lapse_rate or 0), row.member.name),
    )
    return {"near": operator_near_deadline(actor), "lapse": lapse}


nav_register(
    NavItem(
        slot="disputes", label=_("Disputes"), url_name="dispute-home", perms=(Perm.DISPUTE_READ, Perm.DISPUTE_READ_ALL)
    )
)
nav_register(
    NavItem(
        slot="notifications",
        label=_("Messages"),
        url_name="notification-list",
        perms=(Perm.DISPUTE_READ, Perm.DISPUTE_READ_ALL),
        badge=_unread,
        badge_label=_("unread"),
    )
)
dashboard_register(
    DashboardSection(
        key="disputes_waiting",
        order=40,
        template="registry/dashboard/disputes_waiting.html",
        build=_member_waiting,
    )
)
dashboard_register(
    DashboardSection(
        key="disputes_near_deadline",
        order=40,
        template="registry/dashboard/disputes_near_deadline.html",
        build=_operator_near_deadline,
    )
)
