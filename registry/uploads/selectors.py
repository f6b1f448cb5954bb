"""Reads of uploads, always through ``Upload.objects.of_member``: a member sees only its own."""

from __future__ import annotations

import datetime

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from lenders.actors import Actor
from lenders.models import Member
from lenders.permissions import Perm
from registry.models import Upload, UploadError
from registry.uploads.config import UPLOAD_IDEMPOTENCY_HOURS, knob


def uploads_visible_to(actor: Actor) -> QuerySet[Upload]:
    if actor.member is None or not actor.can(Perm.UPLOAD_READ):
        return Upload.objects.none()
    return Upload.objects.of_member(actor.member).select_related("hash_key", "sent_by", "confirmed_by", "cancelled_by")


def upload_of(actor: Actor, upload_id: int) -> Upload:
    """One of the actor's member's uploads; another member's id is simply not found."""
    upload = uploads_visible_to(actor).filter(pk=upload_id).first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload


def upload_of_member(member: Member, upload_id: int, *, for_update: bool = False) -> Upload:
    """One of the member's uploads (locked for the caller's transaction if ``for_update``)."""
    uploads = Upload.objects.of_member(member)
    if for_update:
        uploads = uploads.select_for_update()
    upload = uploads.filter(pk=upload_id).first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload


def upload_errors(upload: Upload) -> QuerySet[UploadError]:
    """The upload's error report in file order (whole-file problems without a line first)."""
    return UploadError.objects.filter(upload=upload).order_by(F("line").asc(nulls_first=True), "id")


def idempotency_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(hours=knob(UPLOAD_IDEMPOTENCY_HOURS))


def upload_for_idempotency_key(*, member: Member, key: str) -> Upload | None:
    """The upload first made with this ``Idempotency-Key`` by the member within the last 24 hours."""
    if not key:
        return None
    return (
        Upload.objects.of_member(member)
        .select_related("hash_key", "sent_by", "confirmed_by", "cancelled_by")
        .filter(idempotency_key=key, created_at__gte=idempotency_cutoff())
        .first()
    )
