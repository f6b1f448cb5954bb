"""The upload pipeline's set-based SQL (``csv.md``), the same statements on PostgreSQL and
SQLite except for how rows reach the staging table.

Every statement works on the session's temporary tables, whatever the number of rows:

* ``_upload_stage``: every row of the file that names a readable subject (valid or not), with
  its physical line. Filled in chunks while the file streams: ``COPY`` on PostgreSQL,
  ``executemany`` on SQLite.
* ``_upload_plan``: the valid rows joined to the member's existing entries and classified as
  ``created``, ``updated``, ``unchanged`` or ``withdrawn``.
* ``_upload_gone``: a snapshot's active entries that the file does not mention.

Checks that need the whole file (a subject repeated within the file, the relisting block) and
the merge itself are single statements over these tables, so the cost follows the number of
rows changed rather than a Python loop, and memory does not grow with the file.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from registry.choices import EntryState, ListKind

STAGE = "_upload_stage"
# The staging table's columns, in the order the loaders write them.
STAGE_COLUMNS = (
    "line",
    "id_type",
    "subject_hash",
    "action",
    "list",
    "reason",
    "event_date",
    "expires_on",
    "ends_on",
    "reference",
    "valid",
)
_STAGE_DDL = {
    "postgresql": """CREATE TEMPORARY TABLE _upload_stage (
        line integer NOT NULL, id_type varchar(6) NOT NULL, subject_hash bytea NOT NULL,
        action varchar(8) NOT NULL, list varchar(5), reason varchar(20), event_date date,
        expires_on date, ends_on date, reference varchar(64), valid boolean NOT NULL)""",
    "sqlite": """CREATE TEMPORARY TABLE _upload_stage (
        line integer NOT NULL, id_type text NOT NULL, subject_hash blob NOT NULL,
        action text NOT NULL, list text, reason text, event_date text,
        expires_on text, ends_on text, reference text, valid bool NOT NULL)""",
}
_GONE_DDL = {
    "postgresql": "CREATE TEMPORARY TABLE _upload_gone (id bigint, hash_key_id bigint, id_type varchar(6),"
    " subject_hash bytea)",
    "sqlite": "CREATE TEMPORARY TABLE _upload_gone (id integer, hash_key_id integer, id_type text, subject_hash blob)",
}
_TEMP_TABLES = ("_upload_gone", "_upload_plan", "_upload_firsts", STAGE)
_SAME_SUBJECT = "{a}.id_type = {b}.id_type AND {a}.subject_hash = {b}.subject_hash"

CREATED, UPDATED, UNCHANGED, WITHDRAWN = "created", "updated", "unchanged", "withdrawn"
CHANGING_OUTCOMES = (CREATED, UPDATED, WITHDRAWN)


def _vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _date(value: datetime.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _timestamp(value: datetime.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# -- the staging table ------------------------------------------------------------------------


def stage_create(cursor: Any) -> None:
    """A fresh, empty staging table for this session (one upload at a time per connection)."""
    drop_all(cursor)
    cursor.execute(_STAGE_DDL[_vendor()])


def session_tune(cursor: Any) -> None:
    """PostgreSQL: room for the job's sorts and hashes over a million staged rows (with the
    default 4 MB work_mem they spill to disk: the duplicate check's GROUP BY, the consensus of
    the touched subjects), and for building the staging index. For this session only (the
    backend's memory, not the worker's); ``session_reset`` puts the defaults back."""
    if _vendor() == "postgresql":
        cursor.execute("SET work_mem = '64MB'")
        cursor.execute("SET maintenance_work_mem = '256MB'")


def session_reset(cursor: Any) -> None:
    if _vendor() == "postgresql":
        cursor.execute("RESET work_mem")
        cursor.execute("RESET maintenance_work_mem")


def drop_all(cursor: Any) -> None:
    for table in _TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


class _Blocks:
    """A read-only file over an iterator of text blocks, for ``COPY … FROM STDIN``: psycopg2
    calls ``read`` until it returns nothing, and sends each block as it comes."""

    def __init__(self, blocks: Iterator[str]) -> None:
        self._blocks = blocks

    def read(self, size: int = -1) -> str:
        return next(self._blocks, "")

    def readline(self, size: int = -1) -> str:  # pragma: no cover - COPY never asks for lines
        return self.read(size)


def stage_copy(cursor: Any, lines: Iterable[str], *, block_lines: int = 2000) -> None:
    """PostgreSQL: load rows in ``COPY`` text format (one line each, tab-separated) through a
    streaming reader, a block of lines at a time."""

    def blocks() -> Iterator[str]:
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) >= block_lines:
                yield "".join(block)
                block.clear()
        if block:
            yield "".join(block)

    columns = ", ".join(STAGE_COLUMNS)
    # The buffer size positionally: Django's debug cursor wrapper passes only positional arguments on.
    cursor.copy_expert(f"COPY {STAGE} ({columns}) FROM STDIN", _Blocks(blocks()), 1 << 16)


def stage_insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    """SQLite: load rows with ``executemany`` (its fastest bulk path inside one statement)."""
    placeholders = ", ".join(["%s"] * len(STAGE_COLUMNS))
    cursor.executemany(f"INSERT INTO {STAGE} ({', '.join(STAGE_COLUMNS)}) VALUES ({placeholders})", rows)


def stage_index(cursor: Any) -> None:
    """Index the loaded rows by subject (and refresh PostgreSQL's statistics on them)."""
    cursor.execute(f"CREATE INDEX _upload_stage_subject ON {STAGE} (id_type, subject_hash, line)")
    if _vendor() == "postgresql":
        cursor.execute(f"ANALYZE {STAGE}")


# -- checks that need the whole file ------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    errors: int  # error rows written (at most the remaining room of the report)
    invalidated: int  # rows that were valid until this check


def mark_duplicates(cursor: Any, *, upload_id: int, message_prefix: str, room: int) -> CheckResult:
    """A subject repeated within the file: every later row is an error naming the first line."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE _upload_firsts AS SELECT id_type, subject_hash, min(line) AS first_line"
        f" FROM {STAGE} GROUP BY id_type, subject_hash HAVING count(*) > 1"
    )
    cursor.execute("SELECT count(*) FROM _upload_firsts")
    if int(cursor.fetchone()[0]) == 0:
        cursor.execute("DROP TABLE _upload_firsts")
        return CheckResult(0, 0)
    cursor.execute(
        f"""INSERT INTO registry_uploaderror (upload_id, line, column_name, code, message, value)
        SELECT %s, s.line, 'subject_hash', 'duplicate_subject', %s || CAST(f.first_line AS TEXT), ''
        FROM {STAGE} s JOIN _upload_firsts f ON {_SAME_SUBJECT.format(a="f", b="s")}
        WHERE s.line > f.first_line ORDER BY s.line LIMIT %s""",
        [upload_id, message_prefix, max(room, 0)],
    )
    errors = max(cursor.rowcount, 0)
    cursor.execute(
        f"""UPDATE {STAGE} SET valid = FALSE WHERE valid AND EXISTS (
            SELECT 1 FROM _upload_firsts f WHERE {_SAME_SUBJECT.format(a="f", b=STAGE)}
            AND {STAGE}.line > f.first_line)"""
    )
    invalidated = cursor.rowcount
    cursor.execute("DROP TABLE _upload_firsts")
    return CheckResult(errors, invalidated)


def mark_relist_blocked(
    cursor: Any,
    *,
    upload_id: int,
    member_id: int,
    hash_key_id: int,
    today: datetime.date,
    message: tuple[str, str],
    room: int,
) -> CheckResult:
    """A valid BLACK row on a subject whose BLACK entry a dispute removed, while the block
    runs (``disputes.md``): the row is refused with ``relist_blocked``."""
    blocked = """FROM registry_relistblock b WHERE b.member_id = %s AND b.hash_key_id = %s
        AND b.id_type = {s}.id_type AND b.subject_hash = {s}.subject_hash
        AND b.lifted_at IS NULL AND b.until > %s"""
    black_upsert = f"{{s}}.valid AND {{s}}.action = 'UPSERT' AND {{s}}.list = '{ListKind.BLACK.value}'"
    block_params = [member_id, hash_key_id, _date(today)]
    cursor.execute(
        f"""INSERT INTO registry_uploaderror (upload_id, line, column_name, code, message, value)
        SELECT %s, s.line, 'list', 'relist_blocked', %s || CAST(max(b.until) AS TEXT) || %s, s.list
        FROM {STAGE} s JOIN registry_relistblock b ON b.member_id = %s AND b.hash_key_id = %s
            AND {_SAME_SUBJECT.format(a="b", b="s")} AND b.lifted_at IS NULL AND b.until > %s
        WHERE {black_upsert.format(s="s")}
        GROUP BY s.line, s.list ORDER BY s.line LIMIT %s""",
        [upload_id, message[0], message[1], *block_params, max(room, 0)],
    )
    errors = max(cursor.rowcount, 0)
    cursor.execute(
        f"UPDATE {STAGE} SET valid = FALSE WHERE {black_upsert.format(s=STAGE)}"
        f" AND EXISTS (SELECT 1 {blocked.format(s=STAGE)})",
        block_params,
    )
    return CheckResult(errors, cursor.rowcount)


# -- the merge ---------------------------------------------------------------------------------

_SAME_STATEMENT = (
    "e.list = s.list AND e.reason = s.reason AND e.event_date = s.event_date"
    " AND e.expires_on IS NOT DISTINCT FROM s.expires_on AND e.ends_on = s.ends_on AND e.reference = s.reference"
)


def classify(cursor: Any, *, member_id: int, hash_key_id: int) -> dict[str, int]:
    """Join the valid rows to the member's entries and decide what each row does, the same
    way the single-entry service does: a new subject is created; a statement that differs, or
    that lists a subject whose entry is not active, updates (and reactivates) the entry; an
    identical statement on an active entry is unchanged; a withdrawal withdraws an active
    entry and leaves anything else unchanged. Returns the count of each outcome."""
    active = EntryState.ACTIVE.value
    cursor.execute("DROP TABLE IF EXISTS _upload_plan")
    cursor.execute(
        f"""CREATE TEMPORARY TABLE _upload_plan AS
        SELECT s.line, s.id_type, s.subject_hash, s.list, s.reason, s.event_date, s.expires_on, s.ends_on,
               s.reference, e.id AS entry_id,
               CASE
                 WHEN s.action = 'WITHDRAW' THEN
                   CASE WHEN e.state = '{active}' THEN '{WITHDRAWN}' ELSE '{UNCHANGED}' END
                 WHEN e.id IS NULL THEN '{CREATED}'
                 WHEN e.state = '{active}' AND {_SAME_STATEMENT} THEN '{UNCHANGED}'
                 ELSE '{UPDATED}'
               END AS outcome
        FROM {STAGE} s
        LEFT JOIN registry_entry e ON e.member_id = %s AND e.hash_key_id = %s AND {_SAME_SUBJECT.format(a="e", b="s")}
        WHERE s.valid""",
        [member_id, hash_key_id],
    )
    if _vendor() == "postgresql":
        cursor.execute("ANALYZE _upload_plan")
    cursor.execute("SELECT outcome, count(*) FROM _upload_plan GROUP BY outcome")
    counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, WITHDRAWN: 0}
    counts.update({str(outcome): int(n) for outcome, n in cursor.fetchall()})
    return counts


def snapshot_gone(cursor: Any, *, member_id: int, hash_key_id: int, snapshot: bool) -> tuple[int, int]:
    """Fill ``_upload_gone`` with the member's active entries (under the file's key) that the
    file does not mention, valid row or not (empty unless ``snapshot``). Returns
    ``(entries to withdraw, active entries)``."""
    cursor.execute("DROP TABLE IF EXISTS _upload_gone")
    cursor.execute(_GONE_DDL[_vendor()])
    if not snapshot:
        return 0, 0
    active = EntryState.ACTIVE.value
    cursor.execute(
        f"""INSERT INTO _upload_gone (id, hash_key_id, id_type, subject_hash)
        SELECT e.id, e.hash_key_id, e.id_type, e.subject_hash FROM registry_entry e
        WHERE e.member_id = %s AND e.hash_key_id = %s AND e.state = '{active}'
          AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE {_SAME_SUBJECT.format(a="s", b="e")})""",
        [member_id, hash_key_id],
    )
    gone = max(cursor.rowcount, 0)
    cursor.execute(
        f"SELECT count(*) FROM registry_entry WHERE member_id = %s AND hash_key_id = %s AND state = '{active}'",
        [member_id, hash_key_id],
    )
    return gone, int(cursor.fetchone()[0])


def apply_changes(cursor: Any, *, member_id: int, hash_key_id: int, now: datetime.datetime) -> int:
    """Write the plan: insert the new entries, update the changed ones (a new statement
    replaces the old, may switch the list, and reactivates a withdrawn, expired or removed
    entry), withdraw the withdrawn rows and a snapshot's missing entries. Returns the number
    of entries the snapshot withdrew."""
    ts = _timestamp(now)
    active, withdrawn = EntryState.ACTIVE.value, EntryState.WITHDRAWN.value
    # Sorted by the unique index's key: PostgreSQL inserts into the index pages in order.
    cursor.execute(
        f"""INSERT INTO registry_entry
            (member_id, hash_key_id, id_type, subject_hash, list, reason, event_date, expires_on, ends_on,
             reference, state, in_dispute, created_at, updated_at, state_changed_at)
        SELECT %s, %s, p.id_type, p.subject_hash, p.list, p.reason, p.event_date, p.expires_on, p.ends_on,
               p.reference, '{active}', FALSE, %s, %s, %s
        FROM _upload_plan p WHERE p.outcome = '{CREATED}' ORDER BY p.id_type, p.subject_hash""",
        [member_id, hash_key_id, ts, ts, ts],
    )
    cursor.execute(
        f"""UPDATE registry_entry AS e SET list = p.list, reason = p.reason, event_date = p.event_date,
            expires_on = p.expires_on, ends_on = p.ends_on, reference = p.reference,
            state_changed_at = CASE WHEN e.state <> '{active}' THEN %s ELSE e.state_changed_at END,
            state = '{active}', updated_at = %s
        FROM _upload_plan p WHERE p.outcome = '{UPDATED}' AND e.id = p.entry_id""",
        [ts, ts],
    )
    cursor.execute(
        f"""UPDATE registry_entry SET state = '{withdrawn}', state_changed_at = %s, updated_at = %s
        WHERE id IN (SELECT entry_id FROM _upload_plan WHERE outcome = '{WITHDRAWN}')""",
        [ts, ts],
    )
    cursor.execute(
        f"""UPDATE registry_entry SET state = '{withdrawn}', state_changed_at = %s, updated_at = %s
        WHERE state = '{active}' AND id IN (SELECT id FROM _upload_gone)""",
        [ts, ts],
    )
    return max(cursor.rowcount, 0)


def touched_subjects(*, hash_key_id: int) -> tuple[str, list[Any]]:
    """The subjects whose entries the merge changed (the staged rows that changed something
    and the snapshot's withdrawn entries), for ``registry.sql.consensus.recompute``."""
    outcomes = ", ".join(f"'{o}'" for o in CHANGING_OUTCOMES)
    sql = (
        f"SELECT CAST(%s AS BIGINT) AS hash_key_id, p.id_type, p.subject_hash FROM _upload_plan p"
        f" WHERE p.outcome IN ({outcomes})"
        " UNION ALL SELECT g.hash_key_id, g.id_type, g.subject_hash FROM _upload_gone g"
    )
    return sql, [hash_key_id]
