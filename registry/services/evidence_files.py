"""Checking a dispute's evidence file: its type from its first bytes (never from its name or
the type the sender claims), its size, and a display name stripped of anything dangerous."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core.errors import InvalidInput, ServiceError

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = ("application/pdf", "image/jpeg", "image/png")
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]]+")


class EvidenceTooLarge(ServiceError):
    status_code = 413
    code = "too_large"


class EvidenceTypeRefused(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    name: str


def sniff_type(head: bytes) -> str | None:
    """The media type that the file's first bytes show, if it is one we accept."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def clean_name(name: str) -> str:
    """The sender's file name for display: no folders, no control or shell characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE_NAME.sub("_", base).strip(" ._")
    return base[:200] or "evidence"


def check_evidence_file(file: Any) -> CheckedFile:
    """Refuse a missing, empty, oversized or wrongly typed file; read it once for its digest."""
    if file is None:
        raise InvalidInput(_("No file was sent."), details={"file": [_("Send the file in the field 'file'.")]})
    size = int(getattr(file, "size", 0) or 0)
    if size > MAX_EVIDENCE_BYTES:
        raise EvidenceTooLarge(_("An evidence file may be at most 10 MiB."), details={"file": [str(size)]})
    if size == 0:
        raise InvalidInput(_("The file is empty."), details={"file": [_("The file is empty.")]})
    file.seek(0)
    content_type = sniff_type(file.read(16))
    if content_type is None:
        raise EvidenceTypeRefused(
            _("Evidence must be a PDF, JPEG or PNG file; this file's content is none of them."),
            details={"file": [_("Not a PDF, JPEG or PNG file (checked by content, not by name).")]},
        )
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return CheckedFile(content_type=content_type, size=size, sha256=digest.hexdigest(), name=clean_name(file.name))
