"""PostgreSQL tools for the reliability tests: a second session that holds advisory locks,
so a test can stop a job at a known point inside its apply transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
from django.db import connection

from registry.sql.consensus import _LOCK_NAMESPACE as CONSENSUS_LOCKS


def other_session() -> Any:
    """A new connection to the test database, outside Django (autocommit)."""
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname=s["NAME"], user=s["USER"] or "postgres", host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432
    )
    conn.autocommit = True
    return conn


def buckets(hash_key_id: int, subject_hashes: Iterable[bytes]) -> list[int]:
    """The consensus engine's lock buckets of these subjects (``registry.sql.consensus``)."""
    return sorted({hash_key_id * 256 + h[0] for h in subject_hashes})


@contextmanager
def holding_consensus_locks(hash_key_id: int, subject_hashes: Iterable[bytes]) -> Iterator[Any]:
    """Hold the consensus locks of these subjects in another session: a job that reaches the
    consensus step of its apply transaction waits there, its merge written but not committed."""
    session = other_session()
    try:
        with session.cursor() as cursor:
            for bucket in buckets(hash_key_id, subject_hashes):
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CONSENSUS_LOCKS, bucket])
        yield session
    finally:
        session.close()


def someone_waits_for_consensus_locks(session: Any) -> bool:
    with session.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = %s",
            [CONSENSUS_LOCKS],
        )
        return int(cursor.fetchone()[0]) > 0


def wait_for(predicate: Callable[[], bool], seconds: float = 60.0) -> bool:
    """Poll a condition another thread or process makes true (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
