"""A realistic region made fast: the region, members and keys through the real services, the
entries by PostgreSQL itself (one ``INSERT … SELECT FROM generate_series``), the consensus
by the project's own engine.

The mix: ``subjects`` subjects, most with one entry and some with 2–5 from different members
(big lenders hold more entries than small ones); about 85% BLACK and 15% WHITE, a subject's
entries mostly agreeing; reasons with plausible frequencies; event dates over the retention
period (5 years BLACK, 3 years WHITE); 3% with ``expires_on``; ``ends_on`` as the services
compute it (PostgreSQL's ``date + interval 'N years'`` turns 29 February into 28 February,
as ``entry_rules.add_years`` does); 2% withdrawn. Every value is derived from the subject's
number and a seed (``md5`` for the 32-byte hashes, ``hashint8extended`` for the draws), so a
dataset is the same every time it is made.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import uscc as uscc_number

from lenders.actors import Actor
from lenders.models import HashKey, Member, Region
from lenders.services.members import member_create, member_update
from lenders.services.regions import region_create
from registry.benchmark.database import LAYOUT, MARKER, REUSE_DAYS, DatasetSpec
from registry.choices import ConsensusCause
from registry.services.consensus import consensus_recompute_region
from registry.services.entry_rules import add_years

REGION_CODE = "BENCH"
SEED = 1
MAX_ENTRIES_PER_SUBJECT = 5
# Of the subjects with more than one entry, the share with 2, 3, 4 and 5 entries.
_MULTI_SHARES = {2: 0.55, 3: 0.25, 4: 0.12, 5: 0.08}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Dataset:
    region: Region
    hash_key: HashKey
    members: list[Member]
    reused: bool
    generation_seconds: float | None
    fill_seconds: float | None
    consensus_records: int


def max_entries(subjects: int, members: int) -> int:
    return subjects * min(MAX_ENTRIES_PER_SUBJECT, members)


def subject_counts(subjects: int, entries: int, members: int) -> dict[int, int]:
    """How many subjects get 1, 2, … entries: ``{entries per subject: subjects}``, summing to
    ``subjects`` subjects and exactly ``entries`` entries. Skewed: most subjects have one."""
    top = min(MAX_ENTRIES_PER_SUBJECT, members)
    if not subjects <= entries <= subjects * top:
        raise ValueError("entries must be between subjects and subjects × min(5, members)")
    extra = entries - subjects
    counts = {k: 0 for k in range(1, top + 1)}
    counts[1] = subjects
    if extra == 0:
        return counts
    shares = {k: share for k, share in _MULTI_SHARES.items() if k <= top}
    total = sum(shares.values())
    shares = {k: share / total for k, share in shares.items()}
    mean_extra = sum(share * (k - 1) for k, share in shares.items())
    multi = min(subjects, round(extra / mean_extra))
    for k, share in shares.items():
        if k > 2:
            counts[k] = int(multi * share)
    counts[2] = extra - sum((k - 1) * counts[k] for k in shares if k > 2)
    if counts[2] >= 0 and sum(counts[k] for k in shares) <= subjects:
        counts[1] = subjects - sum(counts[k] for k in shares)
        return counts
    # Too many entries for the skewed mix: spread them evenly instead.
    base, more = divmod(entries, subjects)
    counts = {k: 0 for k in range(1, top + 1)}
    counts[base] = subjects - more
    if more:
        counts[base + 1] = more
    return counts


def _draw(key: str, salt: int) -> str:
    """A uniform number in [0, 1) derived from ``key`` (an SQL bigint expression) and ``salt``."""
    return f"((hashint8extended({key}, {SEED * 1000 + salt}) & 16777215)::float8 / 16777216.0)"


def _entries_sql(counts: dict[int, int]) -> str:
    bounds = []
    upper = 0
    for k in sorted(counts):
        if counts[k]:
            upper += counts[k]
            bounds.append(f"WHEN r.i < {upper} THEN {k}")
    per_subject = "CASE " + " ".join(bounds) + " END"
    entry_key = "(s.i * 8 + slot)"
    return f"""
    INSERT INTO registry_entry
        (member_id, hash_key_id, id_type, subject_hash, list, reason, event_date, expires_on, ends_on,
         reference, state, in_dispute, created_at, updated_at, state_changed_at)
    SELECT x.member_id, %(hash_key)s, x.id_type, x.subject_hash, x.list, x.reason, x.event_date, x.expires_on,
           LEAST(x.limit_day, x.expires_on), x.reference, x.state, FALSE, %(now)s, %(now)s, %(now)s
    FROM (
        SELECT d.*,
               CASE WHEN d.v4 < 0.03
                    THEN %(today)s::date + 31 + floor(d.v5 * ((d.limit_day - %(today)s::date) - 31))::integer
               END AS expires_on
        FROM (
            SELECT l.*,
                   (l.event_date + make_interval(years => CASE WHEN l.list = 'BLACK'
                        THEN %(black_years)s ELSE %(white_years)s END))::date AS limit_day
            FROM (
                SELECT e.*,
                       CASE WHEN e.list = 'BLACK' THEN
                            CASE WHEN e.v2 < 0.55 THEN 'SEVERE_OVERDUE' WHEN e.v2 < 0.73 THEN 'WRITE_OFF'
                                 WHEN e.v2 < 0.85 THEN 'OTHER_BLACK' WHEN e.v2 < 0.93 THEN 'FRAUD'
                                 ELSE 'COURT_ENFORCED' END
                       ELSE
                            CASE WHEN e.v2 < 0.60 THEN 'GOOD_REPAYMENT' WHEN e.v2 < 0.90 THEN 'LONG_TERM_CLIENT'
                                 ELSE 'VERIFIED_BUSINESS' END
                       END AS reason,
                       %(last_day)s::date - floor(e.v3 * CASE WHEN e.list = 'BLACK'
                            THEN %(black_span)s ELSE %(white_span)s END)::integer AS event_date
                FROM (
                    SELECT s.subject_hash, s.id_type,
                           (%(member_ids)s::bigint[])[1 + mod(s.m0 + slot, %(members)s)] AS member_id,
                           CASE WHEN (s.bad AND {_draw(entry_key, 11)} < 0.97)
                                  OR (NOT s.bad AND {_draw(entry_key, 11)} < 0.08)
                                THEN 'BLACK' ELSE 'WHITE' END AS list,
                           {_draw(entry_key, 12)} AS v2,
                           {_draw(entry_key, 13)} AS v3,
                           {_draw(entry_key, 14)} AS v4,
                           {_draw(entry_key, 15)} AS v5,
                           CASE WHEN {_draw(entry_key, 16)} < 0.02 THEN 'WITHDRAWN' ELSE 'ACTIVE' END AS state,
                           CASE WHEN {_draw(entry_key, 17)} < 0.8
                                THEN 'LN' || lpad({entry_key}::text, 10, '0') ELSE '' END AS reference
                    FROM (
                        SELECT r.i,
                               decode(md5(%(seed)s || ':a:' || r.i) || md5(%(seed)s || ':b:' || r.i), 'hex')
                                   AS subject_hash,
                               CASE WHEN r.u1 < 0.85 THEN 'RIC' WHEN r.u1 < 0.95 THEN 'USCC' ELSE 'MOBILE' END
                                   AS id_type,
                               floor(%(members)s * r.u2 * r.u2)::integer AS m0,
                               r.u3 < 0.86 AS bad,
                               {per_subject} AS n
                        FROM (
                            SELECT i, {_draw("i", 1)} AS u1, {_draw("i", 2)} AS u2, {_draw("i", 3)} AS u3
                            FROM generate_series(0::bigint, %(subjects)s - 1) AS i
                        ) r
                    ) s
                    CROSS JOIN LATERAL generate_series(0, s.n - 1) AS slot
                ) e
            ) l
        ) d
    ) x
    """  # noqa: S608 (constant fragments; every value is a bound parameter)


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str | None, str]]:
    """(index, constraint or None, definition) of every index of ``table`` but the primary key."""
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, c.conname,
                  CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid) ELSE pg_get_constraintdef(c.oid) END
           FROM pg_index i
           LEFT JOIN pg_constraint c
               ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('u', 'x')
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
           ORDER BY 1""",
        [table],
    )
    return [(str(index), constraint, str(definition)) for index, constraint, definition in cursor.fetchall()]


