"""A ``multipart/form-data`` body (RFC 7578) with one file, streamed from disk in chunks; its
length is computed in advance, so the request carries a ``Content-Length`` and the file is never
read whole into memory."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from registry_client.api import RequestBody
from registry_client.errors import ClientError

CHUNK = 1 << 16
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_content_type(path: Path) -> str:
    with open(path, "rb") as head:
        return "application/gzip" if head.read(2) == b"\x1f\x8b" else "text/csv"


def multipart_body(fields: dict[str, str], file_field: str, path: Path) -> RequestBody:
    """``fields`` as text parts, then the file at ``path`` as ``file_field``."""
    boundary = f"registry-client-{uuid.uuid4().hex}"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode("ascii")
        + value.encode("utf-8")
        + b"\r\n"
        for name, value in fields.items()
    )
    # The server stores the file under its own name; an ASCII name avoids any quoting question.
    filename = _UNSAFE_NAME.sub("_", path.name) or "upload.csv"
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {file_content_type(path)}\r\n\r\n"
    ).encode("ascii")
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    size = os.stat(path).st_size

    def chunks() -> Iterator[bytes]:
        yield head
        remaining = size
        with open(path, "rb") as source:
            while remaining:
                chunk = source.read(min(CHUNK, remaining))
                if not chunk:
                    raise ClientError(f"{path} got shorter while it was being sent; send it again once it is complete.")
                remaining -= len(chunk)
                yield chunk
        yield tail

    return RequestBody(
        content_type=f"multipart/form-data; boundary={boundary}",
        length=len(head) + size + len(tail),
        chunks=chunks,
    )
