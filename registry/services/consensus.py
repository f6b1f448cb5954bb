"""Recomputing the consensus: for touched subjects (in the writer's transaction), for a whole
region (in chunks, with progress), and checking the stored consensus against a recomputation."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
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


# Whole-region work is split by the first byte of the subject hash so that each chunk is a
# short transaction and the job can report progress.
REGION_CHUNKS = 16


def _region_chunk_sql(region_id: int, chunk: int, chunks: int) -> tuple[str, list[object]]:
    low = bytes([256 * chunk // chunks])
    high = bytes([256 * (chunk + 1) // chunks]) if chunk + 1 < chunks else None
    bound = "subject_hash >= %s" + (" AND subject_hash < %s" if high is not None else "")
    bounds: list[object] = [low, high] if high is not None else [low]
    sql = (
        "SELECT e.hash_key_id, e.id_type, e.subject_hash FROM registry_entry e"
        " JOIN lenders_hashkey k ON k.id = e.hash_key_id"
        f" WHERE k.region_id = %s AND e.{bound}"
        " UNION ALL SELECT c.hash_key_id, c.id_type, c.subject_hash FROM registry_consensusrecord c"
        f" WHERE c.region_id = %s AND c.{bound}"
    )
    return sql, [region_id, *bounds, region_id, *bounds]


@dataclass(frozen=True)
class RegionRecomputeResult:
    subjects: int
    changed: int
    seconds: float


def consensus_recompute_region(
    *, region: Region, cause: str, job: RecomputeJob | None = None, chunks: int = REGION_CHUNKS
) -> RegionRecomputeResult:
    """Recompute every subject of the region, one chunk per transaction, recording progress
    on ``job``. Safe to run again: an interrupted run simply recomputes all chunks anew."""
    started = time.monotonic()
    subjects = changed = 0
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(
            state=RecomputeJob.State.RUNNING, chunks_total=chunks, chunks_done=0, started_at=timezone.now()
        )
    for chunk in range(chunks):
        sql, params = _region_chunk_sql(region.pk, chunk, chunks)
        with transaction.atomic():
            region = Region.objects.get(pk=region.pk)  # the policy as it is now
            result = consensus_recompute_query(
                region=region,
                subjects_sql=sql,
                params=params,
                cause=cause,
                cause_ref=f"recompute:{job.pk}" if job else "recompute",
            )
        subjects += result.subjects
        changed += result.changed
        if job is not None:
            RecomputeJob.objects.filter(pk=job.pk).update(chunks_done=chunk + 1, subjects=subjects, changed=changed)
    if job is not None:
        RecomputeJob.objects.filter(pk=job.pk).update(state=RecomputeJob.State.SUCCEEDED, finished_at=timezone.now())
    return RegionRecomputeResult(subjects=subjects, changed=changed, seconds=round(time.monotonic() - started, 3))


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    different: int
    repaired: int
    examples: list[str]


def consensus_verify(*, region: Region, repair: bool = False, chunks: int = REGION_CHUNKS) -> VerifyResult:
    """Recompute from scratch and compare with the stored consensus; with ``repair`` store the
    recomputation wherever it differs."""
    checked = different = repaired = 0
    examples: list[str] = []
    for chunk in range(chunks):
        sql, params = _region_chunk_sql(region.pk, chunk, chunks)
        with transaction.atomic():
            diff = consensus_sql.differences(
                region=region, subjects_sql=sql, subjects_params=params, today=timezone.localdate()
            )
            checked += diff.subjects
            different += len(diff.keys)
            examples += [f"{id_type}:{bytes(h).hex()}" for _k, id_type, h in diff.keys[: max(0, 20 - len(examples))]]
            if repair and diff.keys:
                result = consensus_recompute_subjects(
                    region=region, subjects=diff.keys, cause="REPAIR", cause_ref="verify"
                )
                repaired += result.changed
    return VerifyResult(checked=checked, different=different, repaired=repaired, examples=examples)


def consensus_is_stale(record: ConsensusRecord, today: datetime.date) -> bool:
    return record.valid_until is not None and record.valid_until <= today
