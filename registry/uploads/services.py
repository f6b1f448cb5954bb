"""The upload services (``csv.md``): receive a file, process it (the Celery task's body),
confirm or cancel a stopped snapshot, and watch for stuck jobs.

A job goes ``QUEUED → VALIDATING → APPLYING → SUCCEEDED``. Validation streams the stored file
into the session's staging table and the error report (short transactions, progress between
chunks); the merge, the consensus of every touched subject, the audit event and the state
``SUCCEEDED`` are one transaction, so an upload's changes appear all at once or not at all,
and lookups see the new consensus as soon as the upload says ``SUCCEEDED``.
``docs/uploads.md`` explains each guarantee and what enforces it.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, InterfaceError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import SystemActor, audit_record
from core.errors import Conflict, Forbidden, InvalidInput
from core.request_context import request_context
from lenders.actors import Actor
from lenders.models import Member, Region
from lenders.permissions import Perm
from registry.choices import (
    UPLOAD_RESENDABLE_STATES,
    UPLOAD_TERMINAL_STATES,
    ConsensusCause,
    ErrorPolicy,
    UploadMode,
    UploadState,
)
from registry.models import Upload, UploadError
from registry.services.consensus import consensus_recompute_query
from registry.services.entries import hash_key_for
from registry.sql import imports as imports_sql
from registry.tasks import process_upload
from registry.uploads import receiving
from registry.uploads.config import (
    UPLOAD_CHUNK_ROWS,
    UPLOAD_HEARTBEAT_SECONDS,
    UPLOAD_MAX_ATTEMPTS,
    UPLOAD_MAX_ERRORS,
    UPLOAD_STALL_SECONDS,
    knob,
)
from registry.uploads.locking import Heartbeat, member_upload_lock, member_upload_lock_is_held
from registry.uploads.reading import FileRefused, normalise_encoding
from registry.uploads.selectors import idempotency_cutoff, upload_for_idempotency_key, upload_of_member
from registry.uploads.staging import ErrorSink
from registry.uploads.validation import Progress, Validated, check_whole_file, validate_stream

logger = logging.getLogger("registry.uploads")

_IDEMPOTENCY_KEY_MAX = 200
_RUNNING = (UploadState.VALIDATING, UploadState.APPLYING)
# A file still arriving after this long belongs to a request that died.
_INCOMING_MAX_AGE = 6 * 3600


# -- receiving ----------------------------------------------------------------------------------


T = TypeVar("T")


def _uploading_member(actor: Actor, perm: Perm = Perm.UPLOAD) -> Member:
    actor.require(perm)
    if actor.member is None:
        raise Forbidden(_("Only a member sends uploads."))
    return actor.member


def clean_idempotency_key(value: str | None) -> str:
    """The ``Idempotency-Key`` header as given (printable ASCII, at most 200 characters)."""
    key = (value or "").strip()
    if key and (len(key) > _IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable()):
        raise InvalidInput(
            _("Invalid Idempotency-Key header."),
            details={"Idempotency-Key": [_("At most 200 printable ASCII characters.")]},
        )
    return key


def _same_content(member: Member, *, sha256: str, mode: str, error_policy: str, hash_key_id: int) -> Upload | None:
    return (
        Upload.objects.of_member(member)
        .filter(sha256=sha256, mode=mode, error_policy=error_policy, hash_key_id=hash_key_id)
        .exclude(state__in=sorted(UPLOAD_RESENDABLE_STATES))
        .select_related("hash_key", "sent_by", "confirmed_by", "cancelled_by")
        .first()
    )


def upload_receive(
    *,
    actor: Actor,
    file: UploadedFile | None,
    mode: str | None = None,
    error_policy: str | None = None,
    key_id: str | None = None,
    encoding: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Upload, bool]:
    """Accept a file for processing. Returns ``(upload, created)``: ``created`` is False when
    the same ``Idempotency-Key`` or the same content (same options, not refused) was sent
    before, and that upload is returned instead."""
    member = _uploading_member(actor)
    region = member.region
    key = clean_idempotency_key(idempotency_key)
    if key:
        earlier = upload_for_idempotency_key(member=member, key=key)
        if earlier is not None:
            return earlier, False

    errors: dict[str, list[str]] = {}
    mode = (mode or "").strip() or UploadMode.DELTA
    if mode not in UploadMode.values:
        errors["mode"] = [_("mode must be delta or snapshot.")]
    error_policy = (error_policy or "").strip() or ErrorPolicy.REJECT_FILE
    if error_policy not in ErrorPolicy.values:
        errors["error_policy"] = [_("error_policy must be reject_file or skip_invalid_rows.")]
    wanted_encoding = normalise_encoding(encoding)
    if wanted_encoding is None:
        errors["encoding"] = [_("encoding must be utf-8, utf-8-sig, gb18030 or gbk (or left out to detect it).")]
    if file is None:
        errors["file"] = [_("A file is required (the multipart field file).")]
    hash_key = None
    try:
        hash_key = hash_key_for(region, (key_id or "").strip() or None)
    except InvalidInput as exc:
        errors.update(exc.details)
    if errors:
        raise InvalidInput(_("The upload was not accepted."), details=errors)
    assert file is not None and hash_key is not None and wanted_encoding is not None

    sha256, size = receiving.file_digest(file)
    if size > region.upload_max_bytes:
        raise receiving.too_large(int(region.upload_max_bytes))
    earlier = _same_content(member, sha256=sha256, mode=mode, error_policy=error_policy, hash_key_id=hash_key.pk)
    if earlier is not None:
        return earlier, False

    path = receiving.store(file, member_id=member.pk)
    try:
        with transaction.atomic():
            if key:  # a key older than its 24 hours may be used again
                Upload.objects.of_member(member).filter(
                    idempotency_key=key, created_at__lt=idempotency_cutoff()
                ).update(idempotency_key="")
            upload = Upload.objects.create(
                member=member,
                hash_key=hash_key,
                mode=mode,
                error_policy=error_policy,
                encoding=wanted_encoding,
                file_name=receiving.sanitised_file_name(file.name),
                file_path=path,
                size=size,
                sha256=sha256,
                idempotency_key=key,
                sent_by=actor.user,
                sent_by_key=actor.api_key.prefix if actor.api_key is not None else "",
                state=UploadState.RECEIVED,
            )
            _queue(upload)
            audit_record(
                actor=actor,
                action="upload.receive",
                obj=upload,
                details={
                    "mode": mode,
                    "error_policy": error_policy,
                    "key_id": hash_key.key_id,
                    "size": size,
                    "sha256": sha256,
                    "file_name": upload.file_name,
                },
            )
    except IntegrityError:
        # The same content or key arrived in a concurrent request that committed first.
        receiving.discard(path)
        earlier = _same_content(member, sha256=sha256, mode=mode, error_policy=error_policy, hash_key_id=hash_key.pk)
        if earlier is None and key:
            earlier = upload_for_idempotency_key(member=member, key=key)
        if earlier is None:
            raise
        return earlier, False
    return upload, True


def _queue(upload: Upload) -> None:
    """Mark the upload QUEUED and send its job once the transaction commits."""
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(state=UploadState.QUEUED, queued_at=now, updated_at=now)
    upload.state, upload.queued_at = UploadState.QUEUED, now
    _send_after_commit(upload.pk)


def _send_after_commit(upload_id: int) -> None:
    # robust: a broker that is down must not undo a committed upload; the watchdog sends it later.
    transaction.on_commit(lambda: process_upload.delay(upload_id), robust=True)


# -- processing ---------------------------------------------------------------------------------


class _Phases:
    """The seconds each phase of a job took, in order, for the audit event and the log: what
    ``docs/performance.md`` reads to say where an import's time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._last, 3)
        self._last = now

    def split(self, name: str, part: str, seconds: float) -> None:
        """Move ``seconds`` of the phase ``name`` into a phase of its own, ``part``."""
        self.seconds[part] = round(seconds, 3)
        self.seconds[name] = round(max(self.seconds.get(name, 0.0) - seconds, 0.0), 3)


