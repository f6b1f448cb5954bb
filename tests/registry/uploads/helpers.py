"""Building upload files and reading what the pipeline made of them."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registry.models import Upload, UploadError
from registry.uploads.selectors import upload_errors
from tests.registry.helpers import days_ago, subject

HEADER = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference", "action")


def row(n: int | str, list_kind: str = "BLACK", reason: str = "SEVERE_OVERDUE", **extra: Any) -> dict[str, str]:
    """One data row for test subject ``n`` (every column present, optional ones empty)."""
    values = {
        "id_type": "RIC",
        "subject_hash": subject(n),
        "list": list_kind,
        "reason": reason,
        "event_date": days_ago(30),
        "expires_on": "",
        "reference": "",
        "action": "",
    }
    values.update({key: str(value) for key, value in extra.items()})
    return values


def withdraw(n: int | str) -> dict[str, str]:
    return row(n, list_kind="", reason="", event_date="", action="WITHDRAW")


def csv_text(
    rows: Iterable[Mapping[str, str] | Sequence[str]], header: Sequence[str] = HEADER, newline: str = "\n"
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for item in rows:
        writer.writerow([item.get(name, "") for name in header] if isinstance(item, Mapping) else item)
    return out.getvalue()


def csv_bytes(
    rows: Iterable[Mapping[str, str] | Sequence[str]],
    header: Sequence[str] = HEADER,
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
    gzipped: bool = False,
) -> bytes:
    data = csv_text(rows, header, newline).encode(encoding)
    return gzip.compress(data) if gzipped else data


def report_of(upload: Upload) -> list[tuple[int | None, str, str]]:
    """The error report as (line, column, code), in report order."""
    return [(e.line, e.column, e.code) for e in upload_errors(upload)]


def codes_of(upload: Upload) -> set[str]:
    return set(UploadError.objects.filter(upload=upload).values_list("code", flat=True))
