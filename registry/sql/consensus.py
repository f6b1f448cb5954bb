"""The consensus engine as set-based SQL (``consensus.md``), the same statements on
PostgreSQL and SQLite.

``recompute(subjects_sql, ...)`` recomputes every subject that ``subjects_sql`` selects
(columns ``hash_key_id, id_type, subject_hash``) in a fixed number of statements, whatever
the number of subjects:

1. the touched subjects go into a temporary table;
2. on PostgreSQL, a transaction-scoped advisory lock per (hash key, first hash byte) bucket,
   taken in a fixed order, serialises recomputes of the same subjects by concurrent writers:
   the statements after the lock see every entry committed before it, so the last writer
   always counts everyone's entries (SQLite has a single writer anyway);
3. the region's policy is read as committed after the locks, then one ``GROUP BY`` over the
   counted entries computes score, status, counts and flags into a second temporary table;
4. changes of status or score are appended to the history, changed records updated and new
   ones inserted (finding the changed rows first keeps the writes proportional to the
   changes, not to the subjects).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from lenders.models import Region
from registry.choices import (
    BLACK_REASONS,
    DISPUTE_ACTIVE_STATES,
    REASON_COLUMNS,
    ConsensusStatus,
    EntryState,
    ListKind,
)

_LOCK_NAMESPACE = 0x52454731  # "REG1": the advisory lock space of consensus buckets
# Consensus fields compared to decide whether a record changed.
CONSENSUS_FIELDS = (
    "status",
    "black_score",
    "black_members",
    "white_members",
    *REASON_COLUMNS.values(),
    "latest_black_event_date",
    "conflict",
    "disputed",
    "valid_until",
)
_KEY_MATCH = "{a}.hash_key_id = {b}.hash_key_id AND {a}.id_type = {b}.id_type AND {a}.subject_hash = {b}.subject_hash"


def disputed_sql(subject: str) -> str:
    """Whether the subject of row ``subject`` (an alias with hash_key_id, id_type, subject_hash)
    has an ``OPEN`` or ``ESCALATED`` dispute (``consensus.md``: the ``disputed`` flag). The
    partial unique index of open disputes answers it with one probe per subject."""
    states = ", ".join(f"'{state}'" for state in sorted(DISPUTE_ACTIVE_STATES))
    return f"EXISTS (SELECT 1 FROM registry_dispute dd WHERE {_match('dd', subject)} AND dd.state IN ({states}))"


@dataclass(frozen=True)
class RecomputeResult:
    subjects: int
    changed: int


def _policy_params(region: Region) -> tuple[str, list[Any]]:
    """The severity CASE expression and its parameters, from the region's policy."""
    cases = []
    params: list[Any] = []
    for code in sorted(BLACK_REASONS):
        cases.append("WHEN %s THEN CAST(%s AS NUMERIC)")
        params += [code, str(region.severity_weights.get(code, "0"))]
    return "CASE e.reason " + " ".join(cases) + " ELSE 0 END", params


def _match(a: str, b: str) -> str:
    return _KEY_MATCH.format(a=a, b=b)


# A subject whose stored record differs from its recomputation, or that should have a record
# and has none. A missing record of a CLEAR subject is what "never seen" looks like: no difference.
_DIFFERS = " OR ".join(f"c.{name} IS DISTINCT FROM n.{name}" for name in CONSENSUS_FIELDS)


