"""Who may work on a member's uploads, and proof that the work is alive.

* ``member_upload_lock``: on PostgreSQL a session-level advisory lock per member, held for the
  whole job, so that two workers never process one member's uploads at once (ordered per
  member), while different members run in parallel. It dies with the worker's connection, so
  a killed worker never leaves it behind. SQLite (development) has one writer at a time and
  no such lock; there the heartbeat's age decides.
* ``Heartbeat``: a thread with its own connection that stamps ``heartbeat_at`` while the job
  runs, including during the one long apply transaction, so that the watchdog can tell a slow
  job from a dead one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from django.db import DatabaseError, InterfaceError, connection
from django.utils import timezone

from registry.models import Upload

logger = logging.getLogger("registry.uploads")

_MEMBER_LOCK_NAMESPACE = 0x55504C44  # "UPLD": the advisory lock space of members' upload jobs


def _lock_key(member_id: int) -> list[int]:
    return [_MEMBER_LOCK_NAMESPACE, member_id % (2**31)]


@contextmanager
def member_upload_lock(member_id: int) -> Iterator[bool]:
    """Try to take the member's upload lock without waiting; yields whether it was taken."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _lock_key(member_id))
        taken = bool(cursor.fetchone()[0])
    try:
        yield taken
    finally:
        if taken:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _lock_key(member_id))
            except (DatabaseError, InterfaceError):  # the connection is gone, and the lock with it
                logger.warning("could not release the upload lock of member %s", member_id)


def member_upload_lock_is_held(member_id: int) -> bool:
    """Whether a live session holds the member's upload lock (PostgreSQL; never on SQLite)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2",
            _lock_key(member_id),
        )
        return int(cursor.fetchone()[0]) > 0


class Heartbeat:
    """Stamps the upload's ``heartbeat_at`` every ``interval`` seconds from its own thread and
    connection (PostgreSQL; on SQLite the job stamps it between chunks itself)."""

    def __init__(self, upload_id: int, *, interval: float) -> None:
        self.upload_id = upload_id
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if connection.vendor == "postgresql" and self.interval > 0:
            self._thread = threading.Thread(target=self._run, name=f"upload-{self.upload_id}-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    Upload.objects.filter(pk=self.upload_id).update(heartbeat_at=timezone.now())
                except (DatabaseError, InterfaceError):
                    logger.warning("upload %s: heartbeat not written", self.upload_id, exc_info=True)
        finally:
            connection.close()
