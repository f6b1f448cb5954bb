"""The rules of one entry row (``csv.md`` columns, ``consensus.md`` retention), shared by the
single-entry API, the portal form and the upload pipeline, so that all three accept and
refuse exactly the same rows with the same codes and messages."""

from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lenders.models import Region
from registry.choices import REASONS_BY_LIST, IdType, ListKind

ACTIONS = ("UPSERT", "WITHDRAW")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Sets built once: the upload pipeline checks millions of rows with these rules.
_ID_TYPES = frozenset(IdType.values)


# Every row rule, by (column, code): its message, in one place for every path that checks rows
# (the single-entry API, the portal form, the upload pipeline); ``{…}`` fields are filled with
# the row's values.
MESSAGES: dict[tuple[str, str], str] = {
    ("id_type", "required"): "id_type is required (RIC, USCC or MOBILE)",
    ("id_type", "invalid_id_type"): "id_type must be RIC, USCC or MOBILE",
    ("subject_hash", "required"): "subject_hash is required",
    ("subject_hash", "invalid_hash"): "subject_hash must be 64 hexadecimal characters",
    ("action", "invalid_action"): "action must be UPSERT or WITHDRAW",
    ("reference", "reference_too_long"): "reference is at most 64 characters",
    ("reference", "reference_not_printable"): "reference must not contain control characters or line breaks",
    ("list", "required"): "list is required (BLACK or WHITE)",
    ("list", "invalid_list"): "list must be BLACK or WHITE",
    ("reason", "required"): "reason is required",
    ("reason", "reason_not_for_list"): "reason {reason} is not valid for list {list}; use one of {allowed}",
    ("event_date", "required"): "event_date is required (YYYY-MM-DD)",
    ("event_date", "invalid_date"): "event_date must be a real date written YYYY-MM-DD",
    ("event_date", "future_date"): "event_date must not be in the future",
    ("event_date", "past_retention"): "the retention of this event ended on {limit}",
    ("expires_on", "invalid_date"): "expires_on must be a real date written YYYY-MM-DD",
    ("expires_on", "expires_not_after_today"): "expires_on must be after today",
    ("expires_on", "expires_before_event"): "expires_on must be after event_date",
    ("expires_on", "expires_beyond_retention"): "expires_on must not be after the retention limit {limit}",
}
REFERENCE_MAX = 64


@dataclass(frozen=True)
class RowError:
    column: str
    code: str
    message: str


def _error(column: str, code: str, **fields: str) -> RowError:
    return RowError(column, code, MESSAGES[column, code].format(**fields))


@dataclass(frozen=True)
class EntryRow:
    id_type: str
    subject_hash: bytes
    action: str
    list: str = ""
    reason: str = ""
    event_date: datetime.date | None = None
    expires_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    reference: str = ""


