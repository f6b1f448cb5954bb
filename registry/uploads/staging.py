"""Writing what the file holds while it streams, in bounded chunks: rows into the session's
staging table (``COPY`` on PostgreSQL, ``executemany`` on SQLite) and row errors into
``UploadError`` (bulk inserts), so that memory holds one chunk at a time."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.db import connection

from registry.models import UploadError
from registry.services.entry_rules import EntryRow
from registry.sql import imports as imports_sql

_ERROR_BATCH = 2000
_VALUE_MAX = 100
_NULL = "\\N"


def _copy_text(value: str) -> str:
    # COPY's text format: backslash, tab and line breaks are escaped (the row rules already
    # refuse control characters in a valid reference; an invalid row stages no reference).
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_date(value: datetime.date | None) -> str:
    return value.isoformat() if value is not None else _NULL


class StageWriter:
    """Buffers staged rows and loads them a chunk at a time."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._postgres = connection.vendor == "postgresql"
        self._copy_lines: list[str] = []
        self._rows: list[tuple[Any, ...]] = []
        self.staged = 0
        # Time spent loading the staging table (a phase of the upload's timings).
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self._copy_lines) + len(self._rows)

    def add_valid(self, line: int, row: EntryRow) -> None:
        if self._postgres:
            cells = (
                str(line),
                row.id_type,
                "\\\\x" + row.subject_hash.hex(),
                row.action,
                row.list or _NULL,
                row.reason or _NULL,
                _copy_date(row.event_date),
                _copy_date(row.expires_on),
                _copy_date(row.ends_on),
                _copy_text(row.reference),
                "t",
            )
            self._copy_lines.append("\t".join(cells) + "\n")
        else:
            self._rows.append(
                (
                    line,
                    row.id_type,
                    row.subject_hash,
                    row.action,
                    row.list or None,
                    row.reason or None,
                    row.event_date.isoformat() if row.event_date else None,
                    row.expires_on.isoformat() if row.expires_on else None,
                    row.ends_on.isoformat() if row.ends_on else None,
                    row.reference,
                    True,
                )
            )

    def add_invalid(self, line: int, id_type: str, subject_hash: bytes, action: str) -> None:
        """An invalid row whose subject is readable: staged (not applied) so that a repeat of
        its subject later in the file is still found, and a snapshot keeps its entry."""
        if self._postgres:
            cells = (str(line), id_type, "\\\\x" + subject_hash.hex(), action, *([_NULL] * 6), "f")
            self._copy_lines.append("\t".join(cells) + "\n")
        else:
            self._rows.append((line, id_type, subject_hash, action, None, None, None, None, None, None, False))

    def flush(self) -> None:
        started = time.monotonic()
        if self._copy_lines:
            imports_sql.stage_copy(self._cursor, self._copy_lines)
            self.staged += len(self._copy_lines)
            self._copy_lines = []
        if self._rows:
            imports_sql.stage_insert(self._cursor, self._rows)
            self.staged += len(self._rows)
            self._rows = []
        self.seconds += time.monotonic() - started


def short_value(value: str | None) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _VALUE_MAX else text[: _VALUE_MAX - 1] + "…"


class ErrorSink:
    """Buffers an upload's error rows and writes them in bulk, keeping at most ``cap`` of them
    (the counts stay exact)."""

    def __init__(self, upload_id: int, *, cap: int) -> None:
        self.upload_id = upload_id
        self.cap = cap
        self.stored = 0
        self.total = 0
        self._buffer: list[UploadError] = []

    @property
    def room(self) -> int:
        return max(self.cap - self.stored - len(self._buffer), 0)

    def add(self, *, line: int | None, column: str, code: str, message: str, value: str = "") -> None:
        self.total += 1
        if self.room == 0:
            return
        self._buffer.append(
            UploadError(
                upload_id=self.upload_id,
                line=line,
                column=column[:64],
                code=code[:40],
                message=message[:500],
                value=short_value(value),
            )
        )
        if len(self._buffer) >= _ERROR_BATCH:
            self.flush()

    def written_by_sql(self, n: int, total: int | None = None) -> None:
        """Account for error rows a set-based check wrote itself."""
        self.stored += n
        self.total += n if total is None else total

    def flush(self) -> None:
        if self._buffer:
            UploadError.objects.bulk_create(self._buffer, batch_size=_ERROR_BATCH)
            self.stored += len(self._buffer)
            self._buffer = []

    @property
    def truncated(self) -> bool:
        return self.total > self.stored
