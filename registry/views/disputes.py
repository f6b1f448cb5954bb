"""The dispute pages shared by members and the operator: one dispute, its evidence, the
escalation, the filing form; and the member's own pages: the inbox of items addressed to it,
the disputes it filed, the answer form, and everyone's notifications.

What an actor may see is ``registry.selectors.disputes``' rule (``dispute_for``,
``evidence_for``: another member's dispute, item or file is "not found"); every change is a
call to ``registry.services.disputes``. A viewer reads but every write form answers 403; the
operator's own pages are in ``disputes_operator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, InvalidInput, NotFound
from lenders.actors import Actor
from lenders.permissions import Perm
from lenders.views.access import PortalRequest, forbidden, portal_view
from lenders.views.pagination import page_of
from registry.choices import DisputeItemState, DisputeState, EvidenceParty
from registry.models import DisputeItem
from registry.selectors.dispute_pages import filed_dispute_list, inbox_items
from registry.selectors.disputes import (
    AWAITING_ARBITRATION,
    DisputeView,
    dispute_for,
    disputes_filed_by,
    evidence_for,
    notifications_for,
)
from registry.services.disputes import (
    dispute_escalate,
    dispute_evidence_add,
    dispute_file,
    dispute_item_respond,
    notification_mark_read,
)
from registry.services.evidence_files import EvidenceTooLarge, EvidenceTypeRefused
from registry.views.disputes_forms import (
    WAITING,
    DisputeAnswerForm,
    DisputeArbitrateForm,
    DisputeEscalateForm,
    DisputeEvidenceForm,
    DisputeFileForm,
    DisputeFilterForm,
    InboxFilterForm,
    put_service_errors,
)
from registry.views.forms import hashing_context, reason_label

T = TypeVar("T")
DETAIL_TEMPLATE = "registry/member/disputes/detail.html"


def may_read_disputes(actor: Actor) -> bool:
    return actor.can(Perm.DISPUTE_READ) or actor.can(Perm.DISPUTE_READ_ALL)


def may_write_disputes(actor: Actor) -> bool:
    """Filing, evidence and escalation: a member's dispute staff, or the operator's administrator."""
    return actor.can(Perm.DISPUTE_WRITE) if actor.member is not None else actor.can(Perm.DISPUTE_ARBITRATE)


def submit(
    form: forms.BaseForm, service: Callable[..., T], /, *, fields: dict[str, str] | None = None, **kwargs: Any
) -> T | None:
    """``service(**kwargs)``, its refusals (bad input, a conflict, a refused file) put on
    ``form``; ``None`` then. A refusal of the actor (403) or a missing object (404) propagates
    to ``portal_view``'s error page."""
    try:
        return service(**kwargs)
    except (InvalidInput, Conflict, EvidenceTooLarge, EvidenceTypeRefused) as exc:
        put_service_errors(form, exc, fields=fields)
        return None


