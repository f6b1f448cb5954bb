"""The member's own entries: search and filter them, add one, withdraw one.

Reading needs ``entry.read`` (a viewer too), adding and withdrawing ``entry.write``. Every
entry comes through ``entries_visible_to``: another member's entry is not found (404). A
number is searched for or listed by its hash, which the page's script computes in the
browser (``static/registry/subject-form.js``); the server never sees the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import InvalidInput
from core.models import AuditEvent
from lenders.permissions import Perm
from lenders.selectors import audit_events_visible_to
from lenders.views.access import PortalRequest, call_service, portal_view
from lenders.views.pagination import page_of
from registry.choices import REASONS_BY_LIST, EntryState
from registry.models import Entry
from registry.selectors.entries import entries_visible_to
from registry.services.entries import EntryResult, entry_submit, entry_withdraw
from registry.views.forms import (
    EntryFilterForm,
    EntryForm,
    WithdrawForm,
    hashing_context,
    localised_row_refusal,
    reason_label,
)

HISTORY_LENGTH = 20
_FILTERS = ("subject_hash", "id_type", "list", "reason", "state")


@dataclass(frozen=True)
class EntryRow:
    entry: Entry
    reason: str


def _filtered(entries: QuerySet[Entry], filters: EntryFilterForm) -> QuerySet[Entry]:
    data = filters.cleaned_data
    if data["subject_hash"]:
        entries = entries.filter(subject_hash=bytes.fromhex(data["subject_hash"]))
    for name in ("id_type", "list", "reason", "state"):
        if data[name]:
            entries = entries.filter(**{name: data[name]})
    return entries


@portal_view(Perm.ENTRY_READ)
@require_GET
def entry_list(request: PortalRequest) -> HttpResponse:
    entries = entries_visible_to(request.actor).order_by("-id")
    filtered = any(request.GET.get(name) for name in _FILTERS)
    filters = EntryFilterForm(request.GET if filtered else None)
    if filtered:
        # A filter that cannot be read shows nothing rather than everything.
        entries = _filtered(entries, filters) if filters.is_valid() else entries.none()
    page, query_string = page_of(request, entries)
    return render(
        request,
        "registry/member/entries/list.html",
        {
            "filters": filters,
            "filtered": filtered,
            "page": page,
            "rows": [EntryRow(entry=entry, reason=reason_label(entry.reason)) for entry in page],
            "query_string": query_string,
            "can_write": request.actor.can(Perm.ENTRY_WRITE),
            **hashing_context(request.actor),
        },
    )


def _entry_submit(**kwargs: Any) -> EntryResult:
    """``entry_submit`` with its refusals in the reader's language."""
    try:
        return entry_submit(**kwargs)
    except InvalidInput as exc:
        raise localised_row_refusal(exc, kwargs["data"]) from exc


_SUBMIT_MESSAGES = {
    "created": gettext_lazy("The entry was added."),
    "updated": gettext_lazy("Your entry on this subject was replaced by the new one."),
    "unchanged": gettext_lazy("You already have exactly this entry; nothing was changed."),
}


@portal_view(Perm.ENTRY_WRITE)
@require_http_methods(["GET", "POST"])
def entry_new(request: PortalRequest) -> HttpResponse:
    form = EntryForm(request.POST or None)
    # A hint for the date picker; the rule itself is the service's.
    form.fields["event_date"].widget.attrs["max"] = timezone.localdate().isoformat()
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            form,
            _entry_submit,
            actor=request.actor,
            data=form.row(),
            key_id=form.cleaned_data["key_id"] or None,
        )
        if outcome is not None and outcome.entry is not None:
            messages.success(request, str(_SUBMIT_MESSAGES.get(outcome.result, _SUBMIT_MESSAGES["updated"])))
            return redirect("entry-detail", entry_id=outcome.entry.pk)
    return render(
        request,
        "registry/member/entries/create.html",
        {
            "form": form,
            "reasons_by_list": {kind: sorted(codes) for kind, codes in REASONS_BY_LIST.items()},
            **hashing_context(request.actor),
        },
    )


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    action: str
    note: str


_ACTION_LABELS = {
    "entry.create": gettext_lazy("Added"),
    "entry.update": gettext_lazy("Changed"),
    "entry.withdraw": gettext_lazy("Withdrawn"),
}


def _history(request: PortalRequest, entry: Entry) -> list[HistoryRow]:
    """The entry's audit events, for those who may read the member's audit log."""
    if not (request.actor.can(Perm.AUDIT_READ_OWN) or request.actor.can(Perm.AUDIT_READ_ALL)):
        return []
    events = (
        audit_events_visible_to(request.actor)
        .filter(object_type=Entry._meta.label_lower, object_id=str(entry.pk))
        .order_by("-id")[:HISTORY_LENGTH]
    )
    return [
        HistoryRow(
            event=event,
            action=str(_ACTION_LABELS.get(event.action, event.action)),
            note=str(event.details.get("note", "")),
        )
        for event in events
    ]


@portal_view(Perm.ENTRY_READ, write=Perm.ENTRY_WRITE)
@require_http_methods(["GET", "POST"])
def entry_detail(request: PortalRequest, entry_id: int) -> HttpResponse:
    entry: Entry = get_object_or_404(entries_visible_to(request.actor), pk=entry_id)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        withdrawn = call_service(
            form, entry_withdraw, actor=request.actor, entry_id=entry.pk, note=form.cleaned_data["note"]
        )
        if withdrawn is not None:
            messages.success(request, _("The entry was withdrawn; it no longer counts in the regional status."))
            return redirect("entry-detail", entry_id=entry.pk)
    return render(
        request,
        "registry/member/entries/detail.html",
        {
            "entry": entry,
            "reason": reason_label(entry.reason),
            "form": form,
            "can_withdraw": request.actor.can(Perm.ENTRY_WRITE)
            and (entry.state == EntryState.ACTIVE or bool(form.errors)),
            "can_lookup": request.actor.can(Perm.LOOKUP),
            "history": _history(request, entry),
        },
    )
