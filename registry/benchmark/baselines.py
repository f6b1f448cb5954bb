"""The bare-SQL ceilings of ``quality.md``, run through psycopg2 on the benchmark's data.

They are what the product's operations are compared with, not part of the product: a naive
whole-region consensus statement, one primary-key lookup, and the ``= ANY`` batch read.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import psycopg2

from lenders.models import Region
from registry.benchmark.views import CEILING_COLUMNS
from registry.choices import BLACK_REASONS, REASON_COLUMNS, ConsensusStatus, EntryState, ListKind

SCRATCH_TABLE = "bench_consensus"
_KEY = ("hash_key_id", "id_type", "subject_hash")
# The columns a consensus record holds besides its key, its region and its id.
_VALUE_COLUMNS = (
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


def connect(settings_dict: dict[str, Any]) -> Any:
    """A plain psycopg2 connection to the database Django is configured with."""
    connection = psycopg2.connect(
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        dbname=settings_dict["NAME"],
    )
    connection.autocommit = True
    return connection


def create_scratch_table(connection: Any) -> None:
    """A table shaped like the consensus (same columns, constraints and indexes), for the naive statement."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        cursor.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE registry_consensusrecord INCLUDING ALL)")


def naive_consensus_sql(
    region: Region,
    today: datetime.date,
    now: datetime.datetime,
    *,
    into: str = SCRATCH_TABLE,
    touched_sql: str | None = None,
) -> tuple[str, list[Any]]:
    """One ``INSERT … SELECT … GROUP BY subject … ON CONFLICT DO UPDATE`` into ``into`` over
    every subject of the region, or only those ``touched_sql`` selects (columns ``id_type,
    subject_hash``), computing what ``consensus.md`` says a record holds (disputes aside: no
    subject is disputed in the generated data)."""
    severity_cases, severity_params = [], []
    for code in sorted(BLACK_REASONS):
        severity_cases.append("WHEN %s THEN CAST(%s AS NUMERIC)")
        severity_params += [code, str(region.severity_weights.get(code, "0"))]
    severity = "CASE e.reason " + " ".join(severity_cases) + " ELSE 0 END"
    decisive = [code for code in region.decisive_reasons if code in BLACK_REASONS]
    decisive_sql = f"e.reason IN ({', '.join(['%s'] * len(decisive))})" if decisive else "FALSE"
    black, white = ListKind.BLACK.value, ListKind.WHITE.value
    reason_counts = ", ".join(
        f"count(*) FILTER (WHERE e.reason = '{code}') AS {column}" for code, column in REASON_COLUMNS.items()
    )
    columns = ", ".join(_VALUE_COLUMNS)
    touched_join = (
        f"JOIN ({touched_sql}) t ON t.id_type = e.id_type AND t.subject_hash = e.subject_hash" if touched_sql else ""
    )
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in (*_VALUE_COLUMNS, "updated_at"))
    statement = f"""
        INSERT INTO {into} (region_id, hash_key_id, id_type, subject_hash, {columns}, updated_at)
        SELECT a.region_id, a.hash_key_id, a.id_type, a.subject_hash,
               CASE WHEN a.black_members > 0
                         AND ((a.black_score >= %s AND a.black_members >= %s) OR a.decisive_members > 0)
                    THEN '{ConsensusStatus.BLACK}'
                    WHEN a.black_members > 0 THEN '{ConsensusStatus.WATCH}'
                    WHEN a.white_members > 0 THEN '{ConsensusStatus.WHITE}'
                    ELSE '{ConsensusStatus.CLEAR}' END,
               a.black_score, a.black_members, a.white_members,
               {", ".join("a." + column for column in REASON_COLUMNS.values())},
               a.latest_black_event_date, a.black_members > 0 AND a.white_members > 0, FALSE, a.valid_until, %s
        FROM (
            SELECT k.region_id, e.hash_key_id, e.id_type, e.subject_hash,
                   count(*) FILTER (WHERE e.list = '{black}') AS black_members,
                   count(*) FILTER (WHERE e.list = '{white}') AS white_members,
                   registry_score(registry_product(1 - ({severity}) * m.trust_weight)
                                  FILTER (WHERE e.list = '{black}')) AS black_score,
                   count(*) FILTER (WHERE e.list = '{black}' AND {decisive_sql}) AS decisive_members,
                   {reason_counts},
                   max(e.event_date) FILTER (WHERE e.list = '{black}') AS latest_black_event_date,
                   min(e.ends_on) AS valid_until
            FROM registry_entry e
            {touched_join}
            JOIN lenders_member m ON m.id = e.member_id
            JOIN lenders_hashkey k ON k.id = e.hash_key_id
            WHERE k.region_id = %s AND e.state = %s AND e.ends_on > %s AND NOT m.excluded_from_consensus
              AND (m.status = 'ACTIVE' OR %s) AND NOT (%s AND e.in_dispute)
            GROUP BY k.region_id, e.hash_key_id, e.id_type, e.subject_hash
        ) a
        ON CONFLICT ({", ".join(_KEY)}) DO UPDATE SET {updates}
    """  # noqa: S608 (constant fragments; every value is a bound parameter)
    params: list[Any] = [
        region.black_score_threshold,
        region.min_black_members,
        now,
        *severity_params,
        *decisive,
        region.pk,
        EntryState.ACTIVE.value,
        today,
        region.count_suspended_members,
        region.suspend_disputed_entries,
    ]
    return statement, params


