"""Concurrent writers on the same subjects leave a consensus equal to a full recomputation
(``consensus.md``, Correctness). PostgreSQL only: SQLite has a single writer."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from lenders.models import Member, Region
from registry.models import ConsensusRecord, Entry
from registry.services.consensus import consensus_verify
from tests.registry.helpers import current_key, new_member, new_region, set_member, subject, submit

MEMBERS = 4
SUBJECTS = 30
ROUNDS = 2


def _run_together(workers: list[Callable[[], None]]) -> None:
    """Run each worker in its own thread (its own database connection), all released at once;
    re-raise the first failure."""
    barrier = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except BaseException as exc:  # reported to the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if failures:
        raise failures[0]


@pytest.fixture
def crowd(postgres_only: None, transactional_db: None) -> tuple[Region, list[Member]]:
    region = new_region()
    return region, [new_member(region) for _ in range(MEMBERS)]


def _writer(member: Member, hashes: list[str], seed: int) -> Callable[[], None]:
    def work() -> None:
        order = list(hashes)
        random.Random(seed).shuffle(order)
        for h in order:
            submit(member, h)

    return work


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_the_same_subjects_leave_no_drift(crowd):
    region, members = crowd
    hashes = [subject(f"concurrent-{n}") for n in range(SUBJECTS)]
    _run_together([_writer(member, hashes, seed) for seed, member in enumerate(members)])

    result = consensus_verify(region=region)
    assert (result.checked, result.different) == (SUBJECTS, 0), result.examples
    records = ConsensusRecord.objects.filter(hash_key=current_key(region))
    assert records.count() == SUBJECTS
    for record in records:
        assert (record.black_members, record.black_score, record.status) == (MEMBERS, 97, "BLACK")  # 1 − 0.4⁴


@pytest.mark.django_db(transaction=True)
def test_concurrent_mixed_writes_count_every_member_who_wrote(crowd):
    """Each member writes a different random part of the subjects, some BLACK and some WHITE,
    and withdraws some of them again, over several rounds."""
    region, members = crowd
    hashes = [subject(f"mixed-{n}") for n in range(SUBJECTS)]
    rng = random.Random(20261126)
    plans: dict[int, list[tuple[str, str]]] = {}
    for member in members:
        plan = []
        for _round in range(ROUNDS):
            for h in rng.sample(hashes, k=SUBJECTS // 2):
                plan.append((h, rng.choice(["BLACK", "BLACK", "WHITE", "WITHDRAW"])))
        plans[member.pk] = plan

    def writer(member: Member) -> Callable[[], None]:
        def work() -> None:
            for h, what in plans[member.pk]:
                if what == "WITHDRAW":
                    submit(member, h, action="WITHDRAW")
                elif what == "WHITE":
                    submit(member, h, "WHITE", "GOOD_REPAYMENT")
                else:
                    submit(member, h, "BLACK", "SEVERE_OVERDUE")

        return work

    _run_together([writer(member) for member in members])

    result = consensus_verify(region=region)
    assert result.different == 0, result.examples
    black: Counter[str] = Counter()
    white: Counter[str] = Counter()
    for entry in Entry.objects.filter(member__region=region, state="ACTIVE"):
        (black if entry.list == "BLACK" else white)[bytes(entry.subject_hash).hex()] += 1
    for h in hashes:
        record = ConsensusRecord.objects.filter(hash_key=current_key(region), subject_hash=bytes.fromhex(h)).first()
        seen = (record.black_members, record.white_members) if record else (0, 0)
        assert seen == (black[h], white[h]), h


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_writes_of_new_subjects_make_one_record_each(crowd):
    """Every member's first entry on a never-seen subject at the same moment: one record, all counted
    (two SEVERE_OVERDUE or more make BLACK)."""
    region, members = crowd
    for n in range(5):
        h = subject(f"first-{n}")
        _run_together([_writer(member, [h], seed) for seed, member in enumerate(members)])
        record = ConsensusRecord.objects.get(hash_key=current_key(region), subject_hash=bytes.fromhex(h))
        assert (record.black_members, record.status) == (MEMBERS, "BLACK")
    assert consensus_verify(region=region).different == 0


@pytest.mark.django_db(transaction=True)
def test_member_changes_during_concurrent_writes_neither_deadlock_nor_drift(crowd):
    """The operator changes a member's trust weight while other members write on the member's
    subjects: every write and every change succeeds, and the consensus has no drift."""
    region, members = crowd
    changed, writers = members[0], members[1:]
    hashes = [subject(f"member-change-{n}") for n in range(SUBJECTS)]
    for h in hashes:
        submit(changed, h)

    def operator() -> None:
        for weight in ("0.5", "0.9", "0.3", "0.7", "1.0", "0.6"):
            set_member(changed, trust_weight=weight)

    _run_together([operator] + [_writer(member, hashes, seed) for seed, member in enumerate(writers)])

    result = consensus_verify(region=region)
    assert result.different == 0, result.examples
    for record in ConsensusRecord.objects.filter(hash_key=current_key(region)):
        assert record.black_members == MEMBERS
