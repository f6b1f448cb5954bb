"""Reads that only the portal's dispute pages need: list filters, per-row counts, the
dashboard's urgent items and a subject's relisting blocks. Who may see what stays the rule
of ``registry.selectors.disputes``; every function here starts from its querysets."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from lenders.actors import Actor
from lenders.models import HashKey
from lenders.permissions import Perm
from registry.choices import DisputeItemState, DisputeState
from registry.models import Dispute, DisputeItem, RelistBlock
from registry.selectors.disputes import dispute_items_inbox, disputes_visible_to

# The dashboards list at most this many items; the full lists are on the disputes pages.
DASHBOARD_ROWS = 5
# The operator's dashboard shows open items due within this many days (or overdue).
NEAR_DEADLINE_DAYS = 7


def with_item_counts(disputes: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """Each dispute with ``items_total``, ``items_open`` and ``next_deadline`` (the earliest
    deadline of its open items), in the same query."""
    open_items = Q(items__state=DisputeItemState.OPEN)
    return disputes.annotate(
        items_total=Count("items", distinct=True),
        items_open=Count("items", filter=open_items, distinct=True),
        next_deadline=Min("items__deadline", filter=open_items),
    )


def filter_disputes(disputes: QuerySet[Dispute], filters: dict[str, Any]) -> QuerySet[Dispute]:
    """Apply the cleaned filters of a dispute list (only the keys present and not empty)."""
    if filters.get("state"):
        disputes = disputes.filter(state=filters["state"])
    if filters.get("grounds"):
        disputes = disputes.filter(grounds=filters["grounds"])
    if filters.get("id_type"):
        disputes = disputes.filter(id_type=filters["id_type"])
    if filters.get("subject_hash"):
        disputes = disputes.filter(subject_hash=bytes.fromhex(filters["subject_hash"]))
    if filters.get("filer"):
        disputes = disputes.filter(filer_member_id=filters["filer"])
    if filters.get("respondent"):
        received = DisputeItem.objects.filter(respondent_id=filters["respondent"]).values("dispute_id")
        disputes = disputes.filter(pk__in=received)
    if filters.get("filed_from"):
        disputes = disputes.filter(filed_on__gte=filters["filed_from"])
    if filters.get("filed_to"):
        disputes = disputes.filter(filed_on__lte=filters["filed_to"])
    return disputes


def operator_dispute_list(actor: Actor, filters: dict[str, Any]) -> QuerySet[Dispute]:
    """All of the region's disputes the operator may read, filtered, newest first."""
    if not actor.can(Perm.DISPUTE_READ_ALL):
        return Dispute.objects.none()
    disputes = disputes_visible_to(actor).select_related("filer_member", "filer_operator")
    return with_item_counts(filter_disputes(disputes, filters)).order_by("-filed_on", "-id")


def filed_dispute_list(disputes: QuerySet[Dispute], filters: dict[str, Any]) -> QuerySet[Dispute]:
    """A member's filed disputes (from ``disputes_filed_by``), filtered, newest first."""
    return with_item_counts(filter_disputes(disputes, filters)).order_by("-filed_on", "-id")


def inbox_items(actor: Actor, *, state: str = "", only_open: bool = False) -> QuerySet[DisputeItem]:
    """The member's inbox (``dispute_items_inbox``: most urgent first), narrowed to one item
    state, or to the items still waiting for an answer."""
    items = dispute_items_inbox(actor)
    if only_open:
        items = items.filter(state=DisputeItemState.OPEN, dispute__state=DisputeState.OPEN)
    elif state:
        items = items.filter(state=state)
    return items


@dataclass(frozen=True)
class WaitingItems:
    count: int
    overdue: int
    items: list[DisputeItem]
    today: datetime.date


def member_waiting_items(actor: Actor, *, today: datetime.date | None = None) -> WaitingItems:
    """For a member's dashboard: how many items wait for its answer, and the most urgent ones."""
    today = today or timezone.localdate()
    waiting = inbox_items(actor, only_open=True)
    counts = waiting.aggregate(count=Count("id"), overdue=Count("id", filter=Q(deadline__lt=today)))
    return WaitingItems(
        count=counts["count"], overdue=counts["overdue"], items=list(waiting[:DASHBOARD_ROWS]), today=today
    )


@dataclass(frozen=True)
class NearDeadline:
    count: int
    escalated: int
    items: list[DisputeItem]
    within_days: int
    today: datetime.date


def operator_near_deadline(actor: Actor, *, today: datetime.date | None = None) -> NearDeadline:
    """For the operator's dashboard: open items of the region due within ``NEAR_DEADLINE_DAYS``
    days (or already overdue, waiting for the deadline job), and the disputes awaiting arbitration."""
    today = today or timezone.localdate()
    visible = disputes_visible_to(actor) if actor.can(Perm.DISPUTE_READ_ALL) else Dispute.objects.none()
    near = (
        DisputeItem.objects.filter(
            dispute__in=visible.filter(state=DisputeState.OPEN).values("pk"),
            state=DisputeItemState.OPEN,
            deadline__lte=today + datetime.timedelta(days=NEAR_DEADLINE_DAYS),
        )
        .select_related("dispute", "respondent")
        .order_by("deadline", "id")
    )
    escalated = visible.filter(state=DisputeState.ESCALATED).count()
    return NearDeadline(
        count=near.count(),
        escalated=escalated,
        items=list(near[:DASHBOARD_ROWS]),
        within_days=NEAR_DEADLINE_DAYS,
        today=today,
    )


def relist_blocks_on_subject(
    actor: Actor, *, hash_key: HashKey, id_type: str, subject_hash: bytes, today: datetime.date | None = None
) -> list[RelistBlock]:
    """The blocks still in force on one subject of the operator's region, with their member."""
    if not actor.can(Perm.SUBJECT_HISTORY_READ) or actor.region is None:
        return []
    today = today or timezone.localdate()
    return list(
        RelistBlock.objects.filter(
            member__region=actor.region,
            hash_key=hash_key,
            id_type=id_type,
            subject_hash=subject_hash,
            lifted_at__isnull=True,
            until__gt=today,
        )
        .select_related("member", "dispute_item")
        .order_by("member__name", "until")
    )
