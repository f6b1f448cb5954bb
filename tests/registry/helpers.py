"""Helpers for registry tests: acting as a member, making subjects and entries."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from lenders.actors import Actor
from lenders.models import Member
from lenders.permissions import Perm
from registry.services.entries import EntryResult, entry_submit


def member_actor(member: Member) -> Actor:
    """A member acting with every member capability (as its MEMBER_ADMIN would)."""
    return Actor(region=member.region, member=member, permissions=frozenset(Perm))


def subject(n: int | str) -> str:
    """A distinct, well-formed subject hash (64 hex characters) for test number n."""
    return hashlib.sha256(f"subject-{n}".encode()).hexdigest()


def days_ago(days: int, today: datetime.date | None = None) -> str:
    return ((today or datetime.date.today()) - datetime.timedelta(days=days)).isoformat()


def submit(
    member: Member, subject_hash: str, list_kind: str = "BLACK", reason: str = "SEVERE_OVERDUE", **extra: Any
) -> EntryResult:
    row = {
        "id_type": extra.pop("id_type", "RIC"),
        "subject_hash": subject_hash,
        "list": list_kind,
        "reason": reason,
        "event_date": extra.pop("event_date", days_ago(30)),
    }
    row.update(extra)
    return entry_submit(actor=member_actor(member), data=row)
