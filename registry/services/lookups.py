"""Lookups during underwriting: one subject or a batch of up to 10,000, each answered from the
stored consensus plus the caller's own entry, and each recorded (who, when, why, result).

The hot path is a fixed number of queries whatever the batch size: one read joining the
consensus and the caller's entries, one write of all lookup records. A consensus whose
``valid_until`` day has come (an entry's retention ended before the daily job ran) is
recomputed first, so a lookup never counts an entry past its end.
"""

from __future__ import annotations

import datetime
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Forbidden, InvalidInput
from core.request_context import current_request_context
from lenders.actors import Actor
from lenders.models import HashKey, Member, Region
from lenders.permissions import Perm
from registry.choices import REASON_COLUMNS, ConsensusCause, ConsensusStatus, IdType, LookupPurpose
from registry.services.consensus import consensus_recompute_subjects
from registry.services.entry_rules import parse_subject_hash
from registry.sql.consensus import CONSENSUS_FIELDS

MAX_BATCH = 10_000
_CONSENT_MAX = 64
_KEY_CACHE_SECONDS = 10.0
_key_cache: dict[int, tuple[float, dict[str, HashKey], HashKey]] = {}

# The stored consensus fields (the engine's own list) and when the record last changed.
_CONSENSUS_COLUMNS = (*CONSENSUS_FIELDS, "updated_at")
_SELECT = ", ".join(f"c.{name}" for name in _CONSENSUS_COLUMNS) + ", e.id, e.list, e.reason, e.event_date, e.state"


@dataclass(frozen=True)
class LookupOptions:
    purpose: str
    consent_reference: str
    hash_key: HashKey
    # False when the caller named no key_id and gets the region's current key.
    explicit_key: bool = False


def _region_keys(region: Region) -> tuple[dict[str, HashKey], HashKey]:
    cached = _key_cache.get(region.pk)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        keys = {key.key_id: key for key in HashKey.objects.filter(region=region)}
        current = next(key for key in keys.values() if key.is_current)
        cached = (now + _KEY_CACHE_SECONDS, keys, current)
        _key_cache[region.pk] = cached
    return cached[1], cached[2]


def _hash_key(region: Region, key_id: str | None) -> HashKey | None:
    keys, current = _region_keys(region)
    if not key_id:
        return current
    if key_id not in keys:  # a key made since the cache was filled
        _key_cache.pop(region.pk, None)
        keys, current = _region_keys(region)
    return keys.get(key_id)


def _lookup_member(actor: Actor) -> Member:
    actor.require(Perm.LOOKUP)
    if actor.member is None:
        raise Forbidden(_("Lookups are made by members."))
    return actor.member


def lookup_options(
    *, actor: Actor, purpose: Any, consent_reference: Any, key_id: Any
) -> tuple[LookupOptions, dict[str, list[str]]]:
    """Check what every lookup states: its purpose, consent and key."""
    region = actor.region
    assert region is not None
    errors: dict[str, list[str]] = {}
    if purpose not in LookupPurpose.values:
        errors["purpose"] = [_("purpose is required: one of %(p)s.") % {"p": ", ".join(LookupPurpose.values)}]
    consent = consent_reference if isinstance(consent_reference, str) else ""
    consent = consent.strip()
    if consent_reference is not None and not isinstance(consent_reference, str):
        errors["consent_reference"] = [_("consent_reference must be text.")]
    elif len(consent) > _CONSENT_MAX or not consent.isprintable():
        errors["consent_reference"] = [_("At most 64 printable characters.")]
    elif region.consent_reference_required and not consent:
        errors["consent_reference"] = [_("This region requires the reference of the subject's written consent.")]
    hash_key = _hash_key(region, key_id if isinstance(key_id, str) else None)
    if (key_id is not None and not isinstance(key_id, str)) or hash_key is None:
        errors["key_id"] = [_("This region has no hash key %(k)s.") % {"k": key_id}]
    options = LookupOptions(
        purpose=str(purpose),
        consent_reference=consent,
        hash_key=hash_key,  # type: ignore[arg-type]
        explicit_key=bool(key_id),
    )
    return options, errors


