"""API keys of the actor's own organisation: a member's keys carry scopes, an operator's keys
act with one operator role. The full key is shown once, on the page answering its creation;
the registry stores only its hash. Another organisation's keys are not found (404)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import Conflict
from lenders.choices import OPERATOR_ROLES, Role, Scope
from lenders.models import ApiKey, Member, Operator
from lenders.permissions import Perm
from lenders.selectors import api_keys_visible_to
from lenders.services.api_keys import api_key_create, api_key_revoke
from lenders.views.access import PortalRequest, call_service, portal_view
from lenders.views.pagination import page_of
from lenders.views.staff import organisation_of

SCOPE_DESCRIPTIONS = {
    Scope.LOOKUP: gettext_lazy("Look subjects up (single and batch) and read the region's hash key."),
    Scope.UPLOAD: gettext_lazy("Send nightly files and follow their processing."),
    Scope.ENTRIES: gettext_lazy("Read, add and withdraw the member's own entries one by one."),
    Scope.DISPUTES: gettext_lazy("File, answer and escalate disputes."),
}


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    grants: list[str]
    state: str
    state_label: str | Promise


def key_row(key: ApiKey, now: datetime.datetime) -> KeyRow:
    if key.revoked:
        state, label = "revoked", gettext_lazy("Revoked")
    elif key.expiry_date is not None and key.expiry_date <= now:
        state, label = "expired", gettext_lazy("Expired")
    else:
        state, label = "active", gettext_lazy("Active")
    if key.role:
        grants = [str(Role(key.role).label)]
    else:
        grants = [str(Scope(code).label) for code in Scope.values if code in key.scope_codes]
    return KeyRow(key=key, grants=grants, state=state, state_label=label)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=50,
        help_text=gettext_lazy("What uses the key, for example “loan system, production”. At most 50 characters."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Grant only what the program needs."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Acts as"),
        choices=[(role.value, role.label) for role in OPERATOR_ROLES],
        help_text=gettext_lazy("A regulator key only reads; an operator administrator key can change the region."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on (optional)"),
        required=False,
        help_text=gettext_lazy("YYYY-MM-DD. The key works until the end of that day, Asia/Shanghai time."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )

    def __init__(self, *args: Any, org: Member | Operator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A member's key carries scopes; an operator's key a role (concepts.md).
        del self.fields["role" if isinstance(org, Member) else "scopes"]


@portal_view(Perm.API_KEY_MANAGE)
@require_http_methods(["GET"])
def api_key_list(request: PortalRequest) -> HttpResponse:
    keys = api_keys_visible_to(request.actor).select_related("created_by")
    page, query_string = page_of(request, keys)
    now = timezone.now()
    return render(
        request,
        "portal/api_keys/list.html",
        {
            "page": page,
            "rows": [key_row(key, now) for key in page],
            "query_string": query_string,
            "organisation": organisation_of(request.actor),
        },
    )


@portal_view(Perm.API_KEY_MANAGE)
@require_http_methods(["GET", "POST"])
def api_key_new(request: PortalRequest) -> HttpResponse:
    org = organisation_of(request.actor)
    form = ApiKeyCreateForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = call_service(
            form,
            api_key_create,
            org=org,
            name=data["name"],
            actor=request.actor,
            scopes=data.get("scopes") or None,
            role=data.get("role") or None,
            expires_on=data["expires_on"],
        )
        if created is not None:
            api_key, secret = created
            # Shown on this response only (never cached, never stored); the list shows the prefix.
            return render(
                request,
                "portal/api_keys/created.html",
                {"row": key_row(api_key, timezone.now()), "secret": secret},
            )
    scope_help = [(str(Scope(code).label), str(text)) for code, text in SCOPE_DESCRIPTIONS.items()]
    return render(
        request,
        "portal/api_keys/create.html",
        {"form": form, "organisation": org, "is_member": isinstance(org, Member), "scope_help": scope_help},
    )


@portal_view(Perm.API_KEY_MANAGE)
@require_http_methods(["GET", "POST"])
def api_key_revoke_view(request: PortalRequest, prefix: str) -> HttpResponse:
    """GET asks for confirmation; POST revokes: programs using the key are refused from then on."""
    api_key: ApiKey = get_object_or_404(api_keys_visible_to(request.actor).select_related("created_by"), prefix=prefix)
    if request.method == "POST":
        try:
            api_key_revoke(api_key=api_key, actor=request.actor)
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
        return redirect("api-key-list")
    return render(request, "portal/api_keys/revoke.html", {"row": key_row(api_key, timezone.now())})
