"""What the dashboard's charts show: counts grouped in the database, a fixed number of queries
whatever the number of rows (tests/portal/test_dashboard_charts.py counts them).

Days are calendar days in the portal's time zone (Asia/Shanghai), oldest first, every day of
the window present (zero when nothing happened), so that a chart's axis has no gaps.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from lenders.models import Member, Region
from registry.choices import REASONS_BY_LIST, ConsensusStatus, EntryState, ListKind
from registry.models import ConsensusHistory, ConsensusRecord, Entry, LookupRecord, Upload

WINDOW_DAYS = 30


@dataclass(frozen=True)
class DailySeries:
    """Counts per day over the window, aligned on ``days``."""

    days: list[str]
    series: dict[str, list[int]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        return {name: sum(values) for name, values in self.series.items()}


def _window(days: int, today: datetime.date | None) -> tuple[list[datetime.date], datetime.datetime]:
    last = today or timezone.localdate()
    first = last - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    return [first + datetime.timedelta(days=n) for n in range(days)], start


def _per_day(queryset: QuerySet[Any], start: datetime.datetime) -> dict[datetime.date, int]:
    """One query: rows created since ``start``, counted per local day."""
    rows = (
        queryset.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def _aligned(days: Iterable[datetime.date], counts: dict[datetime.date, int]) -> list[int]:
    return [counts.get(day, 0) for day in days]


def member_activity_per_day(
    *, member: Member, days: int = WINDOW_DAYS, today: datetime.date | None = None
) -> DailySeries:
    """The member's uploads and lookups per day (two queries)."""
    window, start = _window(days, today)
    uploads = _per_day(Upload.objects.of_member(member), start)
    lookups = _per_day(LookupRecord.objects.filter(member=member), start)
    return DailySeries(
        days=[day.isoformat() for day in window],
        series={"uploads": _aligned(window, uploads), "lookups": _aligned(window, lookups)},
    )


def member_lookups_this_month(*, member: Member, today: datetime.date | None = None) -> int:
    """The member's lookups since the first of this month in Asia/Shanghai (one query): the
    figure a member checks against its lookup quota and its consent records."""
    first = (today or timezone.localdate()).replace(day=1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    return LookupRecord.objects.filter(member=member, created_at__gte=start).count()


def member_entries_by_list_and_reason(*, member: Member) -> dict[str, dict[str, int]]:
    """The member's active entries: {list: {reason: count}}, every reason of each list present
    (one query)."""
    counts: dict[str, dict[str, int]] = {kind: dict.fromkeys(REASONS_BY_LIST[kind], 0) for kind in ListKind.values}
    rows = (
        Entry.objects.of_member(member)
        .filter(state=EntryState.ACTIVE)
        .values("list", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["list"], {})[row["reason"]] = row["n"]
    return counts


def region_subjects_by_status(*, region: Region) -> dict[str, int]:
    """The region's subjects by their current consensus status (one query). Subjects never
    seen are not counted as CLEAR: the registry knows only those it holds a record of."""
    counts = dict.fromkeys(ConsensusStatus.values, 0)
    rows = ConsensusRecord.objects.filter(region=region).values("status").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


# The statuses whose mix is drawn over time: a subject that becomes CLEAR leaves them.
LISTED_STATUSES = (ConsensusStatus.BLACK, ConsensusStatus.WATCH, ConsensusStatus.WHITE)


def region_status_mix_per_day(
    *, region: Region, days: int = WINDOW_DAYS, today: datetime.date | None = None
) -> DailySeries:
    """How many of the region's subjects were BLACK, WATCH and WHITE at the end of each day
    (two queries). Today's counts are the stored consensus; each earlier day is the next
    day's counts less that day's changes in the consensus history (a change from ``old`` to
    ``new`` status added one subject to ``new`` and took one from ``old``)."""
    window, start = _window(days, today)
    current = region_subjects_by_status(region=region)
    rows = (
        ConsensusHistory.objects.filter(region=region, changed_at__gte=start)
        .exclude(old_status=models.F("new_status"))
        .annotate(day=TruncDate("changed_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "old_status", "new_status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    delta: dict[datetime.date, dict[str, int]] = {}
    for row in rows:
        day = delta.setdefault(row["day"], {})
        day[row["new_status"]] = day.get(row["new_status"], 0) + row["n"]
        day[row["old_status"]] = day.get(row["old_status"], 0) - row["n"]
    counts = {status: current[status] for status in LISTED_STATUSES}
    series: dict[str, list[int]] = {status: [0] * len(window) for status in LISTED_STATUSES}
    for index in range(len(window) - 1, -1, -1):
        for status in LISTED_STATUSES:
            series[status][index] = counts[status]
        changes = delta.get(window[index], {})
        counts = {status: counts[status] - changes.get(status, 0) for status in LISTED_STATUSES}
    return DailySeries(days=[day.isoformat() for day in window], series={str(k): v for k, v in series.items()})


@dataclass(frozen=True)
class MemberActivity:
    member_id: int
    name: str
    status: str
    lookups: int
    uploads: int
    uploads_refused: int
    active_entries: int


def region_member_activity(
    *, region: Region, days: int = WINDOW_DAYS, today: datetime.date | None = None
) -> list[MemberActivity]:
    """Each member's lookups and uploads over the window and its active entries (three
    queries whatever the number of members)."""
    _window_days, start = _window(days, today)
    members = list(Member.objects.filter(region=region).order_by("name").values("pk", "name", "status"))
    ids = [row["pk"] for row in members]
    uploads = {
        row["member"]: row
        for row in Upload.objects.filter(member_id__in=ids, created_at__gte=start)
        .values("member")
        .annotate(n=Count("pk"), refused=Count("pk", filter=Q(state="REJECTED")))
        .order_by()
    }
    lookups = {
        row["member"]: row["n"]
        for row in LookupRecord.objects.filter(region=region, created_at__gte=start)
        .values("member")
        .annotate(n=Count("pk"))
        .order_by()
    }
    entries = {
        row["member"]: row["n"]
        for row in Entry.objects.filter(member_id__in=ids, state=EntryState.ACTIVE)
        .values("member")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return [
        MemberActivity(
            member_id=row["pk"],
            name=row["name"],
            status=row["status"],
            lookups=lookups.get(row["pk"], 0),
            uploads=uploads[row["pk"]]["n"] if row["pk"] in uploads else 0,
            uploads_refused=uploads[row["pk"]]["refused"] if row["pk"] in uploads else 0,
            active_entries=entries.get(row["pk"], 0),
        )
        for row in members
    ]
