"""A member's entries: submit (upsert or withdraw) one row, withdraw by id, expire by date.
Every change recomputes the subject's consensus in the same transaction."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import SystemActor, audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lenders.actors import Actor
from lenders.models import HashKey, Member, Region
from lenders.permissions import Perm
from registry.choices import ConsensusCause, EntryState, ListKind
from registry.models import Entry, RelistBlock
from registry.services.consensus import consensus_recompute_query, consensus_recompute_subjects
from registry.services.entry_rules import EntryRow, RowError, RowRules

_AUDIT_ACTIONS = {"created": "entry.create", "updated": "entry.update", "withdrawn": "entry.withdraw"}
_COMPARED = ("list", "reason", "event_date", "expires_on", "ends_on", "reference")


@dataclass(frozen=True)
class EntryResult:
    result: str  # created, updated, unchanged, withdrawn
    entry: Entry | None


def hash_key_for(region: Region, key_id: str | None) -> HashKey:
    """The region's key named ``key_id``, or its current key."""
    keys = HashKey.objects.filter(region=region)
    key = keys.filter(key_id=key_id).first() if key_id else keys.filter(is_current=True).first()
    if key is None:
        raise InvalidInput(
            _("Unknown key_id."), details={"key_id": [_("This region has no hash key %(k)s.") % {"k": key_id}]}
        )
    return key


def row_errors_as_details(errors: list[RowError]) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in errors:
        details.setdefault(error.column, []).append(f"{error.code}: {error.message}")
    return details


def _acting_member(actor: Actor) -> Member:
    actor.require(Perm.ENTRY_WRITE)
    if actor.member is None:
        raise Forbidden(_("Only a member can hold entries."))
    return actor.member


def relist_blocked(
    *, member: Member, hash_key: HashKey, id_type: str, subject_hash: bytes, today: datetime.date
) -> RelistBlock | None:
    return (
        RelistBlock.objects.filter(
            member=member,
            hash_key=hash_key,
            id_type=id_type,
            subject_hash=subject_hash,
            lifted_at__isnull=True,
            until__gt=today,
        )
        .order_by("-until")
        .first()
    )


def _apply(member: Member, hash_key: HashKey, row: EntryRow, today: datetime.date) -> EntryResult:
    lookup = {"member": member, "hash_key": hash_key, "id_type": row.id_type, "subject_hash": row.subject_hash}
    existing = Entry.objects.select_for_update().filter(**lookup).first()
    now = timezone.now()
    if row.action == "WITHDRAW":
        if existing is None or existing.state != EntryState.ACTIVE:
            return EntryResult("unchanged", existing)
        existing.state = EntryState.WITHDRAWN
        existing.state_changed_at = now
        existing.save(update_fields=["state", "state_changed_at", "updated_at"])
        return EntryResult("withdrawn", existing)
    if row.list == ListKind.BLACK:
        block = relist_blocked(
            member=member, hash_key=hash_key, id_type=row.id_type, subject_hash=row.subject_hash, today=today
        )
        if block is not None:
            raise Conflict(
                _(
                    "This subject's BLACK entry was removed by a dispute; it cannot be listed as BLACK "
                    "again before %(d)s unless the operator lifts the block."
                )
                % {"d": block.until.isoformat()},
                code="relist_blocked",
            )
    values = {name: getattr(row, name) for name in _COMPARED}
    if existing is None:
        try:
            with transaction.atomic():
                return EntryResult("created", Entry.objects.create(**lookup, **values))
        except IntegrityError:  # a concurrent request created it first: update that one
            existing = Entry.objects.select_for_update().get(**lookup)
    if existing.state == EntryState.ACTIVE and all(getattr(existing, k) == v for k, v in values.items()):
        return EntryResult("unchanged", existing)
    for name, value in values.items():
        setattr(existing, name, value)
    if existing.state != EntryState.ACTIVE:
        existing.state = EntryState.ACTIVE
        existing.state_changed_at = now
    existing.save()
    return EntryResult("updated", existing)