def safe_next(request: PortalRequest, default: str) -> str:
    """Where a button asked to go back to, if it is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# -- one dispute ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectedField:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ItemRow:
    item: DisputeItem
    # The actor may see the entry (its own, or the operator) and, for the operator, the respondent.
    shows_entry: bool
    entry_reason: str
    days_left: int
    answerable: bool
    corrected: list[CorrectedField]
    arbitration_form: DisputeArbitrateForm | None


def corrected_fields(item: DisputeItem) -> list[CorrectedField]:
    labels = {"reason": _("Reason"), "event_date": _("Event date"), "expires_on": _("Expires on")}
    rows = []
    for name, values in (item.corrected or {}).items():
        before, after = [*list(values), "", ""][:2]
        if name == "reason":
            before, after = reason_label(str(before or "")), reason_label(str(after or ""))
        rows.append(
            CorrectedField(label=str(labels.get(name, name)), before=str(before or "—"), after=str(after or "—"))
        )
    return rows


def _item_rows(actor: Actor, view: DisputeView, arbitration_forms: dict[int, DisputeArbitrateForm]) -> list[ItemRow]:
    today = timezone.localdate()
    rows = []
    for item in view.items:
        own = actor.member is not None and item.respondent_id == actor.member.pk
        awaiting = item.state in AWAITING_ARBITRATION and not item.arbitration_decision
        form = None
        if view.can_arbitrate and awaiting:
            form = arbitration_forms.get(item.pk) or DisputeArbitrateForm(prefix=f"item-{item.pk}")
        rows.append(
            ItemRow(
                item=item,
                shows_entry=own or view.shows_respondents,
                entry_reason=reason_label(item.entry.reason),
                days_left=item.days_left(today),
                answerable=item.pk in view.answerable,
                corrected=corrected_fields(item),
                arbitration_form=form,
            )
        )
    return rows


def filer_label(view: DisputeView) -> str:
    """Who filed: named for the filer and the operator; a respondent learns only the kind."""
    dispute = view.dispute
    if dispute.filer_member_id is None:
        return _("The operator")
    if view.role in ("filer", "operator") and dispute.filer_member is not None:
        return dispute.filer_member.name
    return _("A member of the region")


def render_detail(
    request: PortalRequest,
    dispute_id: int,
    *,
    evidence_form: DisputeEvidenceForm | None = None,
    escalate_form: DisputeEscalateForm | None = None,
    arbitration_forms: dict[int, DisputeArbitrateForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.actor
    view = dispute_for(actor, dispute_id)
    dispute = view.dispute
    active = dispute.state in (DisputeState.OPEN, DisputeState.ESCALATED)
    party_labels = dict(EvidenceParty.choices)
    items = _item_rows(actor, view, arbitration_forms or {})
    can_add_evidence = active and may_write_disputes(actor)
    # A refused form the page no longer shows (the dispute moved on meanwhile: closed, out of
    # its window, item decided) still says why, at the top.
    shown = {id(row.arbitration_form) for row in items}
    hidden: list[forms.Form] = [form for form in (arbitration_forms or {}).values() if id(form) not in shown]
    if evidence_form is not None and not can_add_evidence:
        hidden.append(evidence_form)
    if escalate_form is not None and not view.can_escalate:
        hidden.append(escalate_form)
    context = {
        "view": view,
        "dispute": dispute,
        "filer": filer_label(view),
        "items": items,
        "evidence": [(e, party_labels.get(e.party, e.party)) for e in view.evidence],
        "can_add_evidence": can_add_evidence,
        "evidence_form": evidence_form or DisputeEvidenceForm(),
        "escalate_form": escalate_form or DisputeEscalateForm(),
        "refusals": [str(error) for form in hidden for errors in form.errors.values() for error in errors],
        "today": timezone.localdate(),
        "back_url": reverse("dispute-home"),
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)


@portal_view()
@require_GET
def dispute_detail(request: PortalRequest, dispute_id: int) -> HttpResponse:
    if not may_read_disputes(request.actor):
        return forbidden(request)
    return render_detail(request, dispute_id)


@portal_view()
@require_GET
def dispute_evidence_file(request: PortalRequest, dispute_id: int, evidence_id: int) -> HttpResponse:
    """The file, only for a party of its dispute or the operator (404 otherwise), never cached
    and never shown inline: a crafted file cannot run in the portal's origin."""
    evidence = evidence_for(request.actor, evidence_id, dispute_id=dispute_id)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # portal_view only adds headers, which a streamed response takes as well.
    return cast(HttpResponse, response)


@portal_view()
@require_POST
def dispute_evidence_add_view(request: PortalRequest, dispute_id: int) -> HttpResponse:
    if not may_write_disputes(request.actor):
        return forbidden(request)
    form = DisputeEvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        added = submit(
            form, dispute_evidence_add, actor=request.actor, dispute_id=dispute_id, file=form.cleaned_data["file"]
        )
        if added is not None:
            messages.success(request, _("The evidence file %(name)s was added.") % {"name": added.original_name})
            return redirect("dispute-detail", dispute_id=dispute_id)
    return render_detail(request, dispute_id, evidence_form=form, status=400)


@portal_view()
@require_POST
def dispute_escalate_view(request: PortalRequest, dispute_id: int) -> HttpResponse:
    if not may_write_disputes(request.actor):
        return forbidden(request)
    form = DisputeEscalateForm(request.POST)
    if form.is_valid():
        escalated = submit(
            form, dispute_escalate, actor=request.actor, dispute_id=dispute_id, reason=form.cleaned_data["reason"]
        )
        if escalated is not None:
            messages.success(request, _("The dispute was escalated; the operator will decide the contested entries."))
            return redirect("dispute-detail", dispute_id=dispute_id)
    return render_detail(request, dispute_id, escalate_form=form, status=400)


# -- filing ---------------------------------------------------------------------------------------