def _parse_subject(id_type: Any, subject_hash: Any) -> tuple[str, bytes] | str:
    if id_type not in IdType.values:
        return _("id_type must be RIC, USCC or MOBILE")
    parsed = parse_subject_hash(subject_hash) if isinstance(subject_hash, str) else None
    if parsed is None:
        return _("subject_hash must be 64 hexadecimal characters")
    return str(id_type), parsed


def _iso_utc(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _as_datetime(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _result(id_type: str, subject_hash: bytes, key_id: str, row: Sequence[Any] | None) -> dict[str, Any]:
    """The lookup result shape of ``api.md`` from one joined row (or none: never seen)."""
    values = dict(zip(_CONSENSUS_COLUMNS, row[: len(_CONSENSUS_COLUMNS)], strict=True)) if row else {}
    seen = values.get("status") is not None
    own = None
    if row is not None and row[len(_CONSENSUS_COLUMNS)] is not None:
        entry_id, list_kind, reason, event_date, state = row[len(_CONSENSUS_COLUMNS) :]
        own = {
            "id": entry_id,
            "list": list_kind,
            "reason": reason,
            "event_date": str(_as_date(event_date)),
            "state": state,
        }
    latest = _as_date(values.get("latest_black_event_date"))
    return {
        "id_type": id_type,
        "subject_hash": subject_hash.hex(),
        "key_id": key_id,
        "status": values["status"] if seen else ConsensusStatus.CLEAR.value,
        "black_score": values["black_score"] if seen else 0,
        "black_members": values["black_members"] if seen else 0,
        "white_members": values["white_members"] if seen else 0,
        "reasons": {code: values[column] for code, column in REASON_COLUMNS.items() if seen and values[column]},
        "latest_black_event_date": latest.isoformat() if latest else None,
        "conflict": bool(values.get("conflict")),
        "disputed": bool(values.get("disputed")),
        "own_entry": own,
        "consensus_updated_at": _iso_utc(_as_datetime(values.get("updated_at"))) if seen else None,
    }


def _fetch(
    member: Member, hash_key: HashKey, subjects: list[tuple[str, bytes]]
) -> tuple[dict[tuple[str, bytes], tuple[Any, ...]], str | None]:
    """One query: the consensus and the caller's own entry of every distinct subject, and the
    region's current key_id as the database has it (to catch a rotation the key cache missed)."""
    distinct = list(dict.fromkeys(subjects))
    current = "(SELECT ck.key_id FROM lenders_hashkey ck WHERE ck.region_id = %s AND ck.is_current)"
    joins = (
        " LEFT JOIN registry_consensusrecord c ON c.hash_key_id = %s AND c.id_type = q.id_type"
        " AND c.subject_hash = q.subject_hash"
        " LEFT JOIN registry_entry e ON e.member_id = %s AND e.hash_key_id = %s AND e.id_type = q.id_type"
        " AND e.subject_hash = q.subject_hash"
    )
    join_params = [hash_key.pk, member.pk, hash_key.pk]
    region_id = member.region_id
    with connection.cursor() as cursor:
        if len(distinct) == 1:
            sql = (
                f"SELECT q.id_type, q.subject_hash, {current}, {_SELECT}"
                f" FROM (SELECT %s AS id_type, %s AS subject_hash) q{joins}"
            )
            cursor.execute(sql, [region_id, distinct[0][0], distinct[0][1], *join_params])
        elif connection.vendor == "postgresql":
            sql = (
                f"SELECT q.id_type, q.subject_hash, {current}, {_SELECT}"
                f" FROM unnest(%s::varchar[], %s::bytea[]) AS q(id_type, subject_hash){joins}"
            )
            cursor.execute(sql, [region_id, [t for t, _ in distinct], [h for _, h in distinct], *join_params])
        else:
            cursor.execute("DROP TABLE IF EXISTS _lookup_q")
            cursor.execute("CREATE TEMPORARY TABLE _lookup_q (id_type TEXT, subject_hash BLOB)")
            cursor.executemany("INSERT INTO _lookup_q VALUES (%s, %s)", distinct)
            cursor.execute(
                f"SELECT q.id_type, q.subject_hash, {current}, {_SELECT} FROM _lookup_q q{joins}",
                [region_id, *join_params],
            )
        rows = cursor.fetchall()
        if connection.vendor != "postgresql" and len(distinct) > 1:
            cursor.execute("DROP TABLE _lookup_q")
    current_key_id = str(rows[0][2]) if rows and rows[0][2] is not None else None
    return {(str(row[0]), bytes(row[1])): tuple(row[3:]) for row in rows}, current_key_id


def _read(
    member: Member, options: LookupOptions, subjects: list[tuple[str, bytes]], today: datetime.date
) -> tuple[LookupOptions, dict[tuple[str, bytes], tuple[Any, ...]]]:
    """The consensus of ``subjects`` under the lookup's key, fresh as of ``today``."""
    found, current_key_id = _fetch(member, options.hash_key, subjects)
    if not options.explicit_key and current_key_id != options.hash_key.key_id:
        # The region's key was rotated after this process cached its keys: a lookup without
        # key_id must use the new current key at once, never the retired one.
        _key_cache.pop(member.region_id, None)
        current = _hash_key(member.region, None)
        assert current is not None
        options = replace(options, hash_key=current)
        found, _current = _fetch(member, options.hash_key, subjects)
    return options, _refresh_stale(member, options.hash_key, found, today)


def _refresh_stale(
    member: Member, hash_key: HashKey, found: dict[tuple[str, bytes], tuple[Any, ...]], today: datetime.date
) -> dict[tuple[str, bytes], tuple[Any, ...]]:
    valid_until_at = _CONSENSUS_COLUMNS.index("valid_until")
    stale = []
    for key, row in found.items():
        valid_until = _as_date(row[valid_until_at])
        if row[0] is not None and valid_until is not None and valid_until <= today:
            stale.append(key)
    if not stale:
        return found
    with transaction.atomic():
        consensus_recompute_subjects(
            region=member.region,
            subjects=[(hash_key.pk, t, h) for t, h in stale],
            cause=ConsensusCause.EXPIRY,
            cause_ref=f"lookup:{today.isoformat()}",
            today=today,
        )
    found.update(_fetch(member, hash_key, stale)[0])
    return found


def _record_rows(
    actor: Actor, member: Member, options: LookupOptions, results: list[dict[str, Any]], batch_id: uuid.UUID | None
) -> None:
    """Write one lookup record per result, all in one statement, and give each its lookup_id."""
    now = timezone.now()
    ctx = current_request_context()
    request_id = ctx.request_id if ctx else ""
    randomness = os.urandom(16 * len(results))
    ids = [uuid.UUID(bytes=randomness[i * 16 : i * 16 + 16], version=4) for i in range(len(results))]
    user_id = actor.user_id
    prefix = actor.api_key.prefix if actor.api_key is not None else ""
    region_id = member.region_id
    columns = (
        "id, batch_id, created_at, region_id, member_id, user_id, api_key_prefix, hash_key_id, id_type,"
        " subject_hash, purpose, consent_reference, status, black_score, request_id"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(results) > 1:
            cursor.execute(
                f"INSERT INTO registry_lookuprecord ({columns})"
                " SELECT q.id, %s, %s, %s, %s, %s, %s, %s, q.id_type, q.subject_hash, %s, %s,"
                " q.status, q.black_score, %s"
                " FROM unnest(%s::uuid[], %s::varchar[], %s::bytea[], %s::varchar[], %s::smallint[])"
                " AS q(id, id_type, subject_hash, status, black_score)",
                [
                    batch_id,
                    now,
                    region_id,
                    member.pk,
                    user_id,
                    prefix,
                    options.hash_key.pk,
                    options.purpose,
                    options.consent_reference,
                    request_id,
                    [str(i) for i in ids],
                    [r["id_type"] for r in results],
                    [bytes.fromhex(r["subject_hash"]) for r in results],
                    [r["status"] for r in results],
                    [r["black_score"] for r in results],
                ],
            )
        else:
            params = [
                (
                    ids[i].hex if connection.vendor == "sqlite" else str(ids[i]),
                    (batch_id.hex if connection.vendor == "sqlite" else str(batch_id)) if batch_id else None,
                    now,
                    region_id,
                    member.pk,
                    user_id,
                    prefix,
                    options.hash_key.pk,
                    r["id_type"],
                    bytes.fromhex(r["subject_hash"]),
                    options.purpose,
                    options.consent_reference,
                    r["status"],
                    r["black_score"],
                    request_id,
                )
                for i, r in enumerate(results)
            ]
            placeholders = ", ".join(["%s"] * 15)
            cursor.executemany(f"INSERT INTO registry_lookuprecord ({columns}) VALUES ({placeholders})", params)
    for lookup_id, result in zip(ids, results, strict=True):
        result["lookup_id"] = str(lookup_id)


def lookup_subject(
    *, actor: Actor, id_type: Any, subject_hash: Any, purpose: Any, consent_reference: Any = None, key_id: Any = None
) -> dict[str, Any]:
    """One subject, as ``GET lookups/{id_type}/{subject_hash}`` answers it."""
    member = _lookup_member(actor)
    options, errors = lookup_options(actor=actor, purpose=purpose, consent_reference=consent_reference, key_id=key_id)
    parsed = _parse_subject(id_type, subject_hash)
    if isinstance(parsed, str):
        errors["subject"] = [parsed]
    if errors:
        raise InvalidInput(_("The lookup was refused."), details=errors)
    assert not isinstance(parsed, str)
    today = timezone.localdate()
    options, found = _read(member, options, [parsed], today)
    result = _result(parsed[0], parsed[1], options.hash_key.key_id, found.get(parsed))
    _record_rows(actor, member, options, [result], None)
    return result


def lookup_batch(
    *, actor: Actor, subjects: Any, purpose: Any, consent_reference: Any = None, key_id: Any = None
) -> dict[str, Any]:
    """Up to 10,000 subjects, results in request order. Any malformed subject refuses the whole
    batch (``details`` names each bad index) and records nothing."""
    member = _lookup_member(actor)
    options, errors = lookup_options(actor=actor, purpose=purpose, consent_reference=consent_reference, key_id=key_id)
    parsed: list[tuple[str, bytes]] = []
    if not isinstance(subjects, list) or not 1 <= len(subjects) <= MAX_BATCH:
        errors["subjects"] = [_("A list of 1 to %(n)s subjects is required.") % {"n": f"{MAX_BATCH:,}"}]
    else:
        bad: dict[str, list[str]] = {}
        for index, item in enumerate(subjects):
            if not isinstance(item, dict) or set(item) - {"id_type", "subject_hash"}:
                bad[str(index)] = [_("Each subject is an object {id_type, subject_hash}.")]
                continue
            one = _parse_subject(item.get("id_type"), item.get("subject_hash"))
            if isinstance(one, str):
                bad[str(index)] = [one]
            else:
                parsed.append(one)
        if bad:
            errors["subjects"] = bad  # type: ignore[assignment]
    if errors:
        raise InvalidInput(_("The batch was refused; nothing was looked up."), details=errors)
    today = timezone.localdate()
    options, found = _read(member, options, parsed, today)
    results = [_result(t, h, options.hash_key.key_id, found.get((t, h))) for t, h in parsed]
    batch_id = uuid.uuid4()
    _record_rows(actor, member, options, results, batch_id)
    return {"lookup_batch_id": str(batch_id), "results": results}