def _bulk_insert_entries(params: dict[str, Any], counts: dict[int, int], progress: Progress) -> None:
    """Insert the entries with the secondary indexes dropped and the foreign-key triggers off
    (the values are known to be valid), then build the indexes again exactly as they were."""
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, "registry_entry")
        for index, constraint, _definition in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE registry_entry DROP CONSTRAINT {constraint}")
            else:
                cursor.execute(f"DROP INDEX {index}")
        try:
            cursor.execute("SET session_replication_role = replica")
            replica = True
        except Exception:  # not a superuser: the foreign keys are checked, which is only slower
            replica = False
        started = time.monotonic()
        try:
            cursor.execute(_entries_sql(counts), params)
            inserted = cursor.rowcount
        finally:
            if replica:
                cursor.execute("SET session_replication_role = DEFAULT")
        progress(f"  {inserted:,} entries inserted in {time.monotonic() - started:.1f} s; building indexes")
        started = time.monotonic()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _index, constraint, definition in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE registry_entry ADD CONSTRAINT {constraint} {definition}")
            else:
                cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE registry_entry")
        progress(f"  {len(indexes)} indexes built in {time.monotonic() - started:.1f} s")


def _uscc(number: int) -> str:
    body = f"91440300MA5{number:06d}"
    return body + uscc_number.calc_check_digit(body)