def naive_consensus_run(connection: Any, region: Region, today: datetime.date, now: datetime.datetime) -> float:
    """Empty the scratch table, then time the naive statement (committed). Seconds."""
    statement, params = naive_consensus_sql(region, today, now)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {SCRATCH_TABLE}")
        started = time.perf_counter()
        cursor.execute(statement, params)
    return time.perf_counter() - started


def naive_differences(connection: Any, region: Region) -> int:
    """How many subjects the naive statement computed differently from the project's stored
    consensus (0 when the ceiling computes the same thing)."""
    differs = " OR ".join(f"b.{name} IS DISTINCT FROM c.{name}" for name in _VALUE_COLUMNS)
    match = " AND ".join(f"b.{name} = c.{name}" for name in _KEY)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {SCRATCH_TABLE} b
                FULL JOIN (SELECT * FROM registry_consensusrecord WHERE region_id = %s) c ON {match}
                WHERE (b.id IS NULL AND c.status <> %s) OR (c.id IS NULL) OR (b.id IS NOT NULL AND ({differs}))""",  # noqa: S608
            [region.pk, ConsensusStatus.CLEAR.value],
        )
        return int(cursor.fetchone()[0])


_SELECT = ", ".join(("id_type", "subject_hash", *CEILING_COLUMNS))
SINGLE_SQL = (
    f"SELECT {_SELECT} FROM registry_consensusrecord"  # noqa: S608 (constant column names)
    " WHERE hash_key_id = %s AND id_type = %s AND subject_hash = %s"
)
BATCH_SQL = (
    f"SELECT {_SELECT} FROM registry_consensusrecord"  # noqa: S608 (constant column names)
    " WHERE hash_key_id = %s AND subject_hash = ANY(%s)"
)


# The same read keyed on the whole unique index (hash key, id type, hash): ``= ANY`` on the hash
# alone cannot seek in that index, whose middle column is the id type.
BATCH_SQL_INDEXED = (
    f"SELECT {', '.join('c.' + name for name in ('id_type', 'subject_hash', *CEILING_COLUMNS))}"  # noqa: S608
    " FROM unnest(%s::varchar[], %s::bytea[]) AS q(id_type, subject_hash)"
    " JOIN registry_consensusrecord c ON c.hash_key_id = %s AND c.id_type = q.id_type"
    " AND c.subject_hash = q.subject_hash"
)


def single_lookups(
    connection: Any, hash_key_id: int, subjects: list[tuple[str, bytes]], seconds: float
) -> tuple[int, float, list[float]]:
    """One connection, one primary-key lookup after another for ``seconds``: (count, elapsed, latencies)."""
    latencies: list[float] = []
    with connection.cursor() as cursor:
        started = time.perf_counter()
        deadline = started + seconds
        index = 0
        while True:
            id_type, subject_hash = subjects[index % len(subjects)]
            index += 1
            before = time.perf_counter()
            cursor.execute(SINGLE_SQL, [hash_key_id, id_type, subject_hash])
            cursor.fetchall()
            after = time.perf_counter()
            latencies.append(after - before)
            if after >= deadline:
                break
    return len(latencies), after - started, latencies


def batch_lookup(
    connection: Any, hash_key_id: int, subjects: list[tuple[str, bytes]], *, indexed: bool = False
) -> tuple[float, int]:
    """The ``= ANY`` read of the subjects' consensus rows (``indexed``: the variant that seeks
    the unique index): (seconds, rows found)."""
    hashes = [subject_hash for _id_type, subject_hash in subjects]
    if indexed:
        statement, params = BATCH_SQL_INDEXED, [[id_type for id_type, _h in subjects], hashes, hash_key_id]
    else:
        statement, params = BATCH_SQL, [hash_key_id, hashes]
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(statement, params)
        rows = cursor.fetchall()
        return time.perf_counter() - started, len(rows)


# -- the import baseline ---------------------------------------------------------------------------

IMPORT_STAGE = "bench_import_stage"
# The columns of the benchmark's upload files, in their order (``registry.benchmark.imports``).
IMPORT_COLUMNS = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference")


def import_entries_sql() -> str:
    """The naive merge: one ``INSERT … SELECT … ON CONFLICT (member, subject) DO UPDATE`` of
    every staged row into the entries, computing ``ends_on`` as the services do."""
    return f"""
        INSERT INTO registry_entry
            (member_id, hash_key_id, id_type, subject_hash, list, reason, event_date, expires_on, ends_on,
             reference, state, in_dispute, created_at, updated_at, state_changed_at)
        SELECT %(member)s, %(key)s, s.id_type, decode(s.subject_hash, 'hex'), s.list, s.reason, s.event_date,
               s.expires_on,
               LEAST((s.event_date + make_interval(years => CASE WHEN s.list = '{ListKind.BLACK.value}'
                     THEN %(black_years)s ELSE %(white_years)s END))::date, s.expires_on),
               COALESCE(s.reference, ''), '{EntryState.ACTIVE.value}', FALSE, %(now)s, %(now)s, %(now)s
        FROM {IMPORT_STAGE} s
        ON CONFLICT (member_id, hash_key_id, id_type, subject_hash) DO UPDATE SET
            list = EXCLUDED.list, reason = EXCLUDED.reason, event_date = EXCLUDED.event_date,
            expires_on = EXCLUDED.expires_on, ends_on = EXCLUDED.ends_on, reference = EXCLUDED.reference,
            state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
    """  # noqa: S608 (constant fragments; every value is a bound parameter)


def import_run(
    connection: Any,
    *,
    path: str,
    region: Region,
    member_id: int,
    hash_key_id: int,
    today: datetime.date,
    now: datetime.datetime,
) -> dict[str, float]:
    """The bare-SQL import baseline of ``quality.md`` on the file at ``path``, in one
    transaction (committed): ``COPY`` into an unlogged staging table, one ``INSERT … ON
    CONFLICT`` into the entries, one ``INSERT … GROUP BY … ON CONFLICT DO UPDATE`` into the
    consensus of the touched subjects. Returns the seconds of each statement and in all."""
    touched = f"SELECT DISTINCT id_type, decode(subject_hash, 'hex') AS subject_hash FROM {IMPORT_STAGE}"  # noqa: S608
    consensus, consensus_params = naive_consensus_sql(
        region, today, now, into="registry_consensusrecord", touched_sql=touched
    )
    entry_params = {
        "member": member_id,
        "key": hash_key_id,
        "now": now,
        "black_years": region.black_retention_years,
        "white_years": region.white_retention_years,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {IMPORT_STAGE}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {IMPORT_STAGE} (id_type text, subject_hash text, list text, reason text,"
            " event_date date, expires_on date, reference text)"
        )
    connection.autocommit = False
    seconds: dict[str, float] = {}
    try:
        with connection.cursor() as cursor, open(path, encoding="utf-8") as file:
            started = lap = time.perf_counter()
            cursor.copy_expert(
                f"COPY {IMPORT_STAGE} ({', '.join(IMPORT_COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER)", file
            )
            seconds["copy"], lap = time.perf_counter() - lap, time.perf_counter()
            cursor.execute(import_entries_sql(), entry_params)
            seconds["entries"], lap = time.perf_counter() - lap, time.perf_counter()
            cursor.execute(consensus, consensus_params)
            seconds["consensus"], lap = time.perf_counter() - lap, time.perf_counter()
            connection.commit()
            seconds["commit"] = time.perf_counter() - lap
            seconds["total"] = time.perf_counter() - started
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {IMPORT_STAGE}")
    return {name: round(value, 3) for name, value in seconds.items()}