@dataclass(frozen=True)
class ProcessOutcome:
    upload_id: int
    state: str
    # Run the job again after this many seconds (it had to wait, or an attempt failed).
    retry_in: float | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"upload": self.upload_id, "state": self.state, "retry_in": self.retry_in, "detail": self.detail}


def _pipeline_actor(upload: Upload, region_id: int) -> SystemActor:
    """The audit actor of the job: the registry, on behalf of whoever sent the file."""
    return SystemActor(
        "upload_pipeline",
        region_id=region_id,
        member_id=upload.member_id,
        user_id=upload.sent_by_id,
        api_key_id=upload.sent_by_key or None,
    )


def _in_registry_language(func: Callable[..., T]) -> Callable[..., T]:
    """Background work writes its stored messages in the registry's language, whatever
    language the thread that happens to run it has active."""

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> T:
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapped


@_in_registry_language
def upload_process(*, upload_id: int) -> ProcessOutcome:
    """Validate and apply one upload. Safe to run twice and after a crash: it works only on an
    upload that is QUEUED (or left VALIDATING/APPLYING by a dead attempt), only while no other
    job of the member runs and no earlier upload of the member is unfinished."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None:
        return ProcessOutcome(upload_id, "missing")
    if upload.state not in (UploadState.QUEUED, *_RUNNING):
        return ProcessOutcome(upload_id, upload.state, detail="nothing to do")
    with request_context(request_id=f"upload-{upload_id}-{uuid.uuid4().hex[:8]}"):
        with member_upload_lock(upload.member_id) as taken:
            if not taken:
                return ProcessOutcome(upload_id, upload.state, retry_in=10, detail="another job of the member runs")
            blocker = (
                Upload.objects.filter(member_id=upload.member_id, pk__lt=upload.pk)
                .exclude(state__in=sorted(UPLOAD_TERMINAL_STATES))
                .order_by("pk")
                .first()
            )
            if blocker is not None:
                return _wait_for(upload, blocker)
            claimed = _claim(upload_id)
            if claimed is None:
                return ProcessOutcome(upload_id, upload.state, detail="claimed elsewhere")
            if claimed.state == UploadState.FAILED:
                outcome = ProcessOutcome(upload_id, claimed.state, detail="too many attempts")
            else:
                with Heartbeat(upload_id, interval=knob(UPLOAD_HEARTBEAT_SECONDS)):
                    outcome = _run(claimed)
    if outcome.state in UPLOAD_TERMINAL_STATES:
        _send_next(upload.member_id)  # once the member's lock is free, so the next one starts at once
    return outcome


def _wait_for(upload: Upload, blocker: Upload) -> ProcessOutcome:
    """An earlier upload of the member is unfinished: this one waits its turn. It is sent
    again when that one ends; until then a retry (or the watchdog) checks back."""
    if blocker.state == UploadState.NEEDS_CONFIRMATION:
        message = _("Waiting for upload %(id)s of this member, which needs confirmation, to be confirmed or cancelled.")
        retry_in = None
    else:
        message = _("Waiting for upload %(id)s of this member to finish first.")
        retry_in = 15.0
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk, state=UploadState.QUEUED).update(
        message=message % {"id": blocker.pk}, heartbeat_at=now, updated_at=now
    )
    return ProcessOutcome(upload.pk, upload.state, retry_in=retry_in, detail=f"waits for upload {blocker.pk}")


def _claim(upload_id: int) -> Upload | None:
    """Move the upload into VALIDATING for this attempt (counting it), or give up if another
    worker has it. On PostgreSQL the caller holds the member's lock, so an upload found
    VALIDATING or APPLYING belongs to an attempt that died; on SQLite only a stale heartbeat
    says so."""
    now = timezone.now()
    current = Upload.objects.filter(pk=upload_id).first()
    if current is None:
        return None
    start = {
        "state": UploadState.VALIDATING,
        "attempts": F("attempts") + 1,
        "validating_at": now,
        "applying_at": None,
        "heartbeat_at": now,
        "rows_processed": 0,
        "bytes_read": 0,
        "updated_at": now,
    }
    if current.state == UploadState.QUEUED:
        claimed = Upload.objects.filter(pk=upload_id, state=UploadState.QUEUED).update(**start, message="")
    elif current.state in _RUNNING:
        stall = datetime.timedelta(seconds=knob(UPLOAD_STALL_SECONDS))
        if connection.vendor != "postgresql" and current.heartbeat_at and current.heartbeat_at > now - stall:
            return None
        claimed = Upload.objects.filter(pk=upload_id, state=current.state, attempts=current.attempts).update(
            **start, message=_("Restarted after an attempt was interrupted while %(s)s.") % {"s": current.state}
        )
    else:
        return None
    if not claimed:
        return None
    upload = Upload.objects.select_related("member", "hash_key").get(pk=upload_id)
    limit = knob(UPLOAD_MAX_ATTEMPTS)
    if upload.attempts > limit:
        _fail(upload, _("The job was interrupted %(n)s times; it was given up.") % {"n": limit})
        upload.state = UploadState.FAILED
    return upload


def _report_progress(upload_id: int, progress: Progress) -> None:
    now = timezone.now()
    Upload.objects.filter(pk=upload_id).update(
        rows_processed=progress.rows, bytes_read=progress.raw_bytes, heartbeat_at=now, updated_at=now
    )


def _run(upload: Upload) -> ProcessOutcome:
    region = Region.objects.get(pk=upload.member.region_id)
    today = timezone.localdate()
    if not upload.file_path or not default_storage.exists(upload.file_path):
        _fail(upload, _("The stored file is missing; send the file again."))
        return ProcessOutcome(upload.pk, UploadState.FAILED, detail="file missing")
    UploadError.objects.filter(upload=upload).delete()  # a previous attempt's report
    errors = ErrorSink(upload.pk, cap=knob(UPLOAD_MAX_ERRORS))
    progress = Progress()
    phases = _Phases()
    try:
        with connection.cursor() as cursor:
            imports_sql.stage_create(cursor)
            imports_sql.session_tune(cursor)
            try:
                with default_storage.open(upload.file_path, "rb") as raw:
                    validated = validate_stream(
                        raw,
                        region=region,
                        today=today,
                        encoding=upload.encoding,
                        cursor=cursor,
                        errors=errors,
                        chunk_rows=knob(UPLOAD_CHUNK_ROWS),
                        progress=progress,
                        report=lambda p: _report_progress(upload.pk, p),
                    )
                phases.lap("parse_validate")
                phases.split("parse_validate", "stage_copy", progress.stage_seconds)
                invalid = validated.invalid + check_whole_file(
                    cursor,
                    upload_id=upload.pk,
                    member_id=upload.member_id,
                    hash_key_id=upload.hash_key_id,
                    today=today,
                    errors=errors,
                )
                phases.lap("whole_file_checks")
                if invalid and upload.error_policy == ErrorPolicy.REJECT_FILE:
                    return _reject_rows(upload, region, validated, invalid, errors)
                return _apply(upload, region, today, cursor, validated, invalid, errors, phases)
            finally:
                _drop_temporary_tables(cursor)
    except FileRefused as refused:
        return _reject_file(upload, region, refused, errors, progress)
    except Exception as exc:
        logger.exception("upload %s: attempt %s failed", upload.pk, upload.attempts)
        return _fault(upload, exc)


def _drop_temporary_tables(cursor: Any) -> None:
    try:
        imports_sql.drop_all(cursor)
        imports_sql.session_reset(cursor)
    except (DatabaseError, InterfaceError):  # the connection broke; its temporary tables went with it
        logger.warning("could not drop the staging tables", exc_info=True)


def _finish(upload: Upload, *, send_next: bool = False, **fields: Any) -> None:
    """Write a terminal state (inside the caller's transaction): the stored file is deleted
    once it commits, and with ``send_next`` the member's next upload is sent (the job itself
    sends it after releasing the member's lock)."""
    now = timezone.now()
    path = upload.file_path
    Upload.objects.filter(pk=upload.pk).update(
        **fields, file_path="", finished_at=now, heartbeat_at=now, updated_at=now
    )
    transaction.on_commit(lambda: receiving.discard(path), robust=True)
    if send_next:
        member_id = upload.member_id
        transaction.on_commit(lambda: _send_next(member_id), robust=True)


def _send_next(member_id: int) -> None:
    """Send the member's next waiting upload (a lost message is resent by the watchdog)."""
    following = Upload.objects.filter(member_id=member_id, state=UploadState.QUEUED).order_by("pk").first()
    if following is None:
        return
    try:
        process_upload.delay(following.pk)
    except Exception:  # the broker is away: the watchdog sends it later
        logger.exception("upload %s: could not be sent", following.pk)


def _reject_rows(
    upload: Upload, region: Region, validated: Validated, invalid: int, errors: ErrorSink
) -> ProcessOutcome:
    message = _(
        "%(invalid)s of %(rows)s rows are invalid; with error_policy reject_file nothing was applied. "
        "See the error report."
    ) % {"invalid": f"{invalid:,}", "rows": f"{validated.rows_total:,}"}
    with transaction.atomic():
        _finish(
            upload,
            state=UploadState.REJECTED,
            rows_total=validated.rows_total,
            rows_processed=validated.rows_total,
            invalid=invalid,
            gzipped=validated.gzipped,
            detected_encoding=validated.encoding,
            message=message + _truncation_note(errors),
        )
        audit_record(
            actor=_pipeline_actor(upload, region.pk),
            action="upload.reject",
            obj=upload,
            details={"rows_total": validated.rows_total, "invalid": invalid, "reason": "invalid_rows"},
        )
    return ProcessOutcome(upload.pk, UploadState.REJECTED, detail="invalid rows")


def _reject_file(
    upload: Upload, region: Region, refused: FileRefused, errors: ErrorSink, progress: Progress
) -> ProcessOutcome:
    errors.add(
        line=refused.line, column=refused.column, code=refused.code, message=refused.message, value=refused.value
    )
    errors.flush()
    with transaction.atomic():
        _finish(
            upload,
            state=UploadState.REJECTED,
            rows_total=progress.rows,
            rows_processed=progress.rows,
            gzipped=progress.gzipped,
            detected_encoding=progress.encoding,
            message=refused.message,
        )
        audit_record(
            actor=_pipeline_actor(upload, region.pk),
            action="upload.reject",
            obj=upload,
            details={"reason": refused.code, "line": refused.line},
        )
    return ProcessOutcome(upload.pk, UploadState.REJECTED, detail=refused.code)


def _truncation_note(errors: ErrorSink) -> str:
    if errors.truncated or errors.stored >= errors.cap:
        return " " + _("The report lists the first %(n)s errors.") % {"n": f"{errors.cap:,}"}
    return ""


def _over_guard(region: Region, *, would_withdraw: int, active: int) -> bool:
    ratio = Decimal(region.snapshot_max_withdraw_ratio)
    return active > 0 and Decimal(would_withdraw) > ratio * active


def _apply(
    upload: Upload,
    region: Region,
    today: datetime.date,
    cursor: Any,
    validated: Validated,
    invalid: int,
    errors: ErrorSink,
    phases: _Phases,
) -> ProcessOutcome:
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(
        state=UploadState.APPLYING,
        applying_at=now,
        heartbeat_at=now,
        updated_at=now,
        rows_total=validated.rows_total,
        rows_processed=validated.rows_total,
        invalid=invalid,
        gzipped=validated.gzipped,
        detected_encoding=validated.encoding,
    )
    actor = _pipeline_actor(upload, region.pk)
    snapshot = upload.mode == UploadMode.SNAPSHOT
    with transaction.atomic():
        counts = imports_sql.classify(cursor, member_id=upload.member_id, hash_key_id=upload.hash_key_id)
        gone, active = imports_sql.snapshot_gone(
            cursor, member_id=upload.member_id, hash_key_id=upload.hash_key_id, snapshot=snapshot
        )
        would_withdraw = gone + counts[imports_sql.WITHDRAWN]
        phases.lap("classify")
        if (
            snapshot
            and upload.confirmed_at is None
            and _over_guard(region, would_withdraw=would_withdraw, active=active)
        ):
            ratio = Decimal(region.snapshot_max_withdraw_ratio)
            message = _(
                "This snapshot would withdraw %(n)s of the member's %(active)s active entries, more than the "
                "region's limit of %(pct)s%%. Nothing was changed: a member administrator must confirm it, or "
                "anyone who may upload can cancel it."
            ) % {"n": f"{would_withdraw:,}", "active": f"{active:,}", "pct": f"{float(ratio) * 100:g}"}
            Upload.objects.filter(pk=upload.pk).update(
                state=UploadState.NEEDS_CONFIRMATION,
                snapshot_withdrawals=would_withdraw,
                snapshot_active=active,
                message=message + _truncation_note(errors),
                heartbeat_at=now,
                updated_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="upload.needs_confirmation",
                obj=upload,
                details={"would_withdraw": would_withdraw, "active": active, "ratio": str(ratio)},
            )
            return ProcessOutcome(upload.pk, UploadState.NEEDS_CONFIRMATION)

        snapshot_withdrawn = imports_sql.apply_changes(
            cursor, member_id=upload.member_id, hash_key_id=upload.hash_key_id, now=timezone.now()
        )
        phases.lap("merge")
        subjects_sql, params = imports_sql.touched_subjects(hash_key_id=upload.hash_key_id)
        consensus = consensus_recompute_query(
            region=region,
            subjects_sql=subjects_sql,
            params=params,
            cause=ConsensusCause.UPLOAD,
            cause_ref=f"upload:{upload.pk}",
            today=today,
        )
        phases.lap("consensus")
        result: dict[str, Any] = {
            "created": counts[imports_sql.CREATED],
            "updated": counts[imports_sql.UPDATED],
            "unchanged": counts[imports_sql.UNCHANGED],
            "withdrawn": counts[imports_sql.WITHDRAWN] + snapshot_withdrawn,
            "invalid": invalid,
        }
        summary = _(
            "%(rows)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(withdrawn)s withdrawn, %(invalid)s invalid."
        ) % {"rows": f"{validated.rows_total:,}", **{k: f"{v:,}" for k, v in result.items()}}
        _finish(
            upload,
            state=UploadState.SUCCEEDED,
            rows_total=validated.rows_total,
            rows_processed=validated.rows_total,
            snapshot_withdrawals=snapshot_withdrawn if snapshot else None,
            snapshot_active=active if snapshot else None,
            message=summary + _truncation_note(errors),
            **result,
        )
        # Last in the transaction: the audit chain's lock is held for the shortest time.
        audit_record(
            actor=actor,
            action="upload.apply",
            obj=upload,
            details={
                **result,
                "rows_total": validated.rows_total,
                "mode": upload.mode,
                "subjects_recomputed": consensus.subjects,
                "consensus_changed": consensus.changed,
                "phase_seconds": phases.seconds,
            },
        )
    phases.lap("commit")
    logger.info("upload %s applied; seconds by phase: %s", upload.pk, phases.seconds)
    return ProcessOutcome(upload.pk, UploadState.SUCCEEDED)


def _fail(upload: Upload, message: str) -> None:
    with transaction.atomic():
        _finish(upload, state=UploadState.FAILED, message=message)
        audit_record(
            actor=_pipeline_actor(upload, upload.member.region_id),
            action="upload.fail",
            obj=upload,
            details={"attempts": upload.attempts},
        )


def _fault(upload: Upload, exc: Exception) -> ProcessOutcome:
    """A system fault (not the file's): try again later, a bounded number of times."""
    attempts = upload.attempts
    cause = type(exc).__name__
    try:
        if attempts >= knob(UPLOAD_MAX_ATTEMPTS):
            _fail(
                upload,
                _(
                    "The job failed %(n)s times on a system error (%(cause)s); the registry's log has the details. "
                    "Send the file again later."
                )
                % {"n": attempts, "cause": cause},
            )
            return ProcessOutcome(upload.pk, UploadState.FAILED, detail=cause)
        now = timezone.now()
        Upload.objects.filter(pk=upload.pk).update(
            state=UploadState.QUEUED,
            message=_("Attempt %(n)s failed on a system error (%(cause)s); it will be retried.")
            % {"n": attempts, "cause": cause},
            heartbeat_at=now,
            updated_at=now,
        )
    except (DatabaseError, InterfaceError):  # the database itself is away: the watchdog picks the upload up later
        logger.exception("upload %s: could not record the failed attempt", upload.pk)
        return ProcessOutcome(upload.pk, upload.state, retry_in=60.0, detail=cause)
    return ProcessOutcome(upload.pk, UploadState.QUEUED, retry_in=30.0 * attempts, detail=cause)


# -- a person's decisions -----------------------------------------------------------------------


def upload_confirm(*, actor: Actor, upload_id: int) -> Upload:
    """A member administrator confirms a snapshot stopped by the guard: it is queued again
    and applied without the guard. Only a person's session, never an API key."""
    member = _uploading_member(actor, Perm.UPLOAD_CONFIRM)
    if actor.user is None or actor.api_key is not None:
        raise Forbidden(_("Only a member administrator, signed in, can confirm a snapshot; an API key cannot."))
    with transaction.atomic():
        upload = _locked(member, upload_id)
        if upload.state != UploadState.NEEDS_CONFIRMATION:
            raise Conflict(
                _("Only an upload that needs confirmation can be confirmed; this one is %(s)s.") % {"s": upload.state},
                code="upload_state",
            )
        now = timezone.now()
        Upload.objects.filter(pk=upload.pk).update(
            state=UploadState.QUEUED,
            confirmed_by=actor.user,
            confirmed_at=now,
            queued_at=now,
            attempts=0,
            message=_("Confirmed; queued to apply."),
            heartbeat_at=now,
            updated_at=now,
        )
        _send_after_commit(upload.pk)
        audit_record(
            actor=actor,
            action="upload.confirm",
            obj=upload,
            details={"would_withdraw": upload.snapshot_withdrawals, "active": upload.snapshot_active},
        )
    upload.refresh_from_db()
    return upload


def upload_cancel(*, actor: Actor, upload_id: int) -> Upload:
    """Cancel an upload that is waiting (``QUEUED``) or stopped by the snapshot guard."""
    member = _uploading_member(actor)
    with transaction.atomic():
        upload = _locked(member, upload_id)
        if upload.state not in (UploadState.NEEDS_CONFIRMATION, UploadState.QUEUED):
            raise Conflict(
                _("Only a queued upload or one that needs confirmation can be cancelled; this one is %(s)s.")
                % {"s": upload.state},
                code="upload_state",
            )
        previous = upload.state
        _finish(
            upload,
            send_next=True,
            state=UploadState.CANCELLED,
            cancelled_by=actor.user,
            cancelled_by_key=actor.api_key.prefix if actor.api_key is not None else "",
            message=_("Cancelled; nothing was applied."),
        )
        audit_record(actor=actor, action="upload.cancel", obj=upload, details={"from_state": previous})
    upload.refresh_from_db()
    return upload


def _locked(member: Member, upload_id: int) -> Upload:
    return upload_of_member(member, upload_id, for_update=True)


# -- the watchdog -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchdogResult:
    requeued: int
    failed: int
    resent: int
    keys_forgotten: int
    incoming_swept: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "requeued": self.requeued,
            "failed": self.failed,
            "resent": self.resent,
            "keys_forgotten": self.keys_forgotten,
            "incoming_swept": self.incoming_swept,
        }


