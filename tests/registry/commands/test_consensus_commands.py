"""``verify_consensus`` and ``recompute_consensus`` (``commands.md``), the region recompute a
policy change starts, and the recompute a member change makes at once."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lenders.models import Region
from registry.choices import ConsensusCause
from registry.models import ConsensusHistory, ConsensusRecord, RecomputeJob
from registry.services.consensus import REGION_CHUNKS, consensus_verify
from registry.tasks import recompute_region
from tests.registry.helpers import (
    history_of,
    lookup,
    new_member,
    record_of,
    run_command,
    set_member,
    set_policy,
    subject,
    submit,
)

SEVERE_84 = subject("two-severe")  # two SEVERE_OVERDUE: 84, BLACK
MIXED_92 = subject("write-off-and-severe")  # WRITE_OFF + SEVERE_OVERDUE: 92, BLACK
WHITE = subject("white")  # GOOD_REPAYMENT: WHITE
CLEARED = subject("cleared")  # written, then withdrawn: CLEAR


@pytest.fixture
def written(region, member, other_member):  # type: ignore[no-untyped-def]
    """A series of entry writes over four subjects."""
    submit(member, SEVERE_84)
    submit(other_member, SEVERE_84)
    submit(member, MIXED_92, "BLACK", "WRITE_OFF")
    submit(other_member, MIXED_92)
    submit(member, WHITE, "WHITE", "GOOD_REPAYMENT")
    submit(other_member, CLEARED, "BLACK", "FRAUD")
    submit(other_member, CLEARED, action="WITHDRAW")
    return region


def _status(region: Region, h: str) -> tuple[str, int]:
    record = record_of(region, h)
    assert record is not None
    return record.status, record.black_score


def _tamper(region: Region, h: str, **values: object) -> None:
    record = record_of(region, h)
    assert record is not None
    assert ConsensusRecord.objects.filter(pk=record.pk).update(**values) == 1


def _verify_failing(*args: str) -> tuple[dict[str, object], CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_consensus", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1]), raised.value


# -- verify_consensus ------------------------------------------------------------------------------


def test_verify_finds_nothing_after_entry_writes(written):
    assert run_command("verify_consensus") == {"checked": 4, "different": 0, "repaired": 0}


def test_verify_of_one_region(written):
    other = new_member()
    submit(other, subject("elsewhere"))
    assert run_command("verify_consensus", "--region", written.code)["checked"] == 4
    assert run_command("verify_consensus")["checked"] == 5


@pytest.mark.parametrize(
    "tampered",
    [{"black_score": 1}, {"status": "WHITE"}, {"black_members": 7}, {"n_write_off": 0}, {"conflict": True}],
)
def test_verify_reports_a_tampered_record_and_exits_1(written, tampered):
    _tamper(written, MIXED_92, **tampered)
    summary, error = _verify_failing()
    assert summary == {"checked": 4, "different": 1, "repaired": 0}
    assert error.returncode == 1


def test_verify_reports_a_missing_record(written):
    record = record_of(written, SEVERE_84)
    assert record is not None
    record.delete()
    summary, _error = _verify_failing()
    assert summary["different"] == 1


def test_verify_repair_repairs_and_then_finds_nothing(written):
    _tamper(written, SEVERE_84, black_score=1)
    assert run_command("verify_consensus", "--repair") == {"checked": 4, "different": 1, "repaired": 1}
    assert _status(written, SEVERE_84) == ("BLACK", 84)
    assert history_of(written, SEVERE_84)[-1].cause == ConsensusCause.REPAIR
    assert run_command("verify_consensus") == {"checked": 4, "different": 0, "repaired": 0}


# -- recompute_consensus ----------------------------------------------------------------------------


def test_recompute_consensus_prints_its_summary(written):
    result = run_command("recompute_consensus", "--region", written.code)
    assert set(result) == {"region", "subjects", "changed", "seconds"}
    assert (result["region"], result["subjects"], result["changed"]) == (written.code, 4, 0)
    assert isinstance(result["seconds"], float | int)


def test_recompute_consensus_restores_a_tampered_record(written):
    _tamper(written, MIXED_92, black_score=1)
    assert run_command("recompute_consensus", "--region", written.code)["changed"] == 1
    assert _status(written, MIXED_92) == ("BLACK", 92)


def test_recompute_consensus_of_an_unknown_region_fails(db):
    with pytest.raises(CommandError):
        call_command("recompute_consensus", "--region", "NOPE", stdout=StringIO(), stderr=StringIO())


# -- a policy change recomputes the region in a job -----------------------------------------------


def test_a_policy_change_recomputes_the_region_in_a_job(
    written, member, eager_celery, django_capture_on_commit_callbacks
):
    before = ConsensusHistory.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        set_policy(written, black_score_threshold=90)
    assert len(callbacks) == 1
    job = RecomputeJob.objects.get(region=written)
    assert (job.state, job.cause) == (RecomputeJob.State.SUCCEEDED, ConsensusCause.POLICY)
    assert job.chunks_done == job.chunks_total == REGION_CHUNKS
    assert (job.subjects, job.changed) == (4, 1)
    assert job.finished_at is not None and job.progress == 1.0

    assert _status(written, SEVERE_84) == ("WATCH", 84)
    assert _status(written, MIXED_92) == ("BLACK", 92)
    assert lookup(member, SEVERE_84)["status"] == "WATCH"
    new_history = ConsensusHistory.objects.order_by("id")[before:]
    assert [(h.cause, h.old_status, h.new_status, h.cause_ref) for h in new_history] == [
        (ConsensusCause.POLICY, "BLACK", "WATCH", f"recompute:{job.pk}")
    ]
    assert consensus_verify(region=Region.objects.get(pk=written.pk)).different == 0


def test_a_policy_job_is_queued_after_the_commit_and_can_run_by_hand(written, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        set_policy(
            written,
            severity_weights={
                "FRAUD": "1.0",
                "COURT_ENFORCED": "1.0",
                "WRITE_OFF": "0.8",
                "SEVERE_OVERDUE": "0.5",
                "OTHER_BLACK": "0.3",
            },
        )
    assert len(callbacks) == 1
    job = RecomputeJob.objects.get(region=written)
    assert job.state == RecomputeJob.State.QUEUED
    assert _status(written, SEVERE_84) == ("BLACK", 84)  # nothing recomputed before the job runs
    recompute_region(job.pk)
    job.refresh_from_db()
    assert (job.state, job.chunks_done, job.chunks_total) == (
        RecomputeJob.State.SUCCEEDED,
        REGION_CHUNKS,
        REGION_CHUNKS,
    )
    assert _status(written, SEVERE_84) == ("WATCH", 75)  # 100 × (1 − 0.5 × 0.5)
    assert _status(written, MIXED_92) == ("BLACK", 90)  # 100 × (1 − 0.2 × 0.5)
    assert recompute_region(job.pk) == {"job": job.pk, "skipped": True}  # safe to deliver twice


def test_a_policy_change_that_does_not_touch_the_consensus_starts_no_job(written, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        set_policy(written, response_days=30)
    assert callbacks == []
    assert not RecomputeJob.objects.exists()


# -- a member change recomputes the member's subjects at once -------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"trust_weight": "0.5"}, ("WATCH", 72)),  # 100 × (1 − 0.4 × 0.7)
        ({"status": "SUSPENDED"}, ("WATCH", 60)),
        ({"excluded_from_consensus": True}, ("WATCH", 60)),
    ],
)
def test_a_member_change_recomputes_its_subjects_at_once(written, other_member, change, expected):
    set_member(other_member, **change)
    assert _status(written, SEVERE_84) == expected
    last = history_of(written, SEVERE_84)[-1]
    assert (last.cause, last.cause_ref) == (ConsensusCause.MEMBER, f"member:{other_member.pk}")
    assert not RecomputeJob.objects.exists()
    assert run_command("verify_consensus")["different"] == 0


def test_a_member_change_leaves_other_subjects_alone(written, member, other_member):
    white_history = len(history_of(written, WHITE))
    set_member(other_member, status="SUSPENDED")
    assert len(history_of(written, WHITE)) == white_history
    assert _status(written, WHITE) == ("WHITE", 0)


def test_a_write_begun_before_a_policy_change_is_counted_under_the_new_policy(
    written, member, other_member, eager_celery, django_capture_on_commit_callbacks
):
    """A request loads its member (and the region's policy) when it starts; if the policy
    changes and the region is recomputed before the request writes, its recompute must still
    use the policy as committed, or the record drifts until the next full recompute."""
    h = subject("written-during-a-policy-change")
    submit(member, h)
    loaded_before = type(other_member).objects.select_related("region").get(pk=other_member.pk)
    with django_capture_on_commit_callbacks(execute=True):
        set_policy(written, black_score_threshold=90)
    submit(loaded_before, h)
    assert _status(written, h) == ("WATCH", 84)
    assert run_command("verify_consensus")["different"] == 0