def entry_submit(
    *, actor: Actor, data: Mapping[str, Any], key_id: str | None = None, today: datetime.date | None = None
) -> EntryResult:
    """Apply one row of ``csv.md`` (an ``UPSERT`` or a ``WITHDRAW``) to the member's entries."""
    member = _acting_member(actor)
    today = today or timezone.localdate()
    region = member.region
    row, errors = RowRules(region, today).check(data)
    if errors:
        raise InvalidInput(_("The entry was not saved."), details=row_errors_as_details(errors))
    assert row is not None
    hash_key = hash_key_for(region, key_id)
    with transaction.atomic():
        outcome = _apply(member, hash_key, row, today)
        if outcome.result != "unchanged" and outcome.entry is not None:
            entry = outcome.entry
            consensus_recompute_subjects(
                region=region,
                subjects=[(hash_key.pk, row.id_type, row.subject_hash)],
                cause=ConsensusCause.ENTRY_EDIT,
                cause_ref=f"entry:{entry.pk}",
                today=today,
            )
            audit_record(
                actor=actor,
                action=_AUDIT_ACTIONS[outcome.result],
                obj=entry,
                details={"list": entry.list, "reason": entry.reason, "state": entry.state, "key_id": hash_key.key_id},
            )
    return outcome


def entry_withdraw(*, actor: Actor, entry_id: int, note: str = "") -> Entry:
    """Withdraw one of the member's own active entries (another member's id is not found)."""
    member = _acting_member(actor)
    note = note.strip()
    if len(note) > 500:
        raise InvalidInput(_("The entry was not withdrawn."), details={"note": [_("At most 500 characters.")]})
    with transaction.atomic():
        entry = Entry.objects.of_member(member).select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise NotFound(_("No such entry."))
        if entry.state != EntryState.ACTIVE:
            raise Conflict(
                _("Only an active entry can be withdrawn; this one is %(s)s.") % {"s": EntryState(entry.state).label},
                code="entry_not_active",
            )
        entry.state = EntryState.WITHDRAWN
        entry.state_changed_at = timezone.now()
        entry.save(update_fields=["state", "state_changed_at", "updated_at"])
        consensus_recompute_subjects(
            region=member.region,
            subjects=[(entry.hash_key_id, entry.id_type, bytes(entry.subject_hash))],
            cause=ConsensusCause.ENTRY_EDIT,
            cause_ref=f"entry:{entry.pk}",
        )
        audit_record(actor=actor, action="entry.withdraw", obj=entry, details={"note": note})
    return entry


def entries_expire(*, as_of: datetime.date) -> int:
    """Mark every active entry whose end has come as ``EXPIRED`` and recompute its subjects,
    region by region, with the history cause ``EXPIRY``. Running it twice changes nothing more."""
    expired = 0
    for region in Region.objects.all():
        with transaction.atomic():
            ids = Entry.objects.filter(
                hash_key__region=region, state=EntryState.ACTIVE, ends_on__lte=as_of
            ).values_list("id", flat=True)
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS _expiring")
                sql, params = ids.query.sql_with_params()
                cursor.execute(f"CREATE TEMPORARY TABLE _expiring AS {sql}", params)
                cursor.execute("SELECT count(*) FROM _expiring")
                count = int(cursor.fetchone()[0])
            if count:
                now = timezone.now()
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE registry_entry SET state = %s, state_changed_at = %s, updated_at = %s"
                        " WHERE id IN (SELECT id FROM _expiring)",
                        [EntryState.EXPIRED.value, now, now],
                    )
                consensus_recompute_query(
                    region=region,
                    subjects_sql="SELECT e.hash_key_id, e.id_type, e.subject_hash FROM registry_entry e"
                    " WHERE e.id IN (SELECT id FROM _expiring)"
                    " UNION ALL SELECT c.hash_key_id, c.id_type, c.subject_hash FROM registry_consensusrecord c"
                    " WHERE c.region_id = %s AND c.valid_until <= %s",
                    params=[region.pk, as_of],
                    cause=ConsensusCause.EXPIRY,
                    cause_ref=f"expiry:{as_of.isoformat()}",
                    today=as_of,
                )
                audit_record(
                    actor=SystemActor("expire_entries", region_id=region.pk),
                    action="entries.expire",
                    object_type="registry.region",
                    object_id=region.pk,
                    details={"as_of": as_of, "expired": count},
                )
                expired += count
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS _expiring")
    return expired
