"""The tamper-evident audit log: writing events and verifying the chain.

Each event's ``hash`` is SHA-256 over its own fields and the previous event's hash, so
editing, deleting or inserting a row breaks the chain at that point. Writers take a lock
before reading the chain's head, so two transactions never fork it: on PostgreSQL a
transaction-scoped advisory lock, on SQLite the write lock that an IMMEDIATE transaction
already holds. Services write the event last in their transaction to keep the lock short.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from core.models import AuditEvent
from core.request_context import current_request_context

GENESIS_HASH = "0" * 64
_CHAIN_LOCK = 7_314_009_211  # arbitrary constant naming the audit chain's advisory lock
_FORBIDDEN_DETAIL_KEYS = {"key", "key_b64", "password", "secret", "raw", "raw_id", "token"}


class AuditActor(Protocol):
    """Who acted: a staff user, an API key, or the system (a command or a scheduled job)."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def api_key_id(self) -> str | None: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def region_id(self) -> int | None: ...
    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """The registry itself, acting for a management command or a scheduled job."""

    label: str
    region_id: int | None = None
    user_id: int | None = None
    api_key_id: str | None = None
    member_id: int | None = None


def _normalised(details: Mapping[str, Any]) -> dict[str, Any]:
    bad = _FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in details)
    if bad:
        raise ValueError(f"audit details must not carry secrets or raw ids: {sorted(bad)}")
    # Round-trip through JSON so that what is hashed is exactly what the database gives back.
    return json.loads(json.dumps(details, default=str, sort_keys=True))


def event_digest(
    *,
    prev_hash: str,
    created_at: datetime.datetime,
    region_id: int | None,
    member_id: int | None,
    user_id: int | None,
    api_key_id: str,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    request_id: str,
    ip: str | None,
    details: Mapping[str, Any],
) -> str:
    payload = {
        "prev_hash": prev_hash,
        "created_at": created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "region_id": region_id,
        "member_id": member_id,
        "user_id": user_id,
        "api_key_id": api_key_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "request_id": request_id,
        "ip": ip,
        "details": details,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])


def audit_record(
    *,
    actor: AuditActor,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    region_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction that makes the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    ctx = current_request_context()
    clean_details = _normalised(details or {})
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        fields: dict[str, Any] = {
            "created_at": timezone.now(),
            "region_id": region_id if region_id is not None else actor.region_id,
            "member_id": actor.member_id,
            "user_id": actor.user_id,
            "api_key_id": actor.api_key_id or "",
            "actor_label": actor.label[:200],
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "request_id": ctx.request_id if ctx else "",
            "ip": ctx.ip if ctx else None,
            "details": clean_details,
        }
        prev_hash = head or GENESIS_HASH
        return AuditEvent.objects.create(
            prev_hash=prev_hash, hash=event_digest(prev_hash=prev_hash, **fields), **fields
        )


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    first_broken_id: int | None


def audit_verify_chain() -> ChainReport:
    """Walk the whole log in order and report the first event whose link does not hold."""
    prev_hash = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=5000):
        count += 1
        expected = event_digest(
            prev_hash=prev_hash,
            created_at=event.created_at,
            region_id=event.region_id,
            member_id=event.member_id,
            user_id=event.user_id,
            api_key_id=event.api_key_id,
            actor_label=event.actor_label,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            request_id=event.request_id,
            ip=event.ip,
            details=event.details,
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return ChainReport(events=AuditEvent.objects.count(), ok=False, first_broken_id=event.id)
        prev_hash = event.hash
    return ChainReport(events=count, ok=True, first_broken_id=None)