@portal_view()
@require_http_methods(["GET", "POST"])
def dispute_new(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    if not may_write_disputes(actor):
        return forbidden(request)
    prefill = {name: request.GET[name] for name in ("id_type", "subject_hash") if request.GET.get(name)}
    form = DisputeFileForm(request.POST or None, initial=prefill)
    open_dispute_url = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dispute = dispute_file(
                actor=actor,
                id_type=data["id_type"],
                subject_hash=data["subject_hash"],
                key_id=data["key_id"] or None,
                grounds=data["grounds"],
                statement=data["statement"],
                consent_reference=data["consent_reference"],
            )
        except (InvalidInput, Conflict) as exc:
            put_service_errors(form, exc)
            open_id = (exc.details or {}).get("dispute_id") if exc.code == "dispute_open" else None
            if open_id and may_read_disputes(actor):
                open_dispute_url = reverse("dispute-detail", args=[open_id])
        else:
            messages.success(
                request,
                _("Dispute #%(id)s was filed; the members concerned have been told. Add evidence files below.")
                % {"id": dispute.pk},
            )
            return redirect("dispute-detail", dispute_id=dispute.pk)
    return render(
        request,
        "registry/member/disputes/new.html",
        {"form": form, "open_dispute_url": open_dispute_url, **hashing_context(actor)},
        status=400 if form.errors else 200,
    )


# -- the member's lists ---------------------------------------------------------------------------


@portal_view()
@require_GET
def dispute_home(request: PortalRequest) -> HttpResponse:
    """The menu's "Disputes": a member's inbox, the operator's list of all disputes."""
    actor = request.actor
    if actor.member is not None and actor.can(Perm.DISPUTE_READ):
        return redirect("dispute-inbox")
    if actor.can(Perm.DISPUTE_READ_ALL):
        return redirect("operator-dispute-list")
    return forbidden(request)


@dataclass(frozen=True)
class InboxRow:
    item: DisputeItem
    days_left: int
    waiting: bool
    answerable: bool
    entry_reason: str


@portal_view(Perm.DISPUTE_READ)
@require_GET
def dispute_inbox(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    filters = InboxFilterForm(request.GET or None)
    state = filters.cleaned_data["state"] if filters.is_valid() else ""
    items = inbox_items(actor, state="" if state == WAITING else state, only_open=state == WAITING)
    if filters.is_bound and not filters.is_valid():
        items = items.none()
    page, query_string = page_of(request, items)
    today = timezone.localdate()
    can_answer = actor.can(Perm.DISPUTE_WRITE)
    rows = []
    for item in page:
        waiting = item.state == DisputeItemState.OPEN and item.dispute.state == DisputeState.OPEN
        rows.append(
            InboxRow(
                item=item,
                days_left=item.days_left(today),
                waiting=waiting,
                answerable=can_answer and waiting and today <= item.deadline,
                entry_reason=reason_label(item.entry.reason),
            )
        )
    return render(
        request,
        "registry/member/disputes/inbox.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "query_string": query_string,
            "can_file": may_write_disputes(actor),
            "tab": "inbox",
        },
    )


@portal_view(Perm.DISPUTE_READ)
@require_GET
def dispute_filed_list(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    filters = DisputeFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        disputes = disputes_filed_by(actor).none()
    else:
        disputes = disputes_filed_by(actor)
    cleaned = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    page, query_string = page_of(request, filed_dispute_list(disputes, cleaned))
    return render(
        request,
        "registry/member/disputes/list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": query_string,
            "can_file": may_write_disputes(actor),
            "tab": "filed",
        },
    )


# -- answering ------------------------------------------------------------------------------------


def _own_item(actor: Actor, view: DisputeView, item_id: int) -> DisputeItem:
    """The item, if it is addressed to the actor's member; otherwise it is not found (a filer
    sees the items of its dispute but answers none of them)."""
    for item in view.items:
        if item.pk == item_id and actor.member is not None and item.respondent_id == actor.member.pk:
            return item
    raise NotFound(_("No such dispute item."))


@portal_view(Perm.DISPUTE_WRITE)
@require_http_methods(["GET", "POST"])
def dispute_item_answer(request: PortalRequest, dispute_id: int, item_id: int) -> HttpResponse:
    actor = request.actor
    view = dispute_for(actor, dispute_id)
    item = _own_item(actor, view, item_id)
    entry = item.entry
    initial = {
        "corrected_reason": entry.reason,
        "corrected_event_date": entry.event_date.isoformat(),
        "corrected_expires_on": entry.expires_on.isoformat() if entry.expires_on else "",
    }
    form = DisputeAnswerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        answered = submit(
            form,
            dispute_item_respond,
            fields=DisputeAnswerForm.service_fields(),
            actor=actor,
            dispute_id=dispute_id,
            item_id=item.pk,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            corrected=form.corrected(),
        )
        if answered is not None:
            messages.success(request, _("Your answer was saved: %(state)s.") % {"state": answered.get_state_display()})
            return redirect("dispute-detail", dispute_id=dispute_id)
    party_labels = dict(EvidenceParty.choices)
    return render(
        request,
        "registry/member/disputes/answer.html",
        {
            "view": view,
            "dispute": view.dispute,
            "item": item,
            "entry_reason": reason_label(entry.reason),
            "days_left": item.days_left(),
            "answerable": item.pk in view.answerable,
            "form": form,
            "evidence": [(e, party_labels.get(e.party, e.party)) for e in view.evidence],
        },
        status=400 if form.errors else 200,
    )


# -- notifications --------------------------------------------------------------------------------


@portal_view()
@require_GET
def notification_list(request: PortalRequest) -> HttpResponse:
    user = request.actor.user
    if user is None:
        return forbidden(request)
    only_unread = request.GET.get("show") == "unread"
    notifications = notifications_for(user)
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    page, query_string = page_of(request, notifications)
    return render(
        request,
        "registry/member/disputes/notifications.html",
        {
            "page": page,
            "query_string": query_string,
            "only_unread": only_unread,
            "can_read_disputes": may_read_disputes(request.actor),
        },
    )


@portal_view()
@require_POST
def notification_read(request: PortalRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(actor=request.actor, notification_id=notification_id)
    return redirect(safe_next(request, reverse("notification-list")))
