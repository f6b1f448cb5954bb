"""Concurrent steps on one subject (PostgreSQL: SQLite has a single writer): two filings at
once make one dispute, and answers racing the deadline job are decided once each."""

from __future__ import annotations

import datetime

import pytest

from core.errors import Conflict
from registry.choices import DisputeItemState, DisputeState
from registry.models import Dispute
from registry.services.disputes import dispute_deadlines_enforce
from tests.registry.disputes.helpers import answer, file, fresh, item_of, no_drift
from tests.registry.helpers import new_member, new_region, subject, submit
from tests.registry.services.test_concurrency import _run_together


@pytest.fixture
def crowd(postgres_only: None, transactional_db: None):  # type: ignore[no-untyped-def]
    region = new_region()
    return region, [new_member(region) for _ in range(4)]


def test_two_filings_at_once_make_one_dispute(crowd):
    region, members = crowd
    h = subject("race")
    submit(members[0], h)
    refused: list[str] = []

    def filing(filer):  # type: ignore[no-untyped-def]
        def work() -> None:
            try:
                file(filer, h)
            except Conflict as conflict:
                refused.append(conflict.code)

        return work

    _run_together([filing(members[1]), filing(members[2]), filing(members[3])])

    assert Dispute.objects.filter(state=DisputeState.OPEN).count() == 1
    assert refused == ["dispute_open", "dispute_open"]
    assert no_drift(region)


def test_answers_racing_the_deadline_job_resolve_the_dispute_once(crowd):
    region, members = crowd
    h = subject("race answers")
    submit(members[0], h)
    submit(members[1], h)
    dispute = file(members[2], h)
    deadline = item_of(dispute, members[0]).deadline

    def respond(member):  # type: ignore[no-untyped-def]
        def work() -> None:
            try:
                answer(dispute, member, "CONFIRM", today=deadline)
            except Conflict:
                pass

        return work

    def deadline_job() -> None:
        dispute_deadlines_enforce(as_of=deadline + datetime.timedelta(days=1))

    _run_together([respond(members[0]), respond(members[1]), deadline_job])

    dispute = fresh(dispute)
    assert dispute.state == DisputeState.RESOLVED
    states = {item.state for item in dispute.items.all()}
    assert states <= {DisputeItemState.CONFIRMED, DisputeItemState.LAPSED}
    assert no_drift(region)
