"""Staff users of the actor's own organisation: a member admin manages the member's staff,
an operator admin the operator's. Another organisation's users are not found (404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, InvalidInput
from lenders.actors import Actor
from lenders.choices import MEMBER_ROLES, OPERATOR_ROLES, Role
from lenders.models import Member, Operator, User
from lenders.permissions import Perm
from lenders.selectors import staff_visible_to
from lenders.services.staff import staff_create, staff_set_active, staff_set_roles
from lenders.views.access import PortalRequest, call_service, portal_view
from lenders.views.pagination import page_of

ROLE_DESCRIPTIONS = {
    Role.MEMBER_ADMIN: gettext_lazy("Manages the member's staff users and API keys; may do everything below."),
    Role.ANALYST: gettext_lazy("Looks subjects up; files and answers disputes."),
    Role.UPLOADER: gettext_lazy("Uploads files and manages the member's own entries."),
    Role.VIEWER: gettext_lazy("Reads the member's own entries, uploads and disputes; no lookups."),
    Role.OPERATOR_ADMIN: gettext_lazy(
        "Manages members, trust weights, region policy and keys; arbitrates disputes; reads all audit events."
    ),
    Role.REGULATOR: gettext_lazy("Reads everything an operator administrator reads; changes nothing."),
}


def organisation_of(actor: Actor) -> Member | Operator:
    org = actor.member or actor.operator
    assert org is not None  # portal_view refuses accounts without an organisation
    return org


def role_choices(org: Member | Operator) -> list[tuple[str, str]]:
    """The roles that exist for this kind of organisation."""
    allowed = MEMBER_ROLES if isinstance(org, Member) else OPERATOR_ROLES
    return [(role.value, str(role.label)) for role in allowed]


def role_help(org: Member | Operator) -> list[tuple[str, str]]:
    allowed = MEMBER_ROLES if isinstance(org, Member) else OPERATOR_ROLES
    return [(str(role.label), str(ROLE_DESCRIPTIONS[role])) for role in allowed]


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Roles"))
        kwargs.setdefault("help_text", gettext_lazy("At least one; see what each role may do below."))
        super().__init__(**kwargs)


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("User name"),
        max_length=150,
        help_text=gettext_lazy("3 to 150 characters: letters, digits and @ . + - _ only. Used to sign in."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    last_name = forms.CharField(label=gettext_lazy("Family name"), max_length=150, required=False)
    first_name = forms.CharField(label=gettext_lazy("Given name"), max_length=150, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254)
    password = forms.CharField(
        label=gettext_lazy("Initial password"),
        strip=False,
        help_text=gettext_lazy(
            "At least 10 characters, not common, not all digits, not like the user name. "
            "Give it to the person in a safe way; they can change it after signing in."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Initial password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    roles = RolesField()

    def __init__(self, *args: Any, org: Member | Operator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices(org)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("password")
            and cleaned.get("password_again")
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class StaffRolesForm(forms.Form):
    roles = RolesField()

    def __init__(self, *args: Any, org: Member | Operator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices(org)  # type: ignore[attr-defined]


@portal_view(Perm.STAFF_MANAGE)
@require_http_methods(["GET"])
def staff_list(request: PortalRequest) -> HttpResponse:
    users = staff_visible_to(request.actor)
    page, query_string = page_of(request, users)
    rows = [(user, [Role(grant.role).label for grant in user.role_grants.all()]) for user in page]
    return render(
        request,
        "portal/staff/list.html",
        {"page": page, "rows": rows, "query_string": query_string, "organisation": organisation_of(request.actor)},
    )


@portal_view(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_new(request: PortalRequest) -> HttpResponse:
    org = organisation_of(request.actor)
    form = StaffCreateForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = call_service(
            form,
            staff_create,
            org=org,
            username=data["username"],
            password=data["password"],
            roles=data["roles"],
            actor=request.actor,
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
        if user is not None:
            messages.success(request, _("User %(username)s was created.") % {"username": user.username})
            return redirect("staff-detail", user_id=user.pk)
    return render(
        request,
        "portal/staff/create.html",
        {"form": form, "organisation": org, "role_help": role_help(org)},
    )


@portal_view(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_detail(request: PortalRequest, user_id: int) -> HttpResponse:
    user: User = get_object_or_404(staff_visible_to(request.actor), pk=user_id)
    org = organisation_of(request.actor)
    current = sorted(grant.role for grant in user.role_grants.all())
    form = StaffRolesForm(request.POST or None, org=org, initial={"roles": current})
    if request.method == "POST" and form.is_valid():
        updated = call_service(form, staff_set_roles, user=user, roles=form.cleaned_data["roles"], actor=request.actor)
        if updated is not None:
            messages.success(request, _("The roles of %(username)s were saved.") % {"username": user.username})
            return redirect("staff-detail", user_id=user.pk)
    return render(
        request,
        "portal/staff/detail.html",
        {
            "staff_user": user,
            "roles": [Role(code).label for code in current],
            "form": form,
            "organisation": org,
            "role_help": role_help(org),
            "is_self": user.pk == request.user.pk,
        },
    )


@portal_view(Perm.STAFF_MANAGE)
@require_POST
def staff_active(request: PortalRequest, user_id: int) -> HttpResponse:
    """Deactivate (the person can no longer sign in) or reactivate a staff user."""
    user: User = get_object_or_404(staff_visible_to(request.actor), pk=user_id)
    active = request.POST.get("active") == "1"
    try:
        staff_set_active(user=user, active=active, actor=request.actor)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        if active:
            messages.success(request, _("%(username)s can sign in again.") % {"username": user.username})
        else:
            messages.success(
                request, _("%(username)s was deactivated and can no longer sign in.") % {"username": user.username}
            )
    return redirect("staff-detail", user_id=user.pk)
