"""Filing and answering disputes as a member would, and reading what each side sees."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from lenders.models import Member, Region
from registry.models import Dispute, DisputeItem
from registry.services.consensus import consensus_verify
from registry.services.disputes import dispute_file, dispute_item_respond
from tests.registry.helpers import member_actor


def file(filer: Member, subject_hash: str, **extra: Any) -> Dispute:
    return dispute_file(
        actor=member_actor(filer),
        id_type=extra.pop("id_type", "RIC"),
        subject_hash=subject_hash,
        grounds=extra.pop("grounds", "NOT_ME"),
        statement=extra.pop("statement", "The subject says the loan was taken out with a stolen ID card."),
        **extra,
    )


def item_of(dispute: Dispute, respondent: Member) -> DisputeItem:
    return DisputeItem.objects.get(dispute=dispute, respondent=respondent)


def answer(dispute: Dispute, respondent: Member, decision: str, **extra: Any) -> DisputeItem:
    return dispute_item_respond(
        actor=member_actor(respondent),
        dispute_id=dispute.pk,
        item_id=item_of(dispute, respondent).pk,
        decision=decision,
        note=extra.pop("note", f"{decision.lower()}: checked against the loan file"),
        **extra,
    )


def fresh(dispute: Dispute) -> Dispute:
    return Dispute.objects.get(pk=dispute.pk)


def no_drift(region: Region) -> bool:
    """The stored consensus equals a full recomputation from the entries."""
    return consensus_verify(region=region).different == 0


def today() -> datetime.date:
    return timezone.localdate()
