"""Data lifecycle (``quality.md``, issue 7): deleting what the registry no longer may keep.

* Entries that stopped counting: a ``WITHDRAWN`` or ``EXPIRED`` entry once the region's
  ``entry_purge_grace_days`` have passed since its state changed, and any entry that is not
  active once that grace has passed after its retention ended (``ends_on``), ``REMOVED``
  ones included. Active entries are never purged (the nightly expiry marks them first).
* Lookup records older than the region's ``lookup_retention_days``.

Each region is purged in one transaction with set-based statements (a temporary table of
the doomed ids, one ``DELETE`` per table), whatever the number of rows, and with one summary
audit event per region and run. The audit events of the deleted rows stay: the audit log
refers to objects by id, never by foreign key. The purged entries' subjects are recomputed in
the same transaction, so the stored consensus stays what a full recompute gives.

A row that another table still points at (a dispute item naming an entry, say) is kept: the
foreign keys into the table are found from the models, so a later feature is covered too.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import SystemActor, audit_record
from lenders.models import Region
from registry.choices import ConsensusCause, EntryState
from registry.models import Entry, LookupRecord
from registry.services.consensus import consensus_recompute_query

_ACTOR_LABEL = "purge_data"


@dataclass(frozen=True)
class RegionPurge:
    region_id: int
    entries: int
    lookup_records: int
    entries_cutoff: datetime.date
    lookups_cutoff: datetime.datetime


@dataclass
class PurgeResult:
    regions: list[RegionPurge] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(r.entries for r in self.regions)

    @property
    def lookup_records(self) -> int:
        return sum(r.lookup_records for r in self.regions)

    def as_dict(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "lookup_records": self.lookup_records,
            "regions": {r.region_id: {"entries": r.entries, "lookup_records": r.lookup_records} for r in self.regions},
        }


def _unreferenced(model: type[models.Model], alias: str) -> str:
    """SQL conditions keeping rows of ``model`` (aliased ``alias``) that another table points at."""
    quote = connection.ops.quote_name
    conditions = []
    for relation in model._meta.related_objects:
        if relation.many_to_many:  # through tables are not kept rows of their own
            continue
        related: Any = relation.related_model
        fk: Any = relation.field
        table = quote(related._meta.db_table)
        column = quote(fk.column)
        target = quote(fk.target_field.column)
        conditions.append(f"NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{column} = {alias}.{target})")
    return " AND ".join(conditions) or "1 = 1"


def _purge_entries(*, region: Region, today: datetime.date, now: datetime.datetime) -> int:
    grace = datetime.timedelta(days=region.entry_purge_grace_days)
    doomed = (
        Entry.objects.filter(hash_key__region=region)
        .exclude(state=EntryState.ACTIVE)
        .filter(
            Q(ends_on__lte=today - grace)
            | Q(state__in=[EntryState.WITHDRAWN, EntryState.EXPIRED], state_changed_at__lte=now - grace)
        )
        .values("id", "hash_key_id", "id_type", "subject_hash")
    )
    sql, params = doomed.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS _purging")
        cursor.execute(
            f"CREATE TEMPORARY TABLE _purging AS SELECT p.* FROM ({sql}) p WHERE {_unreferenced(Entry, 'p')}",
            params,
        )
        cursor.execute("DELETE FROM registry_entry WHERE id IN (SELECT id FROM _purging)")
        deleted = cursor.rowcount
    if deleted:
        # Entries that stopped counting change no consensus; recomputing their subjects keeps
        # that true even for a record left stale by a missed expiry run.
        consensus_recompute_query(
            region=region,
            subjects_sql="SELECT hash_key_id, id_type, subject_hash FROM _purging",
            params=[],
            cause=ConsensusCause.EXPIRY,
            cause_ref=f"purge:{today.isoformat()}",
            today=today,
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS _purging")
    return deleted


def _purge_lookup_records(*, region: Region, before: datetime.datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM registry_lookuprecord WHERE region_id = %s AND created_at < %s"
            f" AND {_unreferenced(LookupRecord, 'registry_lookuprecord')}",
            [region.pk, before],
        )
        return int(cursor.rowcount)


def region_data_purge(*, region: Region, now: datetime.datetime | None = None) -> RegionPurge:
    """Purge one region's expired data in one transaction, with one summary audit event
    (only when something was deleted). Running it twice deletes nothing more."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        region = Region.objects.get(pk=region.pk)  # the retention settings as they are now
        entries_cutoff = today - datetime.timedelta(days=region.entry_purge_grace_days)
        lookups_cutoff = now - datetime.timedelta(days=region.lookup_retention_days)
        entries = _purge_entries(region=region, today=today, now=now)
        lookup_records = _purge_lookup_records(region=region, before=lookups_cutoff)
        if entries or lookup_records:
            audit_record(
                actor=SystemActor(_ACTOR_LABEL, region_id=region.pk),
                action="data.purge",
                obj=region,
                region_id=region.pk,
                details={
                    "entries": entries,
                    "lookup_records": lookup_records,
                    "entry_purge_grace_days": region.entry_purge_grace_days,
                    "lookup_retention_days": region.lookup_retention_days,
                    "lookup_records_before": lookups_cutoff,
                },
            )
    return RegionPurge(
        region_id=region.pk,
        entries=entries,
        lookup_records=lookup_records,
        entries_cutoff=entries_cutoff,
        lookups_cutoff=lookups_cutoff,
    )


def data_purge(*, now: datetime.datetime | None = None) -> PurgeResult:
    """Purge every region, each in its own transaction (the nightly ``purge_data`` task)."""
    result = PurgeResult()
    for region in Region.objects.order_by("pk"):
        result.regions.append(region_data_purge(region=region, now=now))
    return result
