"""Helpers for registry tests: acting as a member, making subjects and entries."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from lenders.actors import Actor
from lenders.models import HashKey, Member, Region
from lenders.permissions import Perm
from lenders.services.members import member_update
from lenders.services.regions import region_update_policy
from registry.models import ConsensusHistory, ConsensusRecord, Entry
from registry.services.entries import EntryResult, entry_submit
from registry.services.entry_rules import add_years
from registry.services.lookups import lookup_subject


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
    """Submit one row as the member. ``today`` and ``key_id`` go to the service, the rest into the row."""
    today = extra.pop("today", None)
    key_id = extra.pop("key_id", None)
    row = {
        "id_type": extra.pop("id_type", "RIC"),
        "subject_hash": subject_hash,
        "list": list_kind,
        "reason": reason,
        "event_date": extra.pop("event_date", days_ago(30, today)),
    }
    row.update(extra)
    return entry_submit(actor=member_actor(member), data=row, key_id=key_id, today=today)


def new_region() -> Region:
    from tests.factories import RegionFactory

    return RegionFactory()  # type: ignore[return-value]


def new_member(region: Region | None = None) -> Member:
    """A member of ``region`` (of a new region if None), made through the real service."""
    from tests.factories import MemberFactory

    return MemberFactory(region=region or new_region())  # type: ignore[return-value]


# -- the system acting as the operator ---------------------------------------------------------


def operator_system(region: Region) -> Actor:
    return Actor.system("tests", region=region)


def set_member(member: Member, **changes: Any) -> Member:
    """``member_update`` by the operator: trust_weight, status, excluded_from_consensus."""
    return member_update(member=member, actor=operator_system(member.region), **changes)


def set_policy(region: Region, **changes: Any) -> Region:
    """``region_update_policy`` by the operator. Run it inside ``django_capture_on_commit_callbacks``
    (with the eager Celery fixture) to have the region recomputed."""
    updated, _changed = region_update_policy(region=region, actor=operator_system(region), changes=changes)
    return updated


# -- reading what a user sees -------------------------------------------------------------------


def lookup(member: Member, subject_hash: str, **options: Any) -> dict[str, Any]:
    """A lookup through the real service, as the member's analyst makes it."""
    options.setdefault("purpose", "UNDERWRITING")
    return lookup_subject(
        actor=member_actor(member), id_type=options.pop("id_type", "RIC"), subject_hash=subject_hash, **options
    )


def current_key(region: Region) -> HashKey:
    return HashKey.objects.get(region=region, is_current=True)


def record_of(region: Region, subject_hash: str, id_type: str = "RIC") -> ConsensusRecord | None:
    return ConsensusRecord.objects.filter(
        hash_key=current_key(region), id_type=id_type, subject_hash=bytes.fromhex(subject_hash)
    ).first()


def history_of(region: Region, subject_hash: str, id_type: str = "RIC") -> list[ConsensusHistory]:
    return list(
        ConsensusHistory.objects.filter(
            hash_key=current_key(region), id_type=id_type, subject_hash=bytes.fromhex(subject_hash)
        ).order_by("id")
    )


def entry_of(member: Member, subject_hash: str, id_type: str = "RIC") -> Entry:
    return Entry.objects.get(member=member, id_type=id_type, subject_hash=bytes.fromhex(subject_hash))


def local_today() -> datetime.date:
    """Today in Asia/Shanghai, the day every retention rule is counted in."""
    return timezone.localdate()


def event_date_ending_on(day: datetime.date, years: int) -> datetime.date | None:
    """An event date whose retention of ``years`` ends exactly on ``day`` (None if there is none,
    as for 29 February when ``day - years`` is a common year)."""
    start = add_years(day, -years)
    for shift in (0, 1, -1, 2, -2):
        candidate = start + datetime.timedelta(days=shift)
        if add_years(candidate, years) == day:
            return candidate
    return None


def run_command(name: str, *args: str) -> dict[str, Any]:
    """Run a management command; return the JSON object it prints as its last line."""
    from io import StringIO

    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is ``status`` in the error shape of ``api.md`` with ``code``; returns ``error``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["details"], dict)
    return dict(error)