def _prepare(
    cursor: Any,
    *,
    region: Region,
    subjects_sql: str | None,
    subjects_params: list[Any],
    today: datetime.date,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill ``_cons_new`` (the recomputed consensus) and ``_cons_diff`` (its rows that differ
    from the stored records); return the number of subjects recomputed.

    ``subjects_sql`` selects the subjects to recompute; ``None`` means every subject of the
    region, computed in one pass over the region's entries instead of subject by subject."""
    vendor = connection.vendor
    for table in ("_cons_touched", "_cons_new", "_cons_diff"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    whole_region = subjects_sql is None
    if whole_region:
        if vendor == "postgresql":
            # Every bucket of every key of the region, in a fixed order; the one pass needs
            # room to group millions of entries without spilling to disk.
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, b.bucket)) FROM ("
                " SELECT (k.id * 256 + g.n)::integer AS bucket FROM lenders_hashkey k"
                " CROSS JOIN generate_series(0, 255) AS g(n) WHERE k.region_id = %s ORDER BY 1) b",
                [_LOCK_NAMESPACE, region.pk],
            )
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("ANALYZE lenders_member")
    else:
        cursor.execute(
            "CREATE TEMPORARY TABLE _cons_touched AS "
            f"SELECT DISTINCT s.hash_key_id, s.id_type, s.subject_hash FROM ({subjects_sql}) s",
            subjects_params,
        )
        cursor.execute("SELECT count(*) FROM _cons_touched")
        if int(cursor.fetchone()[0]) == 0:
            return 0
        if vendor == "postgresql":
            cursor.execute("ANALYZE _cons_touched")
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, b.bucket)) FROM ("
                " SELECT DISTINCT (hash_key_id * 256 + get_byte(subject_hash, 0))::integer AS bucket"
                " FROM _cons_touched ORDER BY 1) b",
                [_LOCK_NAMESPACE],
            )
    if progress is not None:
        progress(1)
    # The policy as committed now, after the locks: the caller's region may have been loaded
    # before a policy change whose region recompute has already passed these subjects.
    region = Region.objects.get(pk=region.pk)

    severity_sql, severity_params = _policy_params(region)
    decisive = [code for code in region.decisive_reasons if code in BLACK_REASONS]
    decisive_sql = f"e.reason IN ({', '.join(['%s'] * len(decisive))})" if decisive else "FALSE"
    reason_counts = ",\n".join(
        f"count(*) FILTER (WHERE e.reason = '{code}') AS {column}" for code, column in REASON_COLUMNS.items()
    )
    counted = (
        "e.state = %s AND e.ends_on > %s AND NOT m.excluded_from_consensus"
        " AND (m.status = 'ACTIVE' OR %s) AND NOT (%s AND e.in_dispute)"
    )
    counted_params = [EntryState.ACTIVE.value, today, region.count_suspended_members, region.suspend_disputed_entries]
    black, white = ListKind.BLACK.value, ListKind.WHITE.value
    if whole_region:
        entries_from = "registry_entry e JOIN lenders_hashkey ek ON ek.id = e.hash_key_id AND ek.region_id = %s"
        counted_params = [region.pk, *counted_params]
    else:
        entries_from = f"_cons_touched t JOIN registry_entry e ON {_match('e', 't')}"
    aggregate = f"""
        SELECT e.hash_key_id, e.id_type, e.subject_hash,
               count(*) FILTER (WHERE e.list = '{black}') AS black_members,
               count(*) FILTER (WHERE e.list = '{white}') AS white_members,
               registry_score(registry_product(1 - ({severity_sql}) * m.trust_weight)
                              FILTER (WHERE e.list = '{black}')) AS black_score,
               count(*) FILTER (WHERE e.list = '{black}' AND {decisive_sql}) AS decisive_members,
               {reason_counts},
               max(e.event_date) FILTER (WHERE e.list = '{black}') AS latest_black_event_date,
               min(e.ends_on) AS valid_until
        FROM {entries_from}
        JOIN lenders_member m ON m.id = e.member_id
        WHERE {counted}
        GROUP BY e.hash_key_id, e.id_type, e.subject_hash
    """
    status_sql = f"""CASE
        WHEN a.black_members > 0 AND ((a.black_score >= %s AND a.black_members >= %s) OR a.decisive_members > 0)
            THEN '{ConsensusStatus.BLACK}'
        WHEN a.black_members > 0 THEN '{ConsensusStatus.WATCH}'
        WHEN a.white_members > 0 THEN '{ConsensusStatus.WHITE}'
        ELSE '{ConsensusStatus.CLEAR}' END"""
    reason_select = ", ".join(f"COALESCE(a.{column}, 0) AS {column}" for column in REASON_COLUMNS.values())
    subject_alias = "a" if whole_region else "t"
    columns = f"""
               COALESCE({status_sql}, '{ConsensusStatus.CLEAR}') AS status,
               COALESCE(a.black_score, 0) AS black_score,
               COALESCE(a.black_members, 0) AS black_members,
               COALESCE(a.white_members, 0) AS white_members,
               {reason_select},
               a.latest_black_event_date AS latest_black_event_date,
               (COALESCE(a.black_members, 0) > 0 AND COALESCE(a.white_members, 0) > 0) AS conflict,
               ({disputed_sql(subject_alias)}) AS disputed,
               a.valid_until AS valid_until"""
    params = [region.black_score_threshold, region.min_black_members, *severity_params, *decisive, *counted_params]
    if whole_region:
        # Subjects with counted entries, then those whose stored record has none any more.
        cursor.execute(
            f"""CREATE TEMPORARY TABLE _cons_new AS
            SELECT k.region_id, a.hash_key_id, a.id_type, a.subject_hash, {columns}
            FROM ({aggregate}) a JOIN lenders_hashkey k ON k.id = a.hash_key_id""",
            params,
        )
        cursor.execute(
            f"""INSERT INTO _cons_new
            SELECT c.region_id, c.hash_key_id, c.id_type, c.subject_hash, '{ConsensusStatus.CLEAR}', 0, 0, 0,
                   {", ".join("0" for _ in REASON_COLUMNS)}, NULL, FALSE, ({disputed_sql("c")}), NULL
            FROM registry_consensusrecord c
            WHERE c.region_id = %s AND NOT EXISTS (SELECT 1 FROM _cons_new n WHERE {_match("n", "c")})""",
            [region.pk],
        )
    else:
        cursor.execute(
            f"""CREATE TEMPORARY TABLE _cons_new AS
            SELECT k.region_id, t.hash_key_id, t.id_type, t.subject_hash, {columns}
            FROM _cons_touched t
            JOIN lenders_hashkey k ON k.id = t.hash_key_id
            LEFT JOIN ({aggregate}) a ON {_match("a", "t")}""",
            params,
        )
    cursor.execute("SELECT count(*) FROM _cons_new")
    subjects = int(cursor.fetchone()[0])
    if vendor == "postgresql":
        cursor.execute("ANALYZE _cons_new")
    if progress is not None:
        progress(2)
    # Find the changed rows once; the writes below then touch only them.
    cursor.execute(
        f"""CREATE TEMPORARY TABLE _cons_diff AS
        SELECT n.*, c.id AS record_id, c.status AS old_status, c.black_score AS old_score
        FROM _cons_new n LEFT JOIN registry_consensusrecord c ON {_match("c", "n")}
        WHERE (c.id IS NULL AND n.status <> '{ConsensusStatus.CLEAR}') OR (c.id IS NOT NULL AND ({_DIFFERS}))"""
    )
    return subjects


