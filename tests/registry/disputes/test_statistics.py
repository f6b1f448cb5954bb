"""Per-member dispute statistics for the operator (``disputes.md``): received, confirmed,
corrected, withdrawn, lapsed and the median answer time."""

from __future__ import annotations

import datetime

from registry.models import DisputeItem
from registry.selectors.disputes import arbitration_queue, dispute_statistics
from registry.services.disputes import dispute_deadlines_enforce, dispute_escalate
from tests.registry.disputes.helpers import answer, file, item_of
from tests.registry.helpers import member_actor, subject, submit


def test_statistics_count_each_outcome_per_member(region, member, other_member, filer):
    hashes = [subject(f"stats {n}") for n in range(4)]
    for h in hashes:
        submit(member, h)
    submit(other_member, hashes[0])
    disputes = [file(filer, h) for h in hashes]
    answer(disputes[0], member, "CONFIRM")
    answer(disputes[1], member, "CORRECT", corrected={"reason": "WRITE_OFF"})
    answer(disputes[2], member, "WITHDRAW")
    # Answered two days after filing, as far as the median is concerned.
    DisputeItem.objects.filter(respondent=member, answered_at__isnull=False).update(
        created_at=item_of(disputes[0], member).answered_at - datetime.timedelta(days=2)  # type: ignore[operator]
    )
    dispute_deadlines_enforce(as_of=item_of(disputes[3], member).deadline + datetime.timedelta(days=1))

    stats = {s.member.pk: s for s in dispute_statistics(region)}

    mine = stats[member.pk]
    assert (mine.received, mine.confirmed, mine.corrected, mine.withdrawn, mine.lapsed, mine.open) == (4, 1, 1, 1, 1, 0)
    assert mine.median_answer_days == 2.0
    theirs = stats[other_member.pk]
    assert (theirs.received, theirs.lapsed, theirs.median_answer_days) == (1, 1, None)
    assert stats[filer.pk].received == 0


def test_the_arbitration_queue_holds_escalated_disputes_with_their_items(region, member, filer):
    h = subject("queue")
    submit(member, h)
    dispute = file(filer, h)
    answer(dispute, member, "CONFIRM")
    dispute_escalate(actor=member_actor(filer), dispute_id=dispute.pk, reason="new evidence")

    queue = list(arbitration_queue(region))

    assert [d.pk for d in queue] == [dispute.pk]
    assert [i.respondent_id for i in queue[0].awaiting] == [member.pk]  # type: ignore[attr-defined]
