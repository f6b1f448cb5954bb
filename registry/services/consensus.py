"""Recomputing the consensus: for touched subjects (in the writer's transaction), for a whole
region (in chunks, with progress), and checking the stored consensus against a recomputation."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from lenders.models import Member, Region
from registry.models import ConsensusRecord, RecomputeJob
from registry.sql import consensus as consensus_sql

SubjectKey = tuple[int, str, bytes]  # (hash_key_id, id_type, subject_hash)


def _values_sql(subjects: list[SubjectKey]) -> tuple[str, list[object]]:
    rows = " UNION ALL ".join(
        ["SELECT CAST(%s AS BIGINT) AS hash_key_id, %s AS id_type, %s AS subject_hash"] * len(subjects)
    )
    params: list[object] = []
    for hash_key_id, id_type, subject_hash in subjects:
        params += [hash_key_id, id_type, subject_hash]
    return rows, params


def consensus_recompute_subjects(
    *,
    region: Region,
    subjects: Iterable[SubjectKey],
    cause: str,
    cause_ref: str = "",
    today: datetime.date | None = None,
) -> consensus_sql.RecomputeResult:
    """Recompute a few subjects named in Python (an entry edit, a dispute step)."""
    keys = sorted(set(subjects))
    if not keys:
        return consensus_sql.RecomputeResult(0, 0)
    sql, params = _values_sql(keys)
    return consensus_sql.recompute(
        region=region,
        subjects_sql=sql,
        subjects_params=params,
        today=today or timezone.localdate(),
        now=timezone.now(),
        cause=cause,
        cause_ref=cause_ref,
    )


def consensus_recompute_query(
    *,
    region: Region,
    subjects_sql: str,
    params: list[object],
    cause: str,
    cause_ref: str = "",
    today: datetime.date | None = None,
) -> consensus_sql.RecomputeResult:
    """Recompute the subjects a SQL query selects (an upload's staging table, a member's entries)."""
    return consensus_sql.recompute(
        region=region,
        subjects_sql=subjects_sql,
        subjects_params=params,
        today=today or timezone.localdate(),
        now=timezone.now(),
        cause=cause,
        cause_ref=cause_ref,
    )


def consensus_recompute_member(*, member: Member, cause: str, cause_ref: str = "") -> consensus_sql.RecomputeResult:
    """Every subject the member has an entry on (its status, weight or exclusion changed)."""
    return consensus_recompute_query(
        region=member.region,
        subjects_sql="SELECT hash_key_id, id_type, subject_hash FROM registry_entry WHERE member_id = %s",
        params=[member.pk],
        cause=cause,
        cause_ref=cause_ref or f"member:{member.pk}",
    )


# A whole-region recompute runs in one pass over the region's entries, in one transaction,
# in these phases; the job's progress counts them (chunks_done of chunks_total).
REGION_PHASES = ("locks", "compute", "write")
REGION_CHUNKS = len(REGION_PHASES)


@dataclass(frozen=True)
class RegionRecomputeResult:
    subjects: int
    changed: int
    seconds: float


def _report_progress(job: RecomputeJob | None, *, side_connection: bool, **fields: object) -> None:
    """Progress must be visible while the recompute's own transaction is still open, so on
    PostgreSQL (when the job row is committed, as in the background job) it is written
    through a second connection that commits at once."""
    if job is None:
        return
    if not side_connection:
        RecomputeJob.objects.filter(pk=job.pk).update(**fields)
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            assignments = ", ".join(f"{name} = %s" for name in fields)
            values: list[Any] = [*fields.values(), job.pk]
            cursor.execute(f"UPDATE registry_recomputejob SET {assignments} WHERE id = %s", values)
        side.commit()
    finally:
        side.close()


def consensus_recompute_region(
    *, region: Region, cause: str, job: RecomputeJob | None = None, chunks: int = REGION_CHUNKS
) -> RegionRecomputeResult:
    """Recompute every subject of the region in one pass and one transaction, recording its
    progress on ``job``. Safe to run again: a run that is interrupted changes nothing."""
    started = time.monotonic()
    side = connection.vendor == "postgresql" and not connection.in_atomic_block
    _report_progress(
        job,
        side_connection=False,
        state=RecomputeJob.State.RUNNING,
        chunks_total=REGION_CHUNKS,
        chunks_done=0,
        started_at=timezone.now(),
    )
    with transaction.atomic():
        region = Region.objects.get(pk=region.pk)  # the policy as it is now
        result = consensus_sql.recompute(
            region=region,
            subjects_sql=None,
            subjects_params=[],
            today=timezone.localdate(),
            now=timezone.now(),
            cause=cause,
            cause_ref=f"recompute:{job.pk}" if job else "recompute",
            progress=lambda done: _report_progress(job, side_connection=side, chunks_done=done),
        )
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(
            state=RecomputeJob.State.SUCCEEDED,
            chunks_total=REGION_CHUNKS,
            chunks_done=REGION_CHUNKS,
            subjects=result.subjects,
            changed=result.changed,
            finished_at=timezone.now(),
        )
    return RegionRecomputeResult(
        subjects=result.subjects, changed=result.changed, seconds=round(time.monotonic() - started, 3)
    )


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    different: int
    repaired: int
    examples: list[str]


def consensus_verify(*, region: Region, repair: bool = False, chunks: int = REGION_CHUNKS) -> VerifyResult:
    """Recompute the whole region from scratch and compare with the stored consensus; with
    ``repair`` store the recomputation wherever it differs."""
    with transaction.atomic():
        diff = consensus_sql.differences(
            region=region, subjects_sql=None, subjects_params=[], today=timezone.localdate()
        )
        repaired = 0
        if repair and diff.keys:
            repaired = consensus_recompute_subjects(
                region=region, subjects=diff.keys, cause="REPAIR", cause_ref="verify"
            ).changed
    examples = [f"{id_type}:{bytes(h).hex()}" for _k, id_type, h in diff.keys[:20]]
    return VerifyResult(checked=diff.subjects, different=len(diff.keys), repaired=repaired, examples=examples)


def consensus_is_stale(record: ConsensusRecord, today: datetime.date) -> bool:
    return record.valid_until is not None and record.valid_until <= today
