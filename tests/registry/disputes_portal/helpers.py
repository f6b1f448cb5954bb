"""Acting on disputes through the real services, to set up what a page then shows."""

from __future__ import annotations

from typing import Any

from lenders.models import Member
from registry.models import Dispute, DisputeItem
from registry.services.disputes import dispute_file, dispute_item_respond
from tests.registry.helpers import member_actor


def file_dispute(filer: Member, subject_hash: str, **extra: Any) -> Dispute:
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


def answer_item(dispute: Dispute, respondent: Member, decision: str) -> DisputeItem:
    return dispute_item_respond(
        actor=member_actor(respondent),
        dispute_id=dispute.pk,
        item_id=item_of(dispute, respondent).pk,
        decision=decision,
        note=f"{decision.lower()}: checked against the loan file",
    )


def escalate(dispute: Dispute, filer: Member, respondents: list[Member]) -> Dispute:
    """Every respondent confirms, then the filer escalates."""
    from registry.services.disputes import dispute_escalate

    for respondent in respondents:
        answer_item(dispute, respondent, "CONFIRM")
    return dispute_escalate(actor=member_actor(filer), dispute_id=dispute.pk, reason="The subject has new proof.")


def listed_subjects(members: list[Member], count: int, *, prefix: str = "many") -> list[str]:
    """``count`` subjects, each listed BLACK by every one of ``members``."""
    from tests.registry.helpers import subject, submit

    hashes = []
    for n in range(count):
        subject_hash = subject(f"{prefix}-{n}")
        for member in members:
            submit(member, subject_hash)
        hashes.append(subject_hash)
    return hashes
