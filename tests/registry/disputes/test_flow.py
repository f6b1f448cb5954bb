"""The dispute flow of ``disputes.md`` through the real services: filing fans out to one item
per counted BLACK entry, each answer changes the entry and the consensus at once, the last
answer resolves the dispute, and lookups show ``disputed`` from filing until resolution."""

from __future__ import annotations

import datetime

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEvent
from registry.choices import DisputeItemState, DisputeState, EntryState
from registry.models import ConsensusHistory, DisputeItem, RelistBlock
from registry.services.disputes import dispute_item_respond
from tests.registry.disputes.helpers import answer, file, fresh, item_of, no_drift, today
from tests.registry.helpers import (
    entry_of,
    lookup,
    member_actor,
    record_of,
    set_member,
    set_policy,
    subject,
    submit,
)


@pytest.fixture
def listed(region, member, other_member):  # type: ignore[no-untyped-def]
    """A subject BLACK 84 by two members (two SEVERE_OVERDUE), plus a white entry of the filer's."""
    h = subject("disputed")
    submit(member, h)
    submit(other_member, h)
    return h


def test_filing_makes_one_open_item_per_counted_black_entry(region, member, other_member, filer, listed):
    dispute = file(filer, listed)

    items = list(DisputeItem.objects.filter(dispute=dispute).order_by("respondent_id"))
    assert dispute.state == DisputeState.OPEN
    assert dispute.filed_on == today()
    assert [(i.respondent_id, i.state) for i in items] == sorted(
        [(member.pk, DisputeItemState.OPEN), (other_member.pk, DisputeItemState.OPEN)]
    )
    assert {i.deadline for i in items} == {today() + datetime.timedelta(days=region.response_days)}
    assert AuditEvent.objects.filter(action="dispute.file", object_id=str(dispute.pk)).exists()


def test_an_entry_that_does_not_count_gets_no_item(region, member, other_member, filer, listed):
    set_member(other_member, excluded_from_consensus=True)
    submit(filer, listed, "WHITE", "GOOD_REPAYMENT")

    dispute = file(filer, listed)

    assert [i.respondent_id for i in DisputeItem.objects.filter(dispute=dispute)] == [member.pk]


def test_lookups_show_disputed_from_filing_until_resolution(region, member, other_member, filer, listed):
    assert lookup(filer, listed)["disputed"] is False
    dispute = file(filer, listed)
    assert lookup(filer, listed)["disputed"] is True
    answer(dispute, member, "CONFIRM")
    assert lookup(filer, listed)["disputed"] is True  # one item still open
    answer(dispute, other_member, "CONFIRM")

    assert fresh(dispute).state == DisputeState.RESOLVED
    assert lookup(filer, listed)["disputed"] is False
    assert no_drift(region)


def test_all_confirm_keeps_the_entries_and_the_status(region, member, other_member, filer, listed):
    dispute = file(filer, listed)
    answer(dispute, member, "CONFIRM")
    answer(dispute, other_member, "CONFIRM")

    dispute = fresh(dispute)
    assert (dispute.state, dispute.resolved_on) == (DisputeState.RESOLVED, today())
    assert {i.state for i in dispute.items.all()} == {DisputeItemState.CONFIRMED}
    assert entry_of(member, listed).state == EntryState.ACTIVE
    result = lookup(filer, listed)
    assert (result["status"], result["black_score"], result["disputed"]) == ("BLACK", 84, False)
    assert not RelistBlock.objects.exists()
    assert no_drift(region)


def test_one_withdraws_and_one_confirms(region, member, other_member, filer, listed):
    dispute = file(filer, listed)
    answer(dispute, member, "WITHDRAW")

    assert entry_of(member, listed).state == EntryState.REMOVED
    result = lookup(filer, listed)
    assert (result["status"], result["black_score"], result["disputed"]) == ("WATCH", 60, True)
    assert no_drift(region)

    answer(dispute, other_member, "CONFIRM")

    assert fresh(dispute).state == DisputeState.RESOLVED
    assert entry_of(other_member, listed).state == EntryState.ACTIVE
    result = lookup(filer, listed)
    assert (result["status"], result["black_score"], result["disputed"]) == ("WATCH", 60, False)
    block = RelistBlock.objects.get()
    assert (block.member_id, block.until) == (member.pk, today() + datetime.timedelta(days=region.relist_block_days))
    assert no_drift(region)
    causes = [h.cause for h in ConsensusHistory.objects.filter(subject_hash=bytes.fromhex(listed)).order_by("id")]
    assert causes[-1] == "DISPUTE"


