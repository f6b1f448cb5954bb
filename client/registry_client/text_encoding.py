"""Which text encoding a CSV file uses, decided the way the registry decides it (``csv.md``):
a UTF-8 byte-order mark means ``utf-8-sig``; otherwise the whole file is tried as UTF-8, and a
file that is not valid UTF-8 is read as GB18030 (a superset of GBK, what spreadsheet programs
on Chinese desktops write)."""

from __future__ import annotations

import codecs
from typing import BinaryIO

CHUNK = 1 << 20


def detect_encoding(stream: BinaryIO) -> str:
    """Read ``stream`` from its current position to the end (a chunk at a time) and name its encoding."""
    head = stream.read(len(codecs.BOM_UTF8))
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head)
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"
