"""Forms of the member's registry pages (entries, lookups) and what their subject fields share.

A raw identity number never reaches the server: the page's script (``static/registry``)
checks and hashes it in the browser, and the only subject fields of these forms are
``id_type``, ``subject_hash`` and ``key_id`` (which key the script hashed with). Every rule
is the services' (``registry.services.entry_rules``, ``lookups``); these forms only collect
values and put the services' refusals, in the reader's language, next to the right field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.choices import BlackReason, WhiteReason
from lenders.models import Region
from lenders.permissions import Perm
from registry.choices import REASONS_BY_LIST, EntryState, IdType, ListKind, LookupPurpose
from registry.services.entry_rules import parse_subject_hash

REASON_LABELS: dict[str, str | Promise] = {**dict(BlackReason.choices), **dict(WhiteReason.choices)}


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


def grouped_reason_choices(empty_label: str | Promise) -> list[Any]:
    """Reasons grouped under their list, so that a page without JavaScript still shows which
    reason belongs to which list."""
    return [
        ("", empty_label),
        (ListKind.BLACK.label, list(BlackReason.choices)),
        (ListKind.WHITE.label, list(WhiteReason.choices)),
    ]


# -- the subject fields ------------------------------------------------------------------------

SUBJECT_HASH_HELP = gettext_lazy(
    "64 hexadecimal characters: the number already hashed with this region's key, "
    "for example by the command-line client."
)


def subject_hash_widget() -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": "off",
            "autocapitalize": "none",
            "spellcheck": "false",
            "class": "mono hash-input",
            "maxlength": "64",
            "data-subject-hash": "",
        }
    )


def hashing_context(actor: Actor) -> dict[str, Any]:
    """What a page with a raw-number field needs: where its script fetches the region key (only
    for actors who may read it) and the script's messages in the reader's language."""
    return {
        "hash_key_url": reverse("api-region-hash-key") if actor.can(Perm.HASH_KEY_READ) else "",
        "hashing_messages": hashing_messages(),
    }


def hashing_messages() -> dict[str, str]:
    """The refusals of ``static/registry/hashing.js`` by ``<id_type>.<rule>`` (the rule codes of
    ``registry_client.hashing``), and what the page's script says around them."""
    return {
        "RIC.length": _("A resident ID has 18 characters (or 15 digits), not %(length)s."),
        "RIC.format": _("A resident ID is 17 digits followed by a digit or X."),
        "RIC.birth_date": _("Characters 7 to 14 of this resident ID are not a real date."),
        "RIC.birth_date_future": _("The birth date of this resident ID is in the future."),
        "RIC.checksum": _("The check digit of this resident ID is wrong; check the number for a typing error."),
        "USCC.length": _("A unified social credit code has 18 characters, not %(length)s."),
        "USCC.format": _(
            "This is not a valid unified social credit code (characters 0-9, A-H, J-N, P, Q, R, T, U, W, X, Y)."
        ),
        "USCC.checksum": _(
            "The check character of this unified social credit code is wrong; check the code for a typing error."
        ),
        "MOBILE.format": _("A mobile number is 11 digits starting with 13 to 19 (+86 or 0086 allowed)."),
        "empty": _("Type the identity number."),
        "id_type": _("Choose the ID type of the number first."),
        "valid": _("Valid: %(canonical)s. Only its hash will be sent."),
        "hashing": _("Hashing the number in this browser…"),
        "hash_instead": _("Enter a subject hash instead of the number"),
        "key_forbidden": _("Your role may not read the region's hash key, so the number cannot be hashed here."),
        "key_failed": _("The region's hash key could not be fetched; try again, or enter the subject hash."),
        "no_webcrypto": _(
            "This browser cannot hash here: hashing needs a secure (HTTPS) connection and a current browser. "
            "Enter the subject hash instead."
        ),
    }


def clean_hash_filter(value: str) -> str:
    """A subject hash typed as a filter: 64 hex characters, spaces around ignored, any case."""
    value = (value or "").strip()
    if value and parse_subject_hash(value) is None:
        raise forms.ValidationError(_("A subject hash is 64 hexadecimal characters (0-9, a-f)."))
    return value.lower()


# -- entries -----------------------------------------------------------------------------------


