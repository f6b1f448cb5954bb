"""Operator pages: the region's members, their status, trust weight and exclusion.

``OPERATOR_ADMIN`` changes them (``member.write``); ``REGULATOR`` reads the same pages with
the form disabled; members' own users are refused (no ``member.read``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.models import AuditEvent
from lenders.choices import MemberStatus
from lenders.models import Member
from lenders.permissions import Perm
from lenders.selectors import audit_events_visible_to, members_visible_to
from lenders.services.members import member_create, member_update
from lenders.views.access import PortalRequest, call_service, portal_view
from lenders.views.pagination import page_of

HISTORY_LENGTH = 20


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name or USCC"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All statuses")), *MemberStatus.choices],
    )


class MemberCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    uscc = forms.CharField(
        label=gettext_lazy("Unified social credit code (USCC)"),
        max_length=40,
        help_text=gettext_lazy("18 characters, as on the business licence; the check character is verified."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class MemberUpdateForm(forms.Form):
    trust_weight = forms.DecimalField(
        label=gettext_lazy("Trust weight"),
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=4,
        decimal_places=3,
        help_text=gettext_lazy("From 0.000 to 1.000: how much this member's entries count in the consensus."),
        widget=forms.NumberInput(attrs={"step": "0.001", "min": "0", "max": "1", "inputmode": "decimal"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=MemberStatus.choices,
        help_text=gettext_lazy(
            "A suspended member's users and API keys are refused, "
            "and its entries stop counting until it is active again."
        ),
    )
    excluded_from_consensus = forms.BooleanField(
        label=gettext_lazy("Excluded from consensus"),
        required=False,
        help_text=gettext_lazy("The member keeps working, but its entries do not count in the regional status."),
    )

    def __init__(self, *args: object, read_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if read_only:
            for field in self.fields.values():
                field.disabled = True


FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "uscc": gettext_lazy("USCC"),
    "trust_weight": gettext_lazy("Trust weight"),
    "status": gettext_lazy("Status"),
    "excluded_from_consensus": gettext_lazy("Excluded from consensus"),
}
ACTION_LABELS = {
    "member.create": gettext_lazy("Member created"),
    "member.update": gettext_lazy("Member changed"),
}


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    action: str
    changes: list[tuple[str, str, str]]


def _shown(name: str, value: Any) -> str:
    if name == "status" and value in MemberStatus.values:
        return str(MemberStatus(value).label)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else str(value)


def _history_row(event: AuditEvent) -> HistoryRow:
    """One audit event about a member, in words: for a change, each field from and to."""
    changes = []
    for name, value in sorted(event.details.items()):
        label = str(FIELD_LABELS.get(name, name))
        if isinstance(value, dict) and {"from", "to"} <= set(value):
            changes.append((label, _shown(name, value["from"]), _shown(name, value["to"])))
        else:
            changes.append((label, "", _shown(name, value)))
    return HistoryRow(event=event, action=str(ACTION_LABELS.get(event.action, event.action)), changes=changes)


@portal_view(Perm.MEMBER_READ)
@require_http_methods(["GET"])
def member_list(request: PortalRequest) -> HttpResponse:
    members = members_visible_to(request.actor).order_by("name", "pk")
    filters = MemberFilterForm(request.GET)
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            members = members.filter(status=filters.cleaned_data["status"])
        query = filters.cleaned_data["q"].strip()
        if query:
            members = members.filter(Q(name__icontains=query) | Q(uscc__icontains=query.upper()))
    page, query_string = page_of(request, members)
    return render(
        request,
        "portal/members/list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": query_string,
            "filtered": bool(request.GET.get("status") or request.GET.get("q")),
            "can_create": request.actor.can(Perm.MEMBER_WRITE),
        },
    )


@portal_view(Perm.MEMBER_WRITE)
@require_http_methods(["GET", "POST"])
def member_new(request: PortalRequest) -> HttpResponse:
    form = MemberCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = call_service(
            form,
            member_create,
            region=request.actor.region,
            name=form.cleaned_data["name"],
            uscc=form.cleaned_data["uscc"],
            actor=request.actor,
        )
        if member is not None:
            messages.success(request, _("Member %(name)s was created.") % {"name": member.name})
            return redirect("member-detail", member_id=member.pk)
    return render(request, "portal/members/create.html", {"form": form})


@portal_view(Perm.MEMBER_READ, write=Perm.MEMBER_WRITE)
@require_http_methods(["GET", "POST"])
def member_detail(request: PortalRequest, member_id: int) -> HttpResponse:
    member: Member = get_object_or_404(members_visible_to(request.actor).select_related("region"), pk=member_id)
    can_edit = request.actor.can(Perm.MEMBER_WRITE)
    initial = {
        "trust_weight": member.trust_weight,
        "status": member.status,
        "excluded_from_consensus": member.excluded_from_consensus,
    }
    form = MemberUpdateForm(request.POST or None, initial=initial, read_only=not can_edit)
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Nothing was changed."))
            return redirect("member-detail", member_id=member.pk)
        updated = call_service(
            form,
            member_update,
            member=member,
            actor=request.actor,
            trust_weight=form.cleaned_data["trust_weight"],
            status=form.cleaned_data["status"],
            excluded_from_consensus=form.cleaned_data["excluded_from_consensus"],
        )
        if updated is not None:
            messages.success(request, _("The changes to %(name)s were saved.") % {"name": updated.name})
            return redirect("member-detail", member_id=member.pk)
    events = (
        audit_events_visible_to(request.actor)
        .filter(object_type=Member._meta.label_lower, object_id=str(member.pk))
        .order_by("-id")[:HISTORY_LENGTH]
    )
    history = [_history_row(event) for event in events]
    return render(
        request,
        "portal/members/detail.html",
        {"member": member, "form": form, "can_edit": can_edit, "history": history},
    )
