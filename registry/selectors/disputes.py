"""Reads of disputes, for the portal and the API alike (``disputes.md``, ``concepts.md``).

A member sees the disputes it filed (every item, but never who the respondents are) and the
items addressed to it (only its own, on disputes filed by others); the operator sees all of
its region. Anything else is "not found": admitting that it exists would leak.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from lenders.actors import Actor
from lenders.models import Member, Region, User
from lenders.permissions import Perm
from registry.choices import DisputeDecision, DisputeItemState, DisputeState
from registry.models import Dispute, DisputeEvidence, DisputeItem, Notification

# Items the operator still has to decide on an escalated dispute.
AWAITING_ARBITRATION = (DisputeItemState.CONFIRMED, DisputeItemState.CORRECTED)


def _reads_all(actor: Actor) -> bool:
    return actor.member is None and actor.is_operator and actor.can(Perm.DISPUTE_READ_ALL)


def disputes_visible_to(actor: Actor) -> QuerySet[Dispute]:
    """Every dispute the actor may open: the operator's region's, or a member's filed and received."""
    if actor.region is None:
        return Dispute.objects.none()
    base = Dispute.objects.filter(region=actor.region).select_related("hash_key", "region")
    if _reads_all(actor):
        return base
    if actor.member is None or not actor.can(Perm.DISPUTE_READ):
        return Dispute.objects.none()
    received = DisputeItem.objects.filter(respondent=actor.member).values("dispute_id")
    return base.filter(Q(filer_member=actor.member) | Q(pk__in=received))


def disputes_filed_by(actor: Actor) -> QuerySet[Dispute]:
    """The disputes the actor's organisation filed (the operator's own filings for the operator)."""
    visible = disputes_visible_to(actor)
    if actor.member is not None:
        return visible.filter(filer_member=actor.member)
    return visible.filter(filer_operator__isnull=False)


def disputes_received_by(actor: Actor) -> QuerySet[Dispute]:
    """The disputes with an item addressed to the actor's member."""
    if actor.member is None:
        return Dispute.objects.none()
    received = DisputeItem.objects.filter(respondent=actor.member).values("dispute_id")
    return disputes_visible_to(actor).filter(pk__in=received)


def items_visible_in(actor: Actor, dispute: Dispute) -> QuerySet[DisputeItem]:
    """The items of ``dispute`` the actor may see: all of them for the filer and the operator,
    only its own for a respondent."""
    items = DisputeItem.objects.filter(dispute=dispute).select_related("entry", "respondent").order_by("id")
    if _reads_all(actor) or (actor.member is not None and dispute.filer_member_id == actor.member.pk):
        return items
    if actor.member is None:
        return DisputeItem.objects.none()
    return items.filter(respondent=actor.member)


