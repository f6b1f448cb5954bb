"""Validating an upload's file while it streams (``csv.md``, Columns and Validation): the
header, then every row through ``RowRules`` (the very rules of the single-entry API), then the
checks that need the whole file, set-based over the staging table: a subject repeated within
the file and the relisting block. Valid rows end up staged for the merge, errors in the
upload's report."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from lenders.models import Region
from registry.choices import IdType
from registry.services.entry_rules import RowError, RowRules, parse_subject_hash
from registry.sql import imports as imports_sql
from registry.uploads.reading import FileRefused, Limits, LineSource, open_stream, records
from registry.uploads.staging import ErrorSink, StageWriter

COLUMNS = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference", "action")
ALWAYS_REQUIRED = ("id_type", "subject_hash")
# Required unless an action column can say WITHDRAW (csv.md: "for UPSERT").
UPSERT_REQUIRED = ("list", "reason", "event_date")
_HEXISH = re.compile(r"[0-9a-fA-F]{32,}")


@dataclass
class Progress:
    """What the job has read so far (also what a refused file got to)."""

    rows: int = 0
    raw_bytes: int = 0
    gzipped: bool = False
    encoding: str = ""
    # Seconds spent loading the staging table, part of the time spent reading.
    stage_seconds: float = 0.0


@dataclass(frozen=True)
class Validated:
    rows_total: int
    invalid: int
    gzipped: bool
    encoding: str


def check_header(fields: list[str]) -> list[str]:
    """The column names of the header row, lower-cased and trimmed; refuses a header with an
    unknown, unnamed, repeated or missing required column."""
    names = [field.replace("\ufeff", "").strip().lower() for field in fields]
    if not any(name in COLUMNS for name in names):
        looks_like_data = any(_HEXISH.fullmatch(name) or name.upper() in IdType.values for name in names)
        raise FileRefused(
            "missing_header",
            "Line 1 must be the header row naming the columns (id_type, subject_hash, list, reason, event_date, …)"
            + ("; it looks like a data row." if looks_like_data else "."),
            line=1,
        )
    seen: set[str] = set()
    for position, (name, original) in enumerate(zip(names, fields, strict=True), start=1):
        if not name:
            raise FileRefused("unknown_column", f"Column {position} of the header has no name.", line=1)
        if name not in COLUMNS:
            allowed = ", ".join(COLUMNS)
            raise FileRefused(
                "unknown_column",
                f"Unknown column {original.strip()!r} (column {position}); the columns are {allowed}.",
                line=1,
                column=original.strip()[:64],
                value=original.strip(),
            )
        if name in seen:
            raise FileRefused(
                "duplicate_column", f"The column {name} appears twice in the header.", line=1, column=name
            )
        seen.add(name)
    required = ALWAYS_REQUIRED + (() if "action" in seen else UPSERT_REQUIRED)
    missing = [name for name in required if name not in seen]
    if missing:
        why = "" if "action" in seen else " (required when there is no action column: every row is an UPSERT)"
        raise FileRefused(
            "missing_column",
            f"The header lacks the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{why}.",
            line=1,
            column=missing[0],
        )
    return names


def _subject_of(values: dict[str, str]) -> tuple[str, bytes] | None:
    id_type = (values.get("id_type") or "").strip().upper()
    subject_hash = parse_subject_hash(values.get("subject_hash") or "")
    if id_type in IdType.values and subject_hash is not None:
        return id_type, subject_hash
    return None


def validate_stream(
    raw: IO[bytes],
    *,
    region: Region,
    today: datetime.date,
    encoding: str,
    cursor: Any,
    errors: ErrorSink,
    chunk_rows: int,
    progress: Progress,
    report: Callable[[Progress], None],
) -> Validated:
    """Read, check and stage every row of the file; raise ``FileRefused`` for a file-level
    refusal. Rows go to the staging table a chunk at a time; ``report`` gets the progress."""
    stream, gzipped = open_stream(raw)
    progress.gzipped = gzipped
    limits = Limits(max_bytes=int(region.upload_max_bytes), max_line_bytes=int(region.upload_max_line_bytes))
    lines = LineSource(stream, encoding=encoding, limits=limits)
    try:
        return _validate_rows(
            raw,
            lines,
            region=region,
            today=today,
            cursor=cursor,
            errors=errors,
            chunk_rows=chunk_rows,
            progress=progress,
            report=report,
            limits=limits,
        )
    finally:
        progress.encoding = lines.encoding


def _validate_rows(
    raw: IO[bytes],
    lines: LineSource,
    *,
    region: Region,
    today: datetime.date,
    cursor: Any,
    errors: ErrorSink,
    chunk_rows: int,
    progress: Progress,
    report: Callable[[Progress], None],
    limits: Limits,
) -> Validated:
    rules = RowRules(region, today)
    stage = StageWriter(cursor)
    max_rows = int(region.upload_max_rows)
    parsed = records(lines)

    header = next(parsed, None)
    if header is None:
        raise FileRefused("empty_file", "The file is empty: it has no header row and no data.")
    if header[1] is None:
        raise FileRefused(
            "line_too_long",
            f"The header line is longer than {limits.max_line_bytes:,} bytes (upload_max_line_bytes);"
            " is this a CSV file with line breaks?",
            line=1,
        )
    names = check_header(header[1])
    width = len(names)
    hash_at = names.index("subject_hash")
    check = rules.check
    rows = invalid = pending = 0
    try:
        for line, fields in parsed:
            if fields is not None and (len(fields) != width or not fields[hash_at]) and not any(map(str.strip, fields)):
                continue  # a blank line, or a row of empty cells left by a spreadsheet
            rows += 1
            if rows > max_rows:
                raise FileRefused(
                    "too_many_rows",
                    f"The file has more than {max_rows:,} data rows, this region's limit (upload_max_rows).",
                    line=line,
                )
            if fields is None:
                invalid += 1
                errors.add(
                    line=line,
                    column="",
                    code="line_too_long",
                    message=f"The line is longer than {limits.max_line_bytes:,} bytes (upload_max_line_bytes).",
                )
            elif len(fields) != width:
                invalid += 1
                errors.add(
                    line=line,
                    column="",
                    code="wrong_field_count",
                    message=f"The row has {len(fields)} fields; the header has {width}.",
                )
            else:
                values = dict(zip(names, fields))  # noqa: B905 (the widths were just compared)
                row, row_errors = check(values)
                if row is not None:
                    stage.add_valid(line, row)
                else:
                    invalid += 1
                    _report_row(errors, line, values, row_errors)
                    subject = _subject_of(values)
                    if subject is not None:
                        action = (values.get("action") or "").strip().upper() or "UPSERT"
                        stage.add_invalid(line, subject[0], subject[1], action[:8])
            pending += 1
            if pending >= chunk_rows:
                pending = 0
                stage.flush()
                errors.flush()
                progress.rows, progress.raw_bytes = rows, _position(raw)
                report(progress)
    finally:
        progress.rows = min(rows, max_rows)

    stage.flush()
    errors.flush()
    progress.raw_bytes = _position(raw)
    report(progress)
    if rows == 0:
        raise FileRefused("no_rows", "The file has a header but no data rows.", line=None)
    progress.stage_seconds = stage.seconds
    return Validated(rows_total=rows, invalid=invalid, gzipped=progress.gzipped, encoding=lines.encoding)


def _report_row(errors: ErrorSink, line: int, values: dict[str, str], row_errors: list[RowError]) -> None:
    for error in row_errors:
        errors.add(
            line=line,
            column=error.column,
            code=error.code,
            message=error.message,
            # A subject_hash cell is never echoed: a mistaken raw identity number must not be kept.
            value="" if error.column == "subject_hash" else values.get(error.column, ""),
        )


def _position(raw: IO[bytes]) -> int:
    try:
        return int(raw.tell())
    except (OSError, ValueError):
        return 0


def check_whole_file(
    cursor: Any,
    *,
    upload_id: int,
    member_id: int,
    hash_key_id: int,
    today: datetime.date,
    errors: ErrorSink,
) -> int:
    """The checks that need every row at once, set-based over the staging table. Returns how
    many rows they found invalid that were valid until then."""
    imports_sql.stage_index(cursor)
    errors.flush()
    duplicates = imports_sql.mark_duplicates(
        cursor,
        upload_id=upload_id,
        message_prefix="This subject (id_type and subject_hash) is already in the file on line ",
        room=errors.room,
    )
    errors.written_by_sql(duplicates.errors)
    blocked = imports_sql.mark_relist_blocked(
        cursor,
        upload_id=upload_id,
        member_id=member_id,
        hash_key_id=hash_key_id,
        today=today,
        message=(
            "This subject's BLACK entry was removed by a dispute; it cannot be listed as BLACK again before ",
            " unless the operator lifts the block.",
        ),
        room=errors.room,
    )
    errors.written_by_sql(blocked.errors, blocked.invalidated)
    return duplicates.invalidated + blocked.invalidated
