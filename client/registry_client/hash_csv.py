"""Turning a lender's raw CSV export into an upload file: the column of raw identity numbers is
replaced by ``id_type`` and ``subject_hash`` (``hashing.md``), every other column is carried in
order. Rows stream through one at a time, so memory does not grow with the file.

A raw number is never written anywhere: not to the output (an invalid one is left out), and not
to the messages, which name the line and the rule that failed, never the value.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from registry_client.errors import ClientError, UsageError
from registry_client.hashing import InvalidIdentifier, SubjectHasher
from registry_client.progress import Progress
from registry_client.text_encoding import detect_encoding

UPLOAD_COLUMNS = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference", "action")
ADDED_COLUMNS = ("id_type", "subject_hash")
PROGRESS_EVERY = 10_000
# A header cell with a long run of digits is a number, not a column name: the header row is missing.
_LOOKS_LIKE_NUMBER = re.compile(r"[0-9０-９]{6,}")
_GZIP_MAGIC = b"\x1f\x8b"

ReportInvalid = Callable[[int, InvalidIdentifier], None]


@dataclass(frozen=True)
class HashCounts:
    rows: int
    written: int
    invalid: int


@contextmanager
def _binary(path: Path) -> Iterator[tuple[BinaryIO, IO[bytes]]]:
    """The file's bytes (decompressed when it is gzip) and the file itself (for the position)."""
    with open(path, "rb") as raw:
        if raw.read(2) == _GZIP_MAGIC:
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped, raw  # type: ignore[misc]
        else:
            raw.seek(0)
            yield raw, raw


def file_encoding(path: Path) -> str:
    try:
        with _binary(path) as (data, _raw):
            return detect_encoding(data)
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise ClientError(f"{path} looks compressed (gzip) but cannot be decompressed: is it complete?") from None


def _id_column(header: list[str], name: str) -> int:
    if any(_LOOKS_LIKE_NUMBER.search(cell) for cell in header):
        # Never echo these cells: they are probably raw identity numbers.
        raise UsageError("The first line looks like data, not a header: a header row naming the columns is required.")
    for index, cell in enumerate(header):
        if cell == name:
            return index
    loose = [index for index, cell in enumerate(header) if cell.strip().casefold() == name.strip().casefold()]
    if len(loose) == 1:
        return loose[0]
    columns = ", ".join(repr(cell) for cell in header)
    raise UsageError(f"The file has no column {name!r} (--id-column); its columns are {columns}.")


def _check_carried(carried: list[str], notify: Callable[[str], None]) -> None:
    for cell in carried:
        if cell.strip().casefold() in ADDED_COLUMNS:
            raise UsageError(
                f"The file already has a column {cell!r}; the hashed file adds id_type and subject_hash itself. "
                "Rename or remove that column."
            )
        if cell.strip().casefold() not in UPLOAD_COLUMNS:
            notify(
                f"Warning: column {cell!r} is carried to the output but is not a column of the upload format "
                f"({', '.join(UPLOAD_COLUMNS)}); the registry refuses a file with an unknown column. "
                "Remove it (and never carry other identifying data)."
            )


def hash_csv(
    *,
    source: Path,
    destination: Path,
    id_type: str,
    id_column: str,
    get_hasher: Callable[[], SubjectHasher],
    report_invalid: ReportInvalid,
    notify: Callable[[str], None],
    encoding: str | None = None,
    progress: Progress | None = None,
) -> HashCounts:
    """Hash ``source`` into ``destination`` (written through a temporary file beside it, so a
    failure never leaves half a file); gzip output when the destination's name ends in ``.gz``.
    ``get_hasher`` is called once the header is known to be right (fetching the key is an audit
    event on the registry: not for a file that cannot be hashed)."""
    encoding = encoding or file_encoding(source)
    partial = destination.with_name(destination.name + ".part")
    try:
        with _binary(source) as (data, raw):
            size = os.fstat(raw.fileno()).st_size
            text = io.TextIOWrapper(data, encoding=encoding, newline="")
            opener = gzip.open if destination.name.endswith(".gz") else open
            with opener(partial, "wt", encoding="utf-8", newline="") as out:  # type: ignore[operator]
                counts = _hash_rows(
                    text, out, id_type, id_column, get_hasher, report_invalid, notify, encoding, progress, raw, size
                )
        os.replace(partial, destination)
        return counts
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise ClientError(f"{source} looks compressed (gzip) but cannot be decompressed: is it complete?") from None
    except OSError as exc:
        raise ClientError(f"Cannot read {source} or write {destination}: {exc.strerror or exc}.") from None
    finally:
        if partial.exists():
            partial.unlink()


def _hash_rows(
    text: io.TextIOWrapper,
    out: IO[str],
    id_type: str,
    id_column: str,
    get_hasher: Callable[[], SubjectHasher],
    report_invalid: ReportInvalid,
    notify: Callable[[str], None],
    encoding: str,
    progress: Progress | None,
    raw: IO[bytes],
    size: int,
) -> HashCounts:
    reader = csv.reader(text)
    rows = written = invalid = 0
    line = 1
    try:
        header = next(reader, None)
        if not header:
            raise ClientError("The file is empty: a header row naming the columns is required.")
        index = _id_column(header, id_column)
        keep = [i for i in range(len(header)) if i != index]
        carried = [header[i] for i in keep]
        _check_carried(carried, notify)
        hasher = get_hasher()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*ADDED_COLUMNS, *carried])
        width = len(header)
        today = datetime.date.today()
        ended = reader.line_num
        for record in reader:
            # A record whose quoted field spans lines is reported at its first line (csv.md).
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line, or one of empty cells as spreadsheets leave at the end
            rows += 1
            if progress and rows % PROGRESS_EVERY == 0:
                progress.show("hashing", raw.tell(), size)
            if len(record) > width:
                report_invalid(
                    line,
                    InvalidIdentifier("columns", f"this line has {len(record)} values; the header has {width}"),
                )
                invalid += 1
                continue
            if len(record) < width:
                record += [""] * (width - len(record))
            try:
                hashed = hasher.hash(id_type, record[index], today=today)
            except InvalidIdentifier as refused:
                report_invalid(line, refused)
                invalid += 1
                continue
            writer.writerow([id_type, hashed.subject_hash, *(record[i] for i in keep)])
            written += 1
    except UnicodeDecodeError:
        raise ClientError(
            f"Line {reader.line_num + 1} cannot be decoded as {encoding}; pass --encoding with the file's encoding."
        ) from None
    except csv.Error as exc:
        raise ClientError(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    if progress:
        progress.show("hashed", size, size)
        progress.close()
    return HashCounts(rows=rows, written=written, invalid=invalid)
