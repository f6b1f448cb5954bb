"""The error report as CSV (``csv.md``: line number, column, error code, message, and the
offending value), streamed row by row. Every cell is escaped against formula injection: a
value a spreadsheet would run as a formula gets a leading apostrophe."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from registry.models import UploadError

HEADER = ("line", "column", "code", "message", "value")
# The full-width forms too: spreadsheets on Chinese desktops (Excel, WPS) read ＝ as = when an
# input method typed it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def spreadsheet_safe(value: Any) -> str:
    """The cell as text, with a leading apostrophe if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    """A file whose ``write`` returns what it was given, so ``csv.writer`` can feed a generator."""

    def write(self, value: str) -> str:
        return value


def error_report_lines(errors: Iterable[UploadError]) -> Iterator[str]:
    """The CSV text of the report, one line at a time, beginning with a UTF-8 byte-order mark so
    that spreadsheets on Chinese desktops open it as UTF-8."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(HEADER)
    for error in errors:
        cells = (error.line if error.line is not None else "", error.column, error.code, error.message, error.value)
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])
