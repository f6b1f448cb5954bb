"""The portal's main navigation: one entry per page, shown only to actors who may open it.

Each area of the portal has a fixed slot, so the menu keeps the same order however many
pages exist. A new page (in this app or in ``registry``) adds itself with ``nav_register``,
for example in its app's ``AppConfig.ready``::

    nav_register(NavItem(slot="entries", label=_("Entries"), url_name="entry-list", perms=(Perm.ENTRY_READ,)))

Slots not taken yet (``lookups``, ``entries``, ``uploads``, ``disputes``, ``audit``,
``region``) simply show nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lenders.actors import Actor
from lenders.permissions import Perm

# Position of each area in the menu; the planned capability of each is in the comment.
SLOTS: dict[str, int] = {
    "dashboard": 10,  # everyone
    "lookups": 20,  # Perm.LOOKUP
    "entries": 30,  # Perm.ENTRY_READ
    "uploads": 40,  # Perm.UPLOAD_READ
    "disputes": 50,  # Perm.DISPUTE_READ or Perm.DISPUTE_READ_ALL
    "notifications": 55,  # the person's own messages (with the unread count)
    "members": 60,  # Perm.MEMBER_READ
    "staff": 70,  # Perm.STAFF_MANAGE
    "api_keys": 80,  # Perm.API_KEY_MANAGE
    "audit": 90,  # Perm.AUDIT_READ_OWN or Perm.AUDIT_READ_ALL
    "subjects": 95,  # Perm.SUBJECT_HISTORY_READ
    "region": 100,  # Perm.REGION_POLICY_WRITE (read: Perm.STATISTICS_READ)
}


@dataclass(frozen=True)
class NavItem:
    slot: str
    label: str | Promise
    url_name: str
    # Shown when the actor holds any of these (no perms: every signed-in actor).
    perms: tuple[Perm, ...] = field(default_factory=tuple)
    # A number shown next to the label (0: none), e.g. unread messages; runs on every page,
    # so it must be one cheap query at most.
    badge: Callable[[Actor], int] | None = None
    badge_label: str | Promise = ""

    def visible_to(self, actor: Actor) -> bool:
        return not self.perms or any(actor.can(perm) for perm in self.perms)


@dataclass(frozen=True)
class NavLink:
    slot: str
    label: str | Promise
    url: str
    current: bool
    badge: int = 0
    badge_label: str | Promise = ""


_ITEMS: dict[str, NavItem] = {}


def nav_register(item: NavItem) -> None:
    """Add (or replace) the page of one slot."""
    if item.slot not in SLOTS:
        raise ValueError(f"unknown navigation slot {item.slot!r}; add it to SLOTS first")
    _ITEMS[item.slot] = item


def nav_for(actor: Actor, path: str) -> list[NavLink]:
    """The links this actor may follow, in slot order, the one containing ``path`` marked."""
    links = []
    for item in sorted(_ITEMS.values(), key=lambda i: SLOTS[i.slot]):
        if not item.visible_to(actor):
            continue
        url = reverse(item.url_name)
        current = path == url if url == "/" else path.startswith(url)
        badge = item.badge(actor) if item.badge is not None else 0
        links.append(
            NavLink(
                slot=item.slot, label=item.label, url=url, current=current, badge=badge, badge_label=item.badge_label
            )
        )
    return links


nav_register(NavItem(slot="dashboard", label=_("Dashboard"), url_name="dashboard"))
nav_register(NavItem(slot="members", label=_("Members"), url_name="member-list", perms=(Perm.MEMBER_READ,)))
nav_register(NavItem(slot="staff", label=_("Staff"), url_name="staff-list", perms=(Perm.STAFF_MANAGE,)))
nav_register(NavItem(slot="api_keys", label=_("API keys"), url_name="api-key-list", perms=(Perm.API_KEY_MANAGE,)))
