"""Reading a stored upload file as a stream of CSV records (``csv.md``, Format):

* gzip is recognised by its magic bytes, whatever the file is called;
* the encoding is the sender's if named; otherwise a UTF-8 byte-order mark means UTF-8, text
  that decodes as UTF-8 is UTF-8, and anything else is read as GB18030 (a superset of GBK and
  GB2312, what spreadsheets on Chinese desktops write). Detection is decided at the first line
  that is not plain ASCII, so nothing is read twice;
* physical lines are read one at a time with a bounded ``readline``: a line over the region's
  ``upload_max_line_bytes`` is skipped without being held and becomes a row error, and the
  uncompressed size is counted against ``upload_max_bytes`` as it streams;
* the ``csv`` module parses RFC 4180 quoting over those lines; a record starts at the physical
  line after the previous record ended, which is the line errors are reported at.

Whatever refuses the file as a whole raises ``FileRefused``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
ZIP_MAGIC = b"PK\x03\x04"
# Names a sender may give for the encoding, and the codec each is read with.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gb18030": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
}
_SKIP_CHUNK = 64 * 1024


class FileRefused(Exception):
    """The file as a whole is refused (``csv.md``, Validation: file-level checks)."""

    def __init__(self, code: str, message: str, *, line: int | None = None, column: str = "", value: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.value = value


def normalise_encoding(name: str | None) -> str | None:
    """The canonical spelling of an encoding a sender named, or ``None`` if it is not one of
    those ``csv.md`` allows; an empty name means "detect it"."""
    key = (name or "").strip().lower().replace("_", "-")
    if not key:
        return ""
    return key if key in ENCODINGS else None


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_line_bytes: int


class LineSource:
    """The decoded physical lines of a binary stream, within the limits. Iterate it once."""

    def __init__(self, stream: IO[bytes], *, encoding: str, limits: Limits) -> None:
        self._stream = stream
        self._limits = limits
        self.requested = encoding
        self._codec: str | None = ENCODINGS[encoding] if encoding else None
        self.detected = ""
        self.line_no = 0
        self.bytes_read = 0
        # Line numbers of over-long lines not yet claimed by a record (ascending).
        self.overlong: deque[int] = deque()

    @property
    def encoding(self) -> str:
        """The encoding the file was read with: as named, as detected, or UTF-8 for plain ASCII."""
        return self.detected or (self._codec or "utf-8")

    def _readline(self, size: int) -> bytes:
        try:
            return self._stream.readline(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise FileRefused(
                "unreadable",
                "The gzip data is truncated or corrupt; send the whole file again.",
                line=self.line_no + 1,
            ) from exc

    def __iter__(self) -> Iterator[str]:
        limit = self._limits.max_line_bytes
        max_bytes = self._limits.max_bytes
        readline = self._readline
        decode = self._decode
        while True:
            raw = readline(limit + 2)
            if not raw:
                return
            self.line_no += 1
            self.bytes_read += len(raw)
            if self.bytes_read > max_bytes:
                self._too_large()
            if raw[-1:] == b"\n":
                length = len(raw) - (2 if raw[-2:] == b"\r\n" else 1)
            else:
                length = len(raw)
                if length == limit + 2:  # the line goes on: skip the rest of it unread
                    while True:
                        more = readline(_SKIP_CHUNK)
                        if not more:
                            break
                        self.bytes_read += len(more)
                        if self.bytes_read > max_bytes:
                            self._too_large()
                        length += len(more)
                        if more[-1:] == b"\n":
                            break
            if length > limit:
                self.overlong.append(self.line_no)
                yield "\n"
                continue
            yield decode(raw)

    def _too_large(self) -> None:
        raise FileRefused(
            "file_too_large",
            f"The file is larger than {self._limits.max_bytes:,} bytes uncompressed, "
            "this region's limit (upload_max_bytes).",
            line=self.line_no,
        )

    def _decode(self, raw: bytes) -> str:
        # The common case first; the first line, NUL bytes, detection and errors go the long way.
        if self.line_no > 1 and b"\x00" not in raw:
            codec = self._codec
            if codec is None:
                if raw.isascii():
                    return raw.decode("ascii")
            else:
                try:
                    return raw.decode(codec)
                except UnicodeDecodeError:
                    pass  # reported by _decode_slowly
        return self._decode_slowly(raw)

    def _decode_slowly(self, raw: bytes) -> str:
        if self.line_no == 1 and raw.startswith(UTF8_BOM) and self._codec in (None, "utf-8"):
            raw = raw[len(UTF8_BOM) :]
            if self._codec is None:
                self._codec = "utf-8"
                self.detected = "utf-8-sig"
        if b"\x00" in raw:
            if self.line_no == 1 and raw.startswith(ZIP_MAGIC):
                raise FileRefused(
                    "binary_content",
                    "This is a zip archive, such as an Excel workbook (.xlsx), not a CSV file: "
                    "save the sheet as CSV and send that.",
                    line=1,
                )
            raise FileRefused(
                "binary_content",
                f"Line {self.line_no} holds binary data (a NUL byte): this is not a CSV text file.",
                line=self.line_no,
            )
        if self._codec is None:
            if raw.isascii():
                return raw.decode("ascii")
            for codec in ("utf-8", "gb18030"):
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError:
                    continue
                self._codec = self.detected = codec
                return text
            raise FileRefused(
                "undecodable",
                f"Line {self.line_no} is neither UTF-8 nor GB18030/GBK text.",
                line=self.line_no,
            )
        try:
            return raw.decode(self._codec)
        except UnicodeDecodeError:
            named = f"the encoding {self.requested} that was named" if self.requested else self._codec.upper()
            raise FileRefused(
                "undecodable",
                f"Line {self.line_no} is not valid text in {named}; "
                "send the file again with the right encoding, or without one to detect it.",
                line=self.line_no,
            ) from None


def open_stream(raw: IO[bytes]) -> tuple[IO[bytes], bool]:
    """The file's content stream (decompressed if it is gzip) and whether it was gzip."""
    head = raw.read(2)
    raw.seek(0)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), True  # type: ignore[return-value]
    return raw, False


Record = tuple[int, list[str] | None]  # (first physical line, fields; None: a line over the length limit)


def records(lines: LineSource) -> Iterator[Record]:
    """Every CSV record with the physical line it starts on."""
    reader = csv.reader(iter(lines), strict=False)
    overlong = lines.overlong
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if overlong and overlong[0] <= previous:
                hit = False
                while overlong and overlong[0] <= previous:
                    if overlong.popleft() >= start:
                        hit = True
                if hit:
                    yield start, None
                    continue
            yield start, fields
    except csv.Error as exc:
        raise FileRefused(
            "malformed_csv",
            f"The CSV is malformed from line {previous + 1}: {exc}. Is a quote left open?",
            line=previous + 1,
        ) from None
