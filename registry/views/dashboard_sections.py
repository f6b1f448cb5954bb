"""The registry's sections of the dashboard (``lenders.views.dashboard``): charts of a member's
activity and entries, and of the region for the operator. Each chart's numbers are also in a
table under it, so that they are readable without the chart (and without JavaScript).

The charts are drawn by Chart.js, served from ``static/vendor/chartjs`` (never a CDN), by
``static/registry/dashboard-charts.js`` from the data each section puts in a json_script.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from lenders.actors import Actor
from lenders.permissions import Perm
from lenders.views.dashboard import DashboardSection, dashboard_register
from registry.choices import ConsensusStatus, ListKind
from registry.selectors.dashboard import (
    WINDOW_DAYS,
    member_activity_per_day,
    member_entries_by_list_and_reason,
    member_lookups_this_month,
    region_member_activity,
    region_status_mix_per_day,
    region_subjects_by_status,
)
from registry.views.forms import reason_label


def _member_activity(actor: Actor) -> dict[str, Any] | None:
    member = actor.member
    if member is None or not (actor.can(Perm.UPLOAD_READ) or actor.can(Perm.LOOKUP) or actor.can(Perm.ENTRY_READ)):
        return None
    daily = member_activity_per_day(member=member)
    entries = member_entries_by_list_and_reason(member=member)
    reasons = [
        {"list": kind, "list_label": str(ListKind(kind).label), "reason": code, "label": reason_label(code), "n": n}
        for kind in ListKind.values
        for code, n in entries.get(kind, {}).items()
    ]
    rows = list(zip(daily.days, daily.series["uploads"], daily.series["lookups"], strict=True))
    return {
        "days": WINDOW_DAYS,
        "lookups_this_month": member_lookups_this_month(member=member),
        "totals": daily.totals,
        "active_rows": [row for row in rows if row[1] or row[2]],
        "reasons": reasons,
        "entries_total": sum(item["n"] for item in reasons),
        "chart": {
            "activity": {
                "labels": [day[5:] for day in daily.days],
                "datasets": [
                    {"label": _("Uploads"), "data": daily.series["uploads"], "color": "#1f5fa8"},
                    {"label": _("Lookups"), "data": daily.series["lookups"], "color": "#c9962a"},
                ],
            },
            "entries": {
                "labels": [item["label"] for item in reasons],
                "datasets": [
                    {
                        "label": str(ListKind(kind).label),
                        "data": [item["n"] if item["list"] == kind else 0 for item in reasons],
                        "color": "#1b1b1b" if kind == ListKind.BLACK else "#2e7d47",
                    }
                    for kind in ListKind.values
                ],
                "stacked": True,
                "horizontal": True,
            },
        },
    }


STATUS_COLOURS = {"BLACK": "#1b1b1b", "WATCH": "#c9962a", "WHITE": "#2e7d47", "CLEAR": "#9aa3ad"}


def _region_activity(actor: Actor) -> dict[str, Any] | None:
    region = actor.region
    if region is None or actor.member is not None or not actor.can(Perm.MEMBER_READ):
        return None
    statuses = region_subjects_by_status(region=region)
    activity = region_member_activity(region=region)
    mix = region_status_mix_per_day(region=region)
    labels = {code: str(label) for code, label in ConsensusStatus.choices}
    return {
        "days": WINDOW_DAYS,
        "statuses": [{"code": code, "label": labels[code], "n": n} for code, n in statuses.items()],
        "subjects_total": sum(statuses.values()),
        "members": activity,
        "mix_rows": [(day, *(mix.series[code][i] for code in mix.series)) for i, day in enumerate(mix.days)],
        "mix_labels": [labels[code] for code in mix.series],
        "chart": {
            "statuses": {
                "labels": [labels[code] for code in statuses],
                "datasets": [
                    {
                        "label": _("Subjects"),
                        "data": list(statuses.values()),
                        "colors": [STATUS_COLOURS[code] for code in statuses],
                    }
                ],
                "kind": "doughnut",
            },
            "mix": {
                "labels": [day[5:] for day in mix.days],
                "datasets": [
                    {"label": labels[code], "data": values, "color": STATUS_COLOURS[code]}
                    for code, values in mix.series.items()
                ],
                "stacked": True,
            },
            "members": {
                "labels": [row.name for row in activity],
                "datasets": [
                    {"label": _("Lookups"), "data": [row.lookups for row in activity], "color": "#c9962a"},
                    {"label": _("Uploads"), "data": [row.uploads for row in activity], "color": "#1f5fa8"},
                ],
                "horizontal": True,
            },
        },
    }


dashboard_register(
    DashboardSection(
        key="member_activity",
        order=30,
        template="registry/dashboard/member_activity.html",
        build=_member_activity,
    )
)
dashboard_register(
    DashboardSection(
        key="region_activity",
        order=30,
        template="registry/dashboard/region_activity.html",
        build=_region_activity,
    )
)