def test_correct_changes_the_entry_and_keeps_it(region, member, other_member, filer, listed):
    dispute = file(filer, listed)
    item = answer(dispute, member, "CORRECT", corrected={"reason": "OTHER_BLACK"})

    entry = entry_of(member, listed)
    assert (item.state, entry.state, entry.reason) == (DisputeItemState.CORRECTED, EntryState.ACTIVE, "OTHER_BLACK")
    assert item.corrected == {"reason": ["SEVERE_OVERDUE", "OTHER_BLACK"]}
    # SEVERE_OVERDUE 0.6 and OTHER_BLACK 0.3: 100 × (1 − 0.4 × 0.7) = 72, no longer BLACK.
    assert (lookup(filer, listed)["status"], lookup(filer, listed)["black_score"]) == ("WATCH", 72)
    assert no_drift(region)


def test_a_correction_is_checked_like_any_entry(region, member, filer, listed):
    dispute = file(filer, listed)

    with pytest.raises(InvalidInput) as refused:
        answer(dispute, member, "CORRECT", corrected={"reason": "GOOD_REPAYMENT", "event_date": "2999-01-01"})

    assert set(refused.value.details) == {"corrected.reason", "corrected.event_date"}
    assert item_of(dispute, member).state == DisputeItemState.OPEN


def test_an_answer_needs_a_note(member, filer, listed):
    dispute = file(filer, listed)

    with pytest.raises(InvalidInput) as refused:
        answer(dispute, member, "CONFIRM", note="  ")

    assert "note" in refused.value.details


def test_an_item_is_answered_once(member, filer, listed):
    dispute = file(filer, listed)
    answer(dispute, member, "CONFIRM")

    with pytest.raises(Conflict) as refused:
        answer(dispute, member, "WITHDRAW")

    assert refused.value.code == "item_not_open"


def test_the_deadline_day_itself_still_takes_an_answer_the_day_after_not(member, other_member, filer, listed):
    dispute = file(filer, listed)
    deadline = item_of(dispute, member).deadline

    with pytest.raises(Conflict) as refused:
        answer(dispute, member, "CONFIRM", today=deadline + datetime.timedelta(days=1))
    assert refused.value.code == "deadline_passed"

    assert answer(dispute, member, "CONFIRM", today=deadline).state == DisputeItemState.CONFIRMED


def test_a_member_cannot_answer_an_item_not_addressed_to_it(member, other_member, filer, listed):
    dispute = file(filer, listed)

    with pytest.raises(NotFound):
        dispute_item_respond(
            actor=member_actor(member),
            dispute_id=dispute.pk,
            item_id=item_of(dispute, other_member).pk,
            decision="WITHDRAW",
            note="not mine",
        )
    assert entry_of(other_member, listed).state == EntryState.ACTIVE


def test_filing_on_a_subject_without_black_entries_is_refused(member, filer):
    h = subject("white only")
    submit(member, h, "WHITE", "GOOD_REPAYMENT")

    for target in (h, subject("never seen")):
        with pytest.raises(Conflict) as refused:
            file(filer, target)
        assert refused.value.code == "no_black_entries"


def test_a_second_filing_while_one_is_open_names_the_open_one(member, other_member, filer, listed):
    first = file(filer, listed)

    with pytest.raises(Conflict) as refused:
        file(other_member, listed)

    assert (refused.value.code, refused.value.details) == ("dispute_open", {"dispute_id": first.pk})


def test_a_resolved_dispute_does_not_block_a_new_filing(member, other_member, filer, listed):
    first = file(filer, listed)
    answer(first, member, "CONFIRM")
    answer(first, other_member, "CONFIRM")

    second = file(filer, listed)

    assert second.pk != first.pk and second.state == DisputeState.OPEN


def test_filing_input_is_checked(filer, listed):
    with pytest.raises(InvalidInput) as refused:
        file(filer, "xyz", id_type="PASSPORT", grounds="BECAUSE", statement="")

    assert set(refused.value.details) == {"id_type", "subject_hash", "grounds", "statement"}


def test_suspend_disputed_entries_stops_them_counting_while_open(region, member, other_member, filer, listed):
    region = set_policy(region, suspend_disputed_entries=True)
    dispute = file(filer, listed)

    result = lookup(filer, listed)
    assert (result["status"], result["black_members"], result["disputed"]) == ("CLEAR", 0, True)
    assert no_drift(region)

    answer(dispute, member, "CONFIRM")
    answer(dispute, other_member, "CONFIRM")

    result = lookup(filer, listed)
    assert (result["status"], result["black_score"], result["disputed"]) == ("BLACK", 84, False)
    assert no_drift(region)


def test_the_operator_can_file(region, member, listed):
    from registry.services.disputes import dispute_file
    from tests.registry.helpers import operator_system

    dispute = dispute_file(
        actor=operator_system(region), id_type="RIC", subject_hash=listed, grounds="REPAID", statement="Paid off."
    )

    assert dispute.filer_operator_id == region.operator.pk and dispute.filer_member_id is None
    assert record_of(region, listed).disputed is True  # type: ignore[union-attr]