@_in_registry_language
def uploads_watchdog(*, stall_seconds: int | None = None) -> WatchdogResult:
    """Find jobs that stopped: running with no heartbeat for ``stall_seconds`` and no live
    session holding their member's lock are requeued (or failed after the last attempt);
    queued uploads nobody looked at for as long are sent again (a lost message). Idempotent."""
    stall = datetime.timedelta(seconds=knob(UPLOAD_STALL_SECONDS) if stall_seconds is None else stall_seconds)
    now = timezone.now()
    cutoff = now - stall
    requeued = failed = resent = 0
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    for upload in Upload.objects.filter(stale, state__in=_RUNNING).select_related("member").order_by("pk"):
        if member_upload_lock_is_held(upload.member_id):
            continue  # a live session still works on this member (perhaps waiting on a lock)
        with transaction.atomic():
            mine = Upload.objects.filter(pk=upload.pk, state=upload.state, heartbeat_at=upload.heartbeat_at)
            if upload.attempts >= knob(UPLOAD_MAX_ATTEMPTS):
                if not mine.exists():
                    continue
                _finish(
                    upload,
                    send_next=True,
                    state=UploadState.FAILED,
                    message=_("The job stopped responding while %(s)s, %(n)s times; it was given up.")
                    % {"s": upload.state, "n": upload.attempts},
                )
                action = "upload.fail"
                failed += 1
            else:
                if not mine.update(
                    state=UploadState.QUEUED,
                    message=_("The job stopped responding while %(s)s; it was queued again.") % {"s": upload.state},
                    heartbeat_at=now,
                    updated_at=now,
                ):
                    continue
                _send_after_commit(upload.pk)
                action = "upload.requeue"
                requeued += 1
            audit_record(
                actor=SystemActor("upload_watchdog", region_id=upload.member.region_id, member_id=upload.member_id),
                action=action,
                obj=upload,
                details={"state": upload.state, "attempts": upload.attempts},
            )
    lost = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, queued_at__lt=cutoff)
    for upload_id in Upload.objects.filter(lost, state=UploadState.QUEUED).values_list("pk", flat=True):
        with transaction.atomic():
            if Upload.objects.filter(pk=upload_id, state=UploadState.QUEUED).update(heartbeat_at=now):
                _send_after_commit(upload_id)
                resent += 1
    forgotten = (
        Upload.objects.exclude(idempotency_key="")
        .filter(created_at__lt=idempotency_cutoff(now))
        .update(idempotency_key="")
    )
    swept = receiving.sweep_incoming(older_than_seconds=_INCOMING_MAX_AGE)
    return WatchdogResult(
        requeued=requeued, failed=failed, resent=resent, keys_forgotten=forgotten, incoming_swept=swept
    )