def _drop(cursor: Any) -> None:
    for table in ("_cons_diff", "_cons_new", "_cons_touched"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def recompute(
    *,
    region: Region,
    subjects_sql: str | None,
    subjects_params: list[Any],
    today: datetime.date,
    now: datetime.datetime,
    cause: str,
    cause_ref: str = "",
    progress: Callable[[int], None] | None = None,
) -> RecomputeResult:
    """Recompute the consensus of the selected subjects of ``region`` (every subject when
    ``subjects_sql`` is None). Run it inside the transaction that changed their entries.
    ``progress`` hears of each finished phase (1: locks taken, 2: computed)."""
    with connection.cursor() as cursor:
        subjects = _prepare(
            cursor,
            region=region,
            subjects_sql=subjects_sql,
            subjects_params=subjects_params,
            today=today,
            progress=progress,
        )
        if subjects == 0:
            _drop(cursor)
            return RecomputeResult(0, 0)
        cursor.execute(
            """INSERT INTO registry_consensushistory
                (region_id, hash_key_id, id_type, subject_hash, changed_at, cause, cause_ref,
                 old_status, new_status, old_score, new_score)
            SELECT d.region_id, d.hash_key_id, d.id_type, d.subject_hash, %s, %s, %s,
                   COALESCE(d.old_status, ''), d.status, d.old_score, d.black_score
            FROM _cons_diff d
            WHERE d.record_id IS NULL OR d.old_status <> d.status OR d.old_score <> d.black_score""",
            [now, cause, cause_ref[:64]],
        )
        assignments = ", ".join(f"{name} = d.{name}" for name in CONSENSUS_FIELDS)
        cursor.execute(
            f"""UPDATE registry_consensusrecord SET {assignments}, updated_at = %s
            FROM _cons_diff d WHERE registry_consensusrecord.id = d.record_id""",
            [now],
        )
        changed = cursor.rowcount
        columns = ", ".join(CONSENSUS_FIELDS)
        values = ", ".join("d." + name for name in CONSENSUS_FIELDS)
        cursor.execute(
            f"""INSERT INTO registry_consensusrecord
                (region_id, hash_key_id, id_type, subject_hash, {columns}, updated_at)
            SELECT d.region_id, d.hash_key_id, d.id_type, d.subject_hash, {values}, %s
            FROM _cons_diff d WHERE d.record_id IS NULL""",
            [now],
        )
        changed += cursor.rowcount
        _drop(cursor)
    return RecomputeResult(subjects=subjects, changed=changed)


@dataclass(frozen=True)
class Differences:
    subjects: int
    keys: list[tuple[int, str, bytes]]


def differences(
    *, region: Region, subjects_sql: str | None, subjects_params: list[Any], today: datetime.date
) -> Differences:
    """Recompute the selected subjects without storing anything; return those whose stored
    consensus differs from the recomputation."""
    with connection.cursor() as cursor:
        subjects = _prepare(
            cursor, region=region, subjects_sql=subjects_sql, subjects_params=subjects_params, today=today
        )
        keys: list[tuple[int, str, bytes]] = []
        if subjects:
            cursor.execute("SELECT hash_key_id, id_type, subject_hash FROM _cons_diff ORDER BY 1, 2, 3")
            keys = [(int(k), str(t), bytes(h)) for k, t, h in cursor.fetchall()]
        _drop(cursor)
    return Differences(subjects=subjects, keys=keys)