def _set_marker(**values: Any) -> None:
    assignments = ", ".join(f"{name} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {MARKER} SET {assignments} WHERE id = 1", list(values.values()))  # noqa: S608


def _read_marker() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {MARKER} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
        names = [column.name for column in cursor.description]
    return dict(zip(names, row, strict=True))


def _consensus_records(region: Region) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_consensusrecord WHERE region_id = %s", [region.pk])
        return int(cursor.fetchone()[0])


def _make_organisations(spec: DatasetSpec) -> tuple[Region, list[Member]]:
    system = Actor.system("benchmark")
    with transaction.atomic():
        region = region_create(
            code=REGION_CODE, name="Benchmark region", actor=system, operator_name="Benchmark operator"
        )
        actor = Actor.system("benchmark", region)
        members = [
            member_create(region=region, name=f"Benchmark lender {n:02d}", uscc=_uscc(n), actor=actor)
            for n in range(1, spec.members + 1)
        ]
        # Some members are trusted less: the score is then not always a round number.
        for n, member in enumerate(members):
            if n % 5 == 4:
                members[n] = member_update(member=member, actor=actor, trust_weight=Decimal("0.8"))
    return region, members


def load_or_generate(spec: DatasetSpec, progress: Progress) -> Dataset:
    """The dataset of ``spec`` in the benchmark database: reused when the marker says it is
    there, generated otherwise."""
    marker = _read_marker()
    if marker["state"] == "ready":
        region = Region.objects.get(code=marker["region_code"])
        members = list(Member.objects.filter(region=region).order_by("pk"))
        progress(f"Reusing the generated dataset of {marker['generated_on']} ({marker['entries']:,} entries).")
        return Dataset(
            region=region,
            hash_key=region.current_hash_key,
            members=members,
            reused=True,
            generation_seconds=marker["generation_seconds"],
            fill_seconds=marker["fill_seconds"],
            consensus_records=_consensus_records(region),
        )
    if marker["state"] != "empty":
        raise RuntimeError(f"The benchmark database is in state {marker['state']!r}; run again with --fresh.")
    started = time.monotonic()
    _set_marker(state="generating")
    counts = subject_counts(spec.subjects, spec.entries, spec.members)
    progress(
        f"Generating {spec.entries:,} entries over {spec.subjects:,} subjects from {spec.members} members "
        f"(entries per subject: {', '.join(f'{k}: {n:,}' for k, n in counts.items() if n)})"
    )
    region, members = _make_organisations(spec)
    hash_key = region.current_hash_key
    today = timezone.localdate()
    last_day = today - datetime.timedelta(days=1)
    # Nothing generated ends within REUSE_DAYS + 1 days, so a reused dataset stays as it was made.
    margin = datetime.timedelta(days=REUSE_DAYS + 2)
    black_first = add_years(today, -region.black_retention_years) + margin
    white_first = add_years(today, -region.white_retention_years) + margin
    params = {
        "hash_key": hash_key.pk,
        "now": timezone.now(),
        "today": today,
        "last_day": last_day,
        "black_span": (last_day - black_first).days,
        "white_span": (last_day - white_first).days,
        "black_years": region.black_retention_years,
        "white_years": region.white_retention_years,
        "member_ids": [member.pk for member in members],
        "members": len(members),
        "subjects": spec.subjects,
        "seed": str(spec.seed),
    }
    _bulk_insert_entries(params, counts, progress)
    progress("Filling the consensus with the project's engine (consensus_recompute_region)")
    fill = consensus_recompute_region(region=region, cause=ConsensusCause.UPLOAD)
    progress(f"  {fill.subjects:,} subjects, {fill.changed:,} records written in {fill.seconds:.1f} s; vacuuming")
    with connection.cursor() as cursor:
        for table in ("registry_entry", "registry_consensusrecord", "registry_consensushistory"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    generation_seconds = round(time.monotonic() - started, 3)
    records = _consensus_records(region)
    _set_marker(
        state="ready",
        layout=LAYOUT,
        members=spec.members,
        entries=spec.entries,
        subjects=spec.subjects,
        seed=spec.seed,
        region_code=region.code,
        generated_on=today,
        generation_seconds=generation_seconds,
        fill_seconds=fill.seconds,
        details=json.dumps({"entries_per_subject": counts, "consensus_records": records}),
    )
    progress(f"Dataset ready in {generation_seconds:.1f} s ({records:,} consensus records).")
    return Dataset(
        region=region,
        hash_key=hash_key,
        members=members,
        reused=False,
        generation_seconds=generation_seconds,
        fill_seconds=fill.seconds,
        consensus_records=records,
    )