def add_years(day: datetime.date, years: int) -> datetime.date:
    """``day`` plus whole years; 29 February becomes 28 February in a common year."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 2, 28)
    return day.replace(year=year)


def retention_end(region: Region, list_kind: str, event_date: datetime.date) -> datetime.date:
    """The first day an entry no longer counts, by retention alone (``consensus.md``)."""
    years = region.black_retention_years if list_kind == ListKind.BLACK else region.white_retention_years
    return add_years(event_date, years)


def parse_subject_hash(value: str) -> bytes | None:
    value = value.strip()
    return bytes.fromhex(value) if _HEX64.fullmatch(value) else None


@functools.lru_cache(maxsize=8192)  # a file repeats the same few thousand dates
def _parse_date(value: str) -> datetime.date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


class RowRules:
    """Checks rows against one region's policy as of one day. Build it once per file."""

    def __init__(self, region: Region, today: datetime.date) -> None:
        self.region = region
        self.today = today
        self._retention: dict[tuple[str, datetime.date], datetime.date] = {}

    def _retention_end(self, list_kind: str, event_date: datetime.date) -> datetime.date:
        key = (list_kind, event_date)
        found = self._retention.get(key)
        if found is None:
            found = self._retention[key] = retention_end(self.region, list_kind, event_date)
        return found

    def check(self, raw: Mapping[str, str | None]) -> tuple[EntryRow | None, list[RowError]]:
        get = raw.get

        def value(name: str) -> str:
            found = get(name)
            if found.__class__ is str:
                return found.strip()  # type: ignore[union-attr]
            return "" if found is None else str(found).strip()

        errors: list[RowError] = []
        id_type = value("id_type").upper()
        if not id_type:
            errors.append(_error("id_type", "required"))
        elif id_type not in _ID_TYPES:
            errors.append(_error("id_type", "invalid_id_type"))
        hash_text = value("subject_hash")
        subject_hash = parse_subject_hash(hash_text)
        if not hash_text:
            errors.append(_error("subject_hash", "required"))
        elif subject_hash is None:
            errors.append(_error("subject_hash", "invalid_hash"))
        action = value("action").upper() or "UPSERT"
        if action not in ACTIONS:
            errors.append(_error("action", "invalid_action"))
        reference = value("reference")
        if len(reference) > REFERENCE_MAX:
            errors.append(_error("reference", "reference_too_long"))
        elif _CONTROL.search(reference) or not reference.isprintable():
            errors.append(_error("reference", "reference_not_printable"))
        if action == "WITHDRAW":
            if errors:
                return None, errors
            assert subject_hash is not None
            return EntryRow(id_type=id_type, subject_hash=subject_hash, action=action, reference=reference), []
        return self._check_upsert(raw, value, errors, id_type, subject_hash, reference)

    def _check_upsert(self, raw, value, errors, id_type, subject_hash, reference):  # type: ignore[no-untyped-def]
        list_kind = value("list").upper()
        reason = value("reason").upper()
        if not list_kind:
            errors.append(_error("list", "required"))
        elif list_kind not in REASONS_BY_LIST:
            errors.append(_error("list", "invalid_list"))
        if not reason:
            errors.append(_error("reason", "required"))
        elif list_kind in REASONS_BY_LIST and reason not in REASONS_BY_LIST[list_kind]:
            allowed = ", ".join(sorted(REASONS_BY_LIST[list_kind]))
            errors.append(_error("reason", "reason_not_for_list", reason=reason, list=list_kind, allowed=allowed))
        event_text = value("event_date")
        event_date = _parse_date(event_text)
        if not event_text:
            errors.append(_error("event_date", "required"))
        elif event_date is None:
            errors.append(_error("event_date", "invalid_date"))
        elif event_date > self.today:
            errors.append(_error("event_date", "future_date"))
        limit = None
        if event_date is not None and list_kind in REASONS_BY_LIST:
            limit = self._retention_end(list_kind, event_date)
            if limit <= self.today:
                errors.append(_error("event_date", "past_retention", limit=limit.isoformat()))
        expires_text = value("expires_on")
        expires_on = None
        if expires_text:
            expires_on = _parse_date(expires_text)
            if expires_on is None:
                errors.append(_error("expires_on", "invalid_date"))
            elif expires_on <= self.today:
                errors.append(_error("expires_on", "expires_not_after_today"))
            elif event_date is not None and expires_on <= event_date:
                errors.append(_error("expires_on", "expires_before_event"))
            elif limit is not None and expires_on > limit:
                errors.append(_error("expires_on", "expires_beyond_retention", limit=limit.isoformat()))
        if errors:
            return None, errors
        assert limit is not None and event_date is not None
        ends_on = min(limit, expires_on) if expires_on else limit
        return EntryRow(
            id_type=id_type,
            subject_hash=subject_hash,
            action="UPSERT",
            list=list_kind,
            reason=reason,
            event_date=event_date,
            expires_on=expires_on,
            ends_on=ends_on,
            reference=reference,
        ), []
