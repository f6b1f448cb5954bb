"""Escalation and arbitration (``disputes.md`` step 4): the filer may take a resolved dispute
with confirmed or corrected items to the operator within ``escalation_days``; the subject is
``disputed`` again until the operator upholds or removes each such item."""

from __future__ import annotations

import datetime

import pytest

from core.errors import Conflict, Forbidden, InvalidInput
from registry.choices import DisputeItemState, DisputeState, EntryState
from registry.models import RelistBlock
from registry.services.disputes import dispute_arbitrate, dispute_escalate
from tests.registry.disputes.helpers import answer, file, fresh, item_of, no_drift, today
from tests.registry.helpers import entry_of, lookup, member_actor, operator_system, subject, submit


@pytest.fixture
def resolved(region, member, other_member, filer):  # type: ignore[no-untyped-def]
    """Resolved today: one member confirmed, the other withdrew."""
    h = subject("escalate")
    submit(member, h)
    submit(other_member, h)
    dispute = file(filer, h)
    answer(dispute, member, "CONFIRM")
    answer(dispute, other_member, "WITHDRAW")
    return fresh(dispute), h


def _escalate(filer, dispute, **extra):  # type: ignore[no-untyped-def]
    return dispute_escalate(
        actor=member_actor(filer), dispute_id=dispute.pk, reason="The repayment receipt was ignored.", **extra
    )


def test_escalation_on_the_last_day_of_the_window(region, member, filer, resolved):
    dispute, h = resolved
    last_day = dispute.resolved_on + datetime.timedelta(days=region.escalation_days)

    escalated = _escalate(filer, dispute, today=last_day)

    assert (escalated.state, escalated.escalated_on) == (DisputeState.ESCALATED, last_day)
    assert lookup(filer, h)["disputed"] is True
    assert no_drift(region)


def test_escalation_after_the_window_is_refused(region, filer, resolved):
    dispute, h = resolved
    too_late = dispute.resolved_on + datetime.timedelta(days=region.escalation_days + 1)

    with pytest.raises(Conflict) as refused:
        _escalate(filer, dispute, today=too_late)

    assert refused.value.code == "escalation_window_closed"
    assert fresh(dispute).state == DisputeState.RESOLVED
    assert lookup(filer, h)["disputed"] is False


def test_only_the_filer_escalates(member, resolved):
    dispute, _h = resolved

    with pytest.raises(Forbidden):
        _escalate(member, dispute)


def test_nothing_to_escalate_when_every_entry_went(region, member, filer):
    h = subject("all withdrawn")
    submit(member, h)
    dispute = file(filer, h)
    answer(dispute, member, "WITHDRAW")

    with pytest.raises(Conflict) as refused:
        _escalate(filer, dispute)

    assert refused.value.code == "nothing_to_escalate"


def test_an_open_dispute_cannot_be_escalated(member, filer):
    h = subject("still open")
    submit(member, h)
    dispute = file(filer, h)

    with pytest.raises(Conflict) as refused:
        _escalate(filer, dispute)

    assert refused.value.code == "dispute_not_resolved"


def test_escalation_while_another_dispute_is_open_is_refused(region, member, other_member, filer, resolved):
    dispute, h = resolved
    newer = file(other_member, h)  # a resolved dispute does not block a new one

    with pytest.raises(Conflict) as refused:
        _escalate(filer, dispute)

    assert (refused.value.code, refused.value.details) == ("dispute_open", {"dispute_id": newer.pk})


def _arbitrate(region, dispute, *decisions):  # type: ignore[no-untyped-def]
    return dispute_arbitrate(
        actor=operator_system(region),
        dispute_id=dispute.pk,
        decisions=[{"item_id": i, "decision": d, "reason": f"{d} after reading both sides"} for i, d in decisions],
    )


def test_arbitration_upholds_an_entry(region, member, filer, resolved):
    dispute, h = resolved
    _escalate(filer, dispute)

    arbitrated = _arbitrate(region, dispute, (item_of(dispute, member).pk, "UPHOLD"))

    assert (arbitrated.state, arbitrated.arbitrated_on) == (DisputeState.ARBITRATED, today())
    item = item_of(dispute, member)
    assert (item.state, item.arbitration_reason) == (DisputeItemState.UPHELD, "UPHOLD after reading both sides")
    assert entry_of(member, h).state == EntryState.ACTIVE
    result = lookup(filer, h)
    assert (result["status"], result["black_members"], result["disputed"]) == ("WATCH", 1, False)
    assert no_drift(region)


def test_arbitration_removes_an_entry_and_blocks_relisting(region, member, filer, resolved):
    dispute, h = resolved
    _escalate(filer, dispute)

    _arbitrate(region, dispute, (item_of(dispute, member).pk, "REMOVE"))

    assert item_of(dispute, member).state == DisputeItemState.REMOVED
    assert entry_of(member, h).state == EntryState.REMOVED
    result = lookup(filer, h)
    assert (result["status"], result["black_members"], result["disputed"]) == ("CLEAR", 0, False)
    assert RelistBlock.objects.filter(member=member).exists()
    assert no_drift(region)


def test_arbitration_takes_only_items_awaiting_it(region, member, other_member, filer, resolved):
    dispute, _h = resolved
    _escalate(filer, dispute)

    with pytest.raises(InvalidInput):
        _arbitrate(region, dispute, (item_of(dispute, other_member).pk, "REMOVE"))  # withdrawn, not escalated
    with pytest.raises(InvalidInput) as refused:
        dispute_arbitrate(
            actor=operator_system(region),
            dispute_id=dispute.pk,
            decisions=[{"item_id": item_of(dispute, member).pk, "decision": "MAYBE", "reason": ""}],
        )
    assert set(refused.value.details) == {"items.0"}
    assert fresh(dispute).state == DisputeState.ESCALATED


def test_a_dispute_not_escalated_is_not_arbitrated(region, member, resolved):
    dispute, _h = resolved

    with pytest.raises(Conflict) as refused:
        _arbitrate(region, dispute, (item_of(dispute, member).pk, "REMOVE"))

    assert refused.value.code == "dispute_not_escalated"


def test_a_member_cannot_arbitrate(region, member, filer, resolved):
    dispute, _h = resolved
    _escalate(filer, dispute)

    with pytest.raises(Forbidden):
        dispute_arbitrate(
            actor=member_actor(filer),
            dispute_id=dispute.pk,
            decisions=[{"item_id": item_of(dispute, member).pk, "decision": "REMOVE", "reason": "mine"}],
        )
