"""Receiving a file: the request body streams to a temporary file next to the storage while
its SHA-256 is computed, never held whole in memory, and is refused with 413 the moment it
passes the region's ``upload_max_bytes`` (or before anything is read, when the declared
``Content-Length`` already does). Then the file moves into the default storage under a random
name.

``install_upload_handler`` puts the handler on a request before its body is parsed; the API
view and any portal form that accepts a file use it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core.errors import InsufficientStorage, PayloadTooLarge
from lenders.models import Region

FILE_FIELD = "file"
# Room for the multipart framing and the small form fields around the file.
MULTIPART_ALLOWANCE = 64 * 1024
_NAME_MAX = 200


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        detail=_("The file is larger than this region's upload limit of %(n)s bytes (upload_max_bytes).")
        % {"n": f"{limit:,}"},
        code="too_large",
    )


# The file system refusing more data: a full disk or an exhausted quota.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def storage_full() -> InsufficientStorage:
    return InsufficientStorage(
        detail=_("The registry has no room to store this file now; nothing was kept. Try again later."),
        code="insufficient_storage",
    )


def incoming_dir() -> Path:
    """Where files are written while they arrive: on disk (never a memory-backed /tmp by
    default), beside the storage so that saving the finished file is a rename."""
    configured = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    path = Path(configured) if configured else Path(settings.MEDIA_ROOT) / "uploads" / ".incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ReceivedFile(UploadedFile):
    """The uploaded file as written to disk while it arrived, with its size and SHA-256."""

    def __init__(self, name: str, content_type: str, charset: str | None, content_type_extra: Any) -> None:
        self._handle = tempfile.NamedTemporaryFile(suffix=".upload", dir=incoming_dir())
        super().__init__(self._handle, name, content_type, 0, charset, content_type_extra)
        self._digest = hashlib.sha256()
        self.sha256 = ""

    def append(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self.size = (self.size or 0) + len(data)

    def finish(self) -> None:
        self._handle.flush()
        self._handle.seek(0)
        self.sha256 = self._digest.hexdigest()

    def temporary_file_path(self) -> str:
        return str(self._handle.name)

    def close(self) -> None:
        try:
            self._handle.close()
        except FileNotFoundError:  # already moved into the storage
            pass


class UploadStreamHandler(FileUploadHandler):
    """Streams the ``file`` field to a ``ReceivedFile``; other file fields are skipped. The
    limit is resolved when parsing starts, once the caller is known."""

    def __init__(self, request: HttpRequest, *, limit: Callable[[], int]) -> None:
        super().__init__(request)
        self._resolve_limit = limit
        self.limit = 0
        self.received: ReceivedFile | None = None
        self._done = False

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        self.limit = self._resolve_limit()
        if content_length > self.limit + MULTIPART_ALLOWANCE:
            raise too_large(self.limit)
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name != FILE_FIELD or self.received is not None:
            raise SkipFile()
        super().new_file(field_name, file_name, *args, **kwargs)
        try:
            self.received = ReceivedFile(file_name, self.content_type or "", self.charset, self.content_type_extra)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                raise storage_full() from exc
            raise

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.received is None or self._done:
            return None
        if (self.received.size or 0) + len(raw_data) > self.limit:
            self._discard()
            raise too_large(self.limit)
        try:
            self.received.append(raw_data)
        except OSError as exc:
            self._discard()  # closing the temporary file deletes what was written of it
            if exc.errno in _NO_SPACE:
                raise storage_full() from exc
            raise
        return None

    def file_complete(self, file_size: int) -> ReceivedFile | None:
        if self.received is None or self._done:
            return None
        self._done = True
        self.received.finish()
        return self.received

    def upload_interrupted(self) -> None:
        self._discard()

    def _discard(self) -> None:
        if self.received is not None:
            self.received.close()
            self.received = None


def region_limit(region: Region | None) -> int:
    if region is not None:
        return int(region.upload_max_bytes)
    return int(Region._meta.get_field("upload_max_bytes").get_default())


def install_upload_handler(request: HttpRequest, *, region: Callable[[], Region | None]) -> None:
    """Make ``request`` stream its ``file`` field through ``UploadStreamHandler``, with the
    upload limit of the region ``region()`` returns when parsing begins. Call it before
    anything reads the body."""
    request.upload_handlers = [UploadStreamHandler(request, limit=lambda: region_limit(region()))]


def sanitised_file_name(name: str | None) -> str:
    """The sender's file name for display: no directories, no control characters, bounded."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if len(name) > _NAME_MAX:
        stem, ext = os.path.splitext(name)
        name = stem[: _NAME_MAX - len(ext[:20])] + ext[:20]
    return name


def file_digest(file: UploadedFile) -> tuple[str, int]:
    """SHA-256 and size of an uploaded file, computed while reading it in chunks (for files
    that did not come through ``UploadStreamHandler``)."""
    found = getattr(file, "sha256", "")
    if isinstance(file, ReceivedFile) and found:
        return found, int(file.size or 0)
    digest = hashlib.sha256()
    size = 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def store(file: UploadedFile, *, member_id: int) -> str:
    """Save the file in the default storage under a random name (nothing the sender chose),
    in the member's folder; returns the storage name."""
    name = f"uploads/{member_id}/{uuid.uuid4().hex}.upload"
    try:
        return default_storage.save(name, file)
    except OSError as exc:
        # Moving across file systems copies: a disk that fills up meanwhile leaves a partial file.
        if default_storage.exists(name):
            default_storage.delete(name)
        if exc.errno in _NO_SPACE:
            raise storage_full() from exc
        raise


def discard(path: str) -> None:
    if path:
        default_storage.delete(path)


def sweep_incoming(*, older_than_seconds: float) -> int:
    """Delete files left in the incoming folder by requests that died while receiving (a
    finished request always removes its own). Returns how many were deleted."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in incoming_dir().glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
