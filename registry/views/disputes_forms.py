"""Forms of the dispute pages. They only collect values: every rule (required note, corrected
fields, deadlines, windows, file types) is ``registry.services.disputes``', whose refusals
``put_service_errors`` places next to the right field in the reader's language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from lenders.choices import BlackReason
from lenders.models import Member
from registry.choices import (
    ArbitrationDecision,
    DisputeDecision,
    DisputeGrounds,
    DisputeItemState,
    DisputeState,
    IdType,
)
from registry.views.forms import (
    SUBJECT_HASH_HELP,
    clean_hash_filter,
    date_widget,
    row_error_message,
    subject_hash_widget,
)

# A service's field name -> the form's, where they differ.
_ANSWER_FIELDS = {
    "corrected.reason": "corrected_reason",
    "corrected.event_date": "corrected_event_date",
    "corrected.expires_on": "corrected_expires_on",
}


def put_service_errors(form: forms.BaseForm, exc: ServiceError, *, fields: dict[str, str] | None = None) -> None:
    """A service's refusal on the form: each detail on its field (coded row errors in the
    reader's language), the rest and the summary on the form as a whole. A conflict's details
    are data (an id), not messages, so only its message is shown."""
    placed = False
    if exc.status_code != 409:
        for name, messages in (exc.details or {}).items():
            target = (fields or {}).get(name, name)
            values = messages if isinstance(messages, list | tuple) else [messages]
            for message in values:
                text = row_error_message(str(message), {"list": "BLACK"})
                if target in form.fields:
                    form.add_error(target, text)
                    placed = True
                else:
                    form.add_error(None, text)
    if not placed:
        form.add_error(None, exc.message)


# -- filing ----------------------------------------------------------------------------------------


class DisputeFileForm(forms.Form):
    """What the filing page posts: never the number, only its hash (hashed in the browser)."""

    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), choices=IdType.choices, initial=IdType.RIC, widget=forms.RadioSelect
    )
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"), max_length=100, help_text=SUBJECT_HASH_HELP, widget=subject_hash_widget()
    )
    key_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-key-id": ""}))
    grounds = forms.ChoiceField(
        label=gettext_lazy("Grounds"),
        choices=[("", gettext_lazy("Choose the grounds")), *DisputeGrounds.choices],
    )
    statement = forms.CharField(
        label=gettext_lazy("Statement"),
        max_length=4000,
        help_text=gettext_lazy(
            "What the subject says is wrong, at most 4,000 characters. The members that listed the "
            "subject read it; they never learn who filed."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    consent_reference = forms.CharField(
        label=gettext_lazy("Consent reference"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Optional: the reference of the subject's written request, at most 64 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_subject_hash(self) -> str:
        # The same format check as the search filters, so that every mistake shows at once.
        return clean_hash_filter(self.cleaned_data.get("subject_hash", ""))


# -- answering ------------------------------------------------------------------------------------


class DisputeAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Your decision"), choices=DisputeDecision.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=2000,
        help_text=gettext_lazy(
            "Required, at most 2,000 characters: what you checked. The filer reads it, without your name."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    corrected_reason = forms.ChoiceField(
        label=gettext_lazy("Corrected reason"),
        required=False,
        choices=BlackReason.choices,
        help_text=gettext_lazy("Only for a correction."),
    )
    corrected_event_date = forms.CharField(
        label=gettext_lazy("Corrected event date"),
        required=False,
        help_text=gettext_lazy("Only for a correction: YYYY-MM-DD, not in the future."),
        widget=date_widget(),
    )
    corrected_expires_on = forms.CharField(
        label=gettext_lazy("Corrected expiry date"),
        required=False,
        help_text=gettext_lazy("Only for a correction: YYYY-MM-DD, or empty for the end of retention."),
        widget=date_widget(),
    )

    def corrected(self) -> dict[str, str] | None:
        """The corrected fields for the service, only with a ``CORRECT`` decision."""
        if self.cleaned_data.get("decision") != DisputeDecision.CORRECT:
            return None
        return {
            "reason": self.cleaned_data.get("corrected_reason") or "",
            "event_date": self.cleaned_data.get("corrected_event_date") or "",
            "expires_on": self.cleaned_data.get("corrected_expires_on") or "",
        }

    @staticmethod
    def service_fields() -> dict[str, str]:
        return _ANSWER_FIELDS


# -- escalation, evidence, arbitration ------------------------------------------------------------


class DisputeEscalateForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why should the operator decide?"),
        max_length=4000,
        help_text=gettext_lazy("Required, at most 4,000 characters."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DisputeEvidenceForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Evidence file"),
        help_text=gettext_lazy("PDF, JPEG or PNG, at most 10 MiB; its type is checked from its content."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class DisputeArbitrateForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=ArbitrationDecision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=gettext_lazy("Written reason"),
        max_length=2000,
        help_text=gettext_lazy("Required, at most 2,000 characters; both parties read it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RelistBlockLiftForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    id_type = forms.ChoiceField(choices=IdType.choices, widget=forms.HiddenInput)
    subject_hash = forms.CharField(max_length=64, widget=forms.HiddenInput)
    key_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


# -- list filters ---------------------------------------------------------------------------------

ANY_STATE = [("", gettext_lazy("All states"))]
WAITING = "WAITING"


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[
            ("", gettext_lazy("All items")),
            (WAITING, gettext_lazy("Waiting for your answer")),
            *DisputeItemState.choices,
        ],
    )


class DisputeFilterForm(forms.Form):
    """The filters of a list of disputes; the operator's list has more of them."""

    state = forms.ChoiceField(label=gettext_lazy("State"), required=False, choices=[*ANY_STATE, *DisputeState.choices])
    grounds = forms.ChoiceField(
        label=gettext_lazy("Grounds"),
        required=False,
        choices=[("", gettext_lazy("All grounds")), *DisputeGrounds.choices],
    )
    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), required=False, choices=[("", gettext_lazy("All ID types")), *IdType.choices]
    )
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )

    def clean_subject_hash(self) -> str:
        return clean_hash_filter(self.cleaned_data.get("subject_hash", ""))


class OperatorDisputeFilterForm(DisputeFilterForm):
    filer = forms.ChoiceField(label=gettext_lazy("Filed by"), required=False)
    respondent = forms.ChoiceField(label=gettext_lazy("Addressed to"), required=False)
    filed_from = forms.DateField(label=gettext_lazy("Filed from"), required=False, widget=date_widget())
    filed_to = forms.DateField(label=gettext_lazy("Filed until"), required=False, widget=date_widget())

    def __init__(self, *args: Any, members: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(member.pk), member.name) for member in members]
        self.fields["filer"].choices = [("", gettext_lazy("Anyone")), *choices]  # type: ignore[attr-defined]
        self.fields["respondent"].choices = [("", gettext_lazy("Any member")), *choices]  # type: ignore[attr-defined]