class EntryFilterForm(forms.Form):
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"), required=False, max_length=100, widget=subject_hash_widget()
    )
    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), required=False, choices=[("", gettext_lazy("All ID types")), *IdType.choices]
    )
    list = forms.ChoiceField(
        label=gettext_lazy("List"), required=False, choices=[("", gettext_lazy("Both lists")), *ListKind.choices]
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), required=False, choices=grouped_reason_choices(gettext_lazy("All reasons"))
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"), required=False, choices=[("", gettext_lazy("All states")), *EntryState.choices]
    )

    def clean_subject_hash(self) -> str:
        return clean_hash_filter(self.cleaned_data.get("subject_hash", ""))


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EntryForm(forms.Form):
    """One row of ``csv.md``, for ``entry_submit``: the field names are its column names, so
    the service's refusals land on the fields."""

    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), choices=IdType.choices, initial=IdType.RIC, widget=forms.RadioSelect
    )
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"), max_length=100, help_text=SUBJECT_HASH_HELP, widget=subject_hash_widget()
    )
    key_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-key-id": ""}))
    list = forms.ChoiceField(label=gettext_lazy("List"), choices=ListKind.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=grouped_reason_choices(gettext_lazy("Choose a reason")),
        help_text=gettext_lazy("Only the reasons of the chosen list are valid."),
    )
    event_date = forms.CharField(
        label=gettext_lazy("Event date"),
        help_text=gettext_lazy(
            "YYYY-MM-DD, not in the future: the day of the default, write-off or court listing "
            "(black) or of the good standing (white). Retention is counted from it."
        ),
        widget=date_widget(),
    )
    expires_on = forms.CharField(
        label=gettext_lazy("Expires on"),
        required=False,
        help_text=gettext_lazy(
            "Optional, YYYY-MM-DD: the entry stops counting on this day, if that is before the end of retention."
        ),
        widget=date_widget(),
    )
    reference = forms.CharField(
        label=gettext_lazy("Your reference"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Optional: your own case number, at most 64 characters. Other members never see it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def row(self) -> dict[str, str]:
        """The cleaned values as the service's row (``csv.md`` columns)."""
        names = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference")
        return {name: self.cleaned_data.get(name) or "" for name in names}


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why is it withdrawn?"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Optional, at most 500 characters; kept in the audit log."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# Messages of entry_rules' row errors by code, in the reader's language. The rules and codes
# stay the service's; only the wording is the portal's.
ROW_ERROR_MESSAGES: dict[str, str | Promise] = {
    "required": gettext_lazy("This field is required."),
    "invalid_id_type": gettext_lazy("Choose RIC, USCC or MOBILE."),
    "invalid_hash": gettext_lazy("A subject hash is 64 hexadecimal characters (0-9, a-f)."),
    "invalid_action": gettext_lazy("The action must be UPSERT or WITHDRAW."),
    "reference_too_long": gettext_lazy("At most 64 characters."),
    "reference_not_printable": gettext_lazy("No control characters or line breaks."),
    "invalid_list": gettext_lazy("Choose the black list or the white list."),
    "reason_not_for_list": gettext_lazy("This reason does not belong to the %(list)s. Choose one of: %(reasons)s."),
    "invalid_date": gettext_lazy("Enter a real date written YYYY-MM-DD."),
    "future_date": gettext_lazy("The event date must not be in the future."),
    "past_retention": gettext_lazy(
        "The retention of an event on this date ended on %(date)s; it can no longer be listed."
    ),
    "expires_not_after_today": gettext_lazy("The expiry date must be after today."),
    "expires_before_event": gettext_lazy("The expiry date must be after the event date."),
    "expires_beyond_retention": gettext_lazy("The expiry date must not be after the end of retention, %(date)s."),
}
_CODED = re.compile(r"([a-z_]+): (.*)", re.DOTALL)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def row_error_message(text: str, row: Mapping[str, Any]) -> str:
    """One ``"<code>: <message>"`` of ``entry_submit``'s details, in the reader's language (an
    unknown code keeps the service's own words)."""
    match = _CODED.fullmatch(text)
    if match is None or match.group(1) not in ROW_ERROR_MESSAGES:
        return text
    code, original = match.groups()
    template = str(ROW_ERROR_MESSAGES[code])
    if code == "reason_not_for_list":
        list_kind = str(row.get("list", "")).upper()
        allowed = REASONS_BY_LIST.get(list_kind, frozenset())
        reasons = ", ".join(str(label) for code, label in REASON_LABELS.items() if code in allowed)
        return template % {
            "list": ListKind(list_kind).label if list_kind in ListKind.values else "",
            "reasons": reasons,
        }
    if "%(date)s" in template:
        found = _ISO_DATE.search(original)
        return template % {"date": found.group(0) if found else ""}
    return template


def localised_row_refusal(exc: InvalidInput, row: Mapping[str, Any]) -> InvalidInput:
    """``exc`` with its messages in the reader's language; a ``key_id`` refusal (a hidden field)
    goes to the form as a whole."""
    details: dict[str, list[str]] = {}
    for field, messages in (exc.details or {}).items():
        values = messages if isinstance(messages, list | tuple) else [messages]
        target = "__all__" if field == "key_id" else field
        details.setdefault(target, []).extend(row_error_message(str(m), row) for m in values)
    return InvalidInput(exc.message, code=exc.code, details=details)


# -- lookups -----------------------------------------------------------------------------------


class LookupForm(forms.Form):
    """What the lookup page posts: never the number, only its hash."""

    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), choices=IdType.choices, initial=IdType.RIC, widget=forms.RadioSelect
    )
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"), max_length=100, help_text=SUBJECT_HASH_HELP, widget=subject_hash_widget()
    )
    key_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-key-id": ""}))
    purpose = forms.ChoiceField(
        label=gettext_lazy("Purpose"),
        choices=[("", gettext_lazy("Choose the purpose")), *LookupPurpose.choices],
        help_text=gettext_lazy("Recorded with the lookup; the subject may ask who looked them up and why."),
    )
    consent_reference = forms.CharField(
        label=gettext_lazy("Consent reference"),
        max_length=64,
        help_text=gettext_lazy("The reference of the borrower's written consent to this check, at most 64 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consent = self.fields["consent_reference"]
        consent.required = region.consent_reference_required
        if not consent.required:
            consent.help_text = gettext_lazy(
                "Optional in this region: the reference of the borrower's written consent, at most 64 characters."
            )
