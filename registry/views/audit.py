"""The audit page: the log of every state change, filtered and paged.

The operator (``audit.read_all``) reads its whole region's events; a ``MEMBER_ADMIN``
(``audit.read_own``) the events of its own member; everyone else is refused. Events are read
only through ``lenders.selectors.audit_events_visible_to``. The services never put secrets in
an event's details, so the details are shown as they are.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.permissions import Perm
from lenders.selectors import audit_events_visible_to, members_visible_to
from lenders.views.access import PortalRequest, forbidden, portal_view
from lenders.views.pagination import page_of

FILTER_NAMES = ("action", "object_type", "member", "since", "until", "request_id")
# How long the lists of actions and object types offered as filters are reused.
CHOICES_SECONDS = 300

ACTION_LABELS: dict[str, Promise] = {
    "region.create": gettext_lazy("Region created"),
    "region.policy_update": gettext_lazy("Region policy changed"),
    "hash_key.rotate": gettext_lazy("Hash key rotated"),
    "hash_key.read": gettext_lazy("Hash key fetched"),
    "member.create": gettext_lazy("Member created"),
    "member.update": gettext_lazy("Member changed"),
    "staff.create": gettext_lazy("Staff user created"),
    "staff.set_roles": gettext_lazy("Staff roles changed"),
    "staff.activate": gettext_lazy("Staff user reactivated"),
    "staff.deactivate": gettext_lazy("Staff user deactivated"),
    "staff.password_change": gettext_lazy("Password changed"),
    "api_key.create": gettext_lazy("API key created"),
    "api_key.revoke": gettext_lazy("API key revoked"),
    "consensus.recompute_start": gettext_lazy("Region recompute started"),
    "entry.create": gettext_lazy("Entry created"),
    "entry.update": gettext_lazy("Entry changed"),
    "entry.withdraw": gettext_lazy("Entry withdrawn"),
    "entries.expire": gettext_lazy("Entries expired"),
}

OBJECT_LABELS: dict[str, Promise] = {
    "lenders.region": gettext_lazy("Region"),
    "registry.region": gettext_lazy("Region"),
    "lenders.hashkey": gettext_lazy("Hash key"),
    "lenders.member": gettext_lazy("Member"),
    "lenders.user": gettext_lazy("Staff user"),
    "lenders.apikey": gettext_lazy("API key"),
    "registry.entry": gettext_lazy("Entry"),
    "registry.recomputejob": gettext_lazy("Region recompute"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def object_label(code: str) -> str:
    return str(OBJECT_LABELS.get(code, code))


def _scope_key(actor: Actor) -> str:
    if actor.can(Perm.AUDIT_READ_ALL):
        return f"region:{actor.region_id}"
    return f"member:{actor.member_id}"


def _distinct(events: QuerySet[AuditEvent], actor: Actor, column: str) -> list[str]:
    """The values of ``column`` in the actor's events (cached briefly: the log only grows)."""

    def read() -> list[str]:
        return sorted(v for v in events.order_by().values_list(column, flat=True).distinct() if v)

    values = cache.get_or_set(f"portal-audit:{column}:{_scope_key(actor)}", read, CHOICES_SECONDS)
    return list(values or [])


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("Object type"), required=False)
    member = forms.TypedChoiceField(label=gettext_lazy("Acting member"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    until = forms.DateField(
        label=gettext_lazy("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    request_id = forms.CharField(
        label=gettext_lazy("Request ID"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args: Any, actions: list[str], object_types: list[str], members: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        # A value asked for by address but not in the (briefly cached) lists is still a filter.
        asked_action, asked_type = self.data.get("action"), self.data.get("object_type")
        if isinstance(asked_action, str) and asked_action and asked_action not in actions:
            actions = [*actions, asked_action[:64]]
        if isinstance(asked_type, str) and asked_type and asked_type not in object_types:
            object_types = [*object_types, asked_type[:64]]
        action_choices = sorted(((code, action_label(code)) for code in actions), key=lambda c: c[1])
        self.fields["action"].choices = [("", _("All actions")), *action_choices]  # type: ignore[attr-defined]
        type_choices = sorted({(code, object_label(code)) for code in object_types}, key=lambda c: c[1])
        self.fields["object_type"].choices = [("", _("All objects")), *type_choices]  # type: ignore[attr-defined]
        if members:
            choices = [("", _("All members")), *((str(m.pk), m.name) for m in members)]
            self.fields["member"].choices = choices  # type: ignore[attr-defined]
        else:
            del self.fields["member"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return data


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the portal's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filtered(events: QuerySet[AuditEvent], data: dict[str, Any]) -> QuerySet[AuditEvent]:
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("object_type"):
        events = events.filter(object_type=data["object_type"])
    if data.get("member"):
        events = events.filter(member_id=data["member"])
    if data.get("since"):
        events = events.filter(created_at__gte=_day_start(data["since"]))
    if data.get("until"):
        events = events.filter(created_at__lt=_day_start(data["until"] + datetime.timedelta(days=1)))
    if data.get("request_id", "").strip():
        events = events.filter(request_id=data["request_id"].strip())
    return events


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    action: str
    actor: str
    object: str
    object_url: str
    details: list[tuple[str, str]]


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "—"
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{_shown(value['from'])} → {_shown(value['to'])}"
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _actor_text(label: str) -> str:
    kind, _sep, name = label.partition(":")
    if kind == "user":
        return name
    if kind == "api-key":
        return _("API key %(prefix)s…") % {"prefix": name}
    if kind == "system":
        return _("System (%(job)s)") % {"job": name}
    return label


def _object_url(actor: Actor, event: AuditEvent) -> str:
    if not event.object_id.isdigit():
        return ""
    if event.object_type == "lenders.member" and actor.can(Perm.MEMBER_READ):
        return reverse("member-detail", args=[int(event.object_id)])
    if event.object_type == "registry.recomputejob" and actor.can(Perm.STATISTICS_READ):
        return reverse("region-recompute", args=[int(event.object_id)])
    return ""


def event_row(actor: Actor, event: AuditEvent) -> EventRow:
    if set(event.details) == {"from", "to"}:
        details = [(_("Change"), _shown(event.details))]
    else:
        details = [(name, _shown(value)) for name, value in sorted(event.details.items())]
    obj = object_label(event.object_type) if event.object_type else ""
    if event.object_id:
        obj = f"{obj} {event.object_id}".strip()
    return EventRow(
        event=event,
        action=action_label(event.action),
        actor=_actor_text(event.actor_label),
        object=obj,
        object_url=_object_url(actor, event),
        details=details,
    )


@portal_view()
@require_GET
def audit_list(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    reads_all = actor.can(Perm.AUDIT_READ_ALL)
    if not reads_all and not (actor.can(Perm.AUDIT_READ_OWN) and actor.member is not None):
        return forbidden(request)
    visible = audit_events_visible_to(actor)
    filters = AuditFilterForm(
        request.GET,
        actions=_distinct(visible, actor, "action"),
        object_types=_distinct(visible, actor, "object_type"),
        members=list(members_visible_to(actor).order_by("name", "pk")) if reads_all else [],
    )
    # A filter that cannot be read (a malformed date) shows its error and no events, never all.
    events = filtered(visible, filters.cleaned_data) if filters.is_valid() else visible.none()
    page, query_string = page_of(request, events.order_by("-id"))
    return render(
        request,
        "registry/operator/audit.html",
        {
            "filters": filters,
            "page": page,
            "rows": [event_row(actor, event) for event in page],
            "query_string": query_string,
            "filtered": any(request.GET.get(name) for name in FILTER_NAMES),
            "reads_all": reads_all,
            "can_read_subjects": actor.can(Perm.SUBJECT_HISTORY_READ),
            "organisation": actor.member or actor.operator,
        },
    )