def dispute_items_inbox(actor: Actor) -> QuerySet[DisputeItem]:
    """Items addressed to the actor's member, the open ones first, most urgent first. Each has
    ``days_left()``; ``dispute`` and ``entry`` come with it."""
    if actor.member is None or not actor.can(Perm.DISPUTE_READ):
        return DisputeItem.objects.none()
    return (
        DisputeItem.objects.filter(respondent=actor.member)
        .select_related("dispute", "dispute__hash_key", "entry")
        .annotate(
            open_first=Case(
                When(state=DisputeItemState.OPEN, dispute__state=DisputeState.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "deadline", "id")
    )


@dataclass(frozen=True)
class DisputeView:
    """One dispute as the actor may see it, with what the actor may do next."""

    dispute: Dispute
    role: str  # "filer", "respondent" or "operator"
    items: list[DisputeItem]
    evidence: list[DisputeEvidence]
    # Whether the actor may learn which member each item is addressed to.
    shows_respondents: bool
    can_escalate: bool
    # The items the actor may answer now.
    answerable: list[int] = field(default_factory=list)
    can_arbitrate: bool = False
    escalation_ends_on: datetime.date | None = None


def _role(actor: Actor, dispute: Dispute) -> str:
    if actor.member is None:
        return "operator"
    if dispute.filer_member_id == actor.member.pk:
        return "filer"
    return "respondent"


def _view(
    actor: Actor, dispute: Dispute, items: list[DisputeItem], evidence: list[DisputeEvidence], today: datetime.date
) -> DisputeView:
    """The view of one dispute from all of its items, keeping those the actor may see."""
    role = _role(actor, dispute)
    if role == "respondent":
        assert actor.member is not None
        items = [item for item in items if item.respondent_id == actor.member.pk]
    ends = dispute.escalation_ends_on
    is_filer = role == "filer" or (role == "operator" and dispute.filer_operator_id is not None)
    can_escalate = (
        is_filer
        and dispute.state == DisputeState.RESOLVED
        and ends is not None
        and today <= ends
        and any(item.state in AWAITING_ARBITRATION for item in items)
        and actor.can(Perm.DISPUTE_WRITE if actor.member is not None else Perm.DISPUTE_ARBITRATE)
    )
    answerable = []
    if actor.member is not None and actor.can(Perm.DISPUTE_WRITE) and dispute.state == DisputeState.OPEN:
        answerable = [
            item.pk
            for item in items
            if item.respondent_id == actor.member.pk and item.state == DisputeItemState.OPEN and today <= item.deadline
        ]
    return DisputeView(
        dispute=dispute,
        role=role,
        items=items,
        evidence=evidence,
        shows_respondents=role == "operator",
        can_escalate=can_escalate,
        answerable=answerable,
        can_arbitrate=(
            role == "operator" and dispute.state == DisputeState.ESCALATED and actor.can(Perm.DISPUTE_ARBITRATE)
        ),
        escalation_ends_on=ends,
    )


def with_details(disputes: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """Disputes with their items (respondent and entry) and evidence in two more queries."""
    return disputes.prefetch_related(
        Prefetch("items", queryset=DisputeItem.objects.select_related("respondent", "entry").order_by("id")),
        Prefetch("evidence", queryset=DisputeEvidence.objects.order_by("id")),
    )


def dispute_views(actor: Actor, disputes: list[Dispute], *, today: datetime.date | None = None) -> list[DisputeView]:
    """Views of disputes fetched through ``with_details`` (a page of a list), no query each."""
    today = today or timezone.localdate()
    return [_view(actor, d, list(d.items.all()), list(d.evidence.all()), today) for d in disputes]


def dispute_for(actor: Actor, dispute_id: int, *, today: datetime.date | None = None) -> DisputeView:
    """The dispute ``dispute_id`` as the actor sees it; 404 unless it is a party or the operator."""
    dispute = with_details(disputes_visible_to(actor)).filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound(_("No such dispute."))
    return dispute_views(actor, [dispute], today=today)[0]


def evidence_for(actor: Actor, evidence_id: int, *, dispute_id: int | None = None) -> DisputeEvidence:
    """One evidence file, for a party of its dispute or the operator; 404 for anyone else."""
    evidence = DisputeEvidence.objects.filter(pk=evidence_id, dispute__in=disputes_visible_to(actor))
    if dispute_id is not None:
        evidence = evidence.filter(dispute_id=dispute_id)
    found = evidence.first()
    if found is None:
        raise NotFound(_("No such evidence file."))
    return found


def arbitration_queue(region: Region) -> QuerySet[Dispute]:
    """Escalated disputes of the region, oldest escalation first, with the items to decide."""
    return (
        Dispute.objects.filter(region=region, state=DisputeState.ESCALATED)
        .select_related("hash_key", "filer_member", "filer_operator")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=DisputeItem.objects.filter(
                    state__in=AWAITING_ARBITRATION, arbitration_decision=""
                ).select_related("respondent", "entry"),
                to_attr="awaiting",
            )
        )
        .order_by("escalated_on", "id")
    )


@dataclass(frozen=True)
class MemberDisputeStatistics:
    member: Member
    received: int
    open: int
    confirmed: int
    corrected: int
    withdrawn: int
    lapsed: int
    upheld: int
    removed: int
    # Days from filing to the answer, the median over the answered items (None: none answered).
    median_answer_days: float | None

    @property
    def closed(self) -> int:
        """Items answered, lapsed or decided: no longer waiting for the member."""
        return self.received - self.open

    @property
    def lapse_rate(self) -> float | None:
        """The share of the member's closed items that lapsed unanswered, in percent (None:
        no item closed yet): a member that lets disputes lapse may deserve a lower weight."""
        return round(100 * self.lapsed / self.closed, 1) if self.closed else None


def dispute_statistics(region: Region) -> list[MemberDisputeStatistics]:
    """Per member of the region: items received and how they ended (``disputes.md``), for the
    operator setting trust weights. Two queries whatever the number of members."""
    rows: Any = (
        DisputeItem.objects.filter(respondent__region=region)
        .values("respondent_id")
        .annotate(
            received=Count("id"),
            open=Count("id", filter=Q(state=DisputeItemState.OPEN)),
            confirmed=Count("id", filter=Q(decision=DisputeDecision.CONFIRM)),
            corrected=Count("id", filter=Q(decision=DisputeDecision.CORRECT)),
            withdrawn=Count("id", filter=Q(decision=DisputeDecision.WITHDRAW)),
            lapsed=Count("id", filter=Q(state=DisputeItemState.LAPSED)),
            upheld=Count("id", filter=Q(state=DisputeItemState.UPHELD)),
            removed=Count("id", filter=Q(state=DisputeItemState.REMOVED)),
        )
    )
    counts: dict[int, dict[str, int]] = {int(row["respondent_id"]): dict(row) for row in rows}
    answer_days: dict[int, list[float]] = {}
    answered = DisputeItem.objects.filter(respondent__region=region, answered_at__isnull=False).values_list(
        "respondent_id", "created_at", "answered_at"
    )
    for member_id, created_at, answered_at in answered:
        if answered_at is not None:
            answer_days.setdefault(member_id, []).append((answered_at - created_at).total_seconds() / 86400)
    result = []
    for member in Member.objects.filter(region=region).order_by("name"):
        row = counts.get(member.pk, {})
        days = answer_days.get(member.pk)
        result.append(
            MemberDisputeStatistics(
                member=member,
                received=row.get("received", 0),
                open=row.get("open", 0),
                confirmed=row.get("confirmed", 0),
                corrected=row.get("corrected", 0),
                withdrawn=row.get("withdrawn", 0),
                lapsed=row.get("lapsed", 0),
                upheld=row.get("upheld", 0),
                removed=row.get("removed", 0),
                median_answer_days=round(statistics.median(days), 1) if days else None,
            )
        )
    return result


def notifications_for(user: User) -> QuerySet[Notification]:
    """A person's inbox, unread first, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("dispute")
        .annotate(unread=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("unread", "-created_at", "-id")
    )


def unread_notifications_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
