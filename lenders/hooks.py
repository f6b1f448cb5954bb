"""Points where the registry app joins in after a lenders change, keeping imports downhill.

A member's status, trust weight or exclusion, and a region's consensus policy, change how
the registry counts entries. The registry app registers its recompute here (in its
``AppConfig.ready``); the lenders services call the hooks inside their own transaction, so
the change and its recompute commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lenders.actors import Actor
    from lenders.models import Member, Region

MemberHook = Callable[["Member", "Actor"], None]
RegionHook = Callable[["Region", "Actor"], None]

member_counting_changed: list[MemberHook] = []
region_policy_changed: list[RegionHook] = []


def run_member_counting_changed(member: Member, actor: Actor) -> None:
    for hook in member_counting_changed:
        hook(member, actor)


def run_region_policy_changed(region: Region, actor: Actor) -> None:
    for hook in region_policy_changed:
        hook(region, actor)
