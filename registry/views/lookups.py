"""The lookup page: one subject's regional status, for underwriting and loan management.

The page's script checks and hashes the number in the browser; the form posts only the ID
type, the hash, the key it was hashed with, the purpose and the consent reference. The
server calls ``lookup_subject`` (which records the lookup) and shows the result card.
Without JavaScript the page says so and takes a hash typed directly.

Batch mode (``static/registry/lookup-batch.js``) takes up to ``PORTAL_BATCH_MAX`` pasted or
file-read numbers, hashes them in the browser and posts only the hashes to the API's batch
lookup (``POST /api/v1/lookups/batch``, signed in through the session, so the same service and
the same lookup records as a machine's batch). This view only gives it its labels.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import InvalidInput
from lenders.permissions import Perm
from lenders.views.access import PortalRequest, call_service, portal_view
from registry.choices import BLACK_REASONS, REASON_COLUMNS, EntryState, IdType, ListKind, LookupPurpose
from registry.services.lookups import lookup_subject
from registry.views.forms import REASON_LABELS, LookupForm, hashing_context, reason_label

# The portal's batch is for a desk, not a nightly job (which uses the API with its 10,000).
PORTAL_BATCH_MAX = 1000
# Where "file a dispute" goes, once the disputes pages exist (the first name that resolves).
DISPUTE_NEW_URL_NAMES = ("registry:member-dispute-new", "member-dispute-new")

# What each status means, beside its badge (registry/member/lookups/_status_badge.html: colour,
# symbol and word, so that the status is never told by colour alone).
STATUS_MEANINGS: dict[str, str | Promise] = {
    "BLACK": gettext_lazy("The members' entries put this subject on the regional black list."),
    "WATCH": gettext_lazy(
        "At least one member reports a black entry, but not enough for the black list: look closer before lending."
    ),
    "WHITE": gettext_lazy("No member reports a black entry, and at least one reports the subject in good standing."),
    "CLEAR": gettext_lazy("No member has an entry on this subject that counts."),
}


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    members: int
    black: bool


@dataclass(frozen=True)
class OwnEntry:
    id: int
    list: str
    list_label: str
    reason: str
    event_date: str
    state: str
    state_label: str


@dataclass(frozen=True)
class LookupCard:
    """The lookup result of ``api.md``, ready for the page."""

    id_type: str
    id_type_label: str
    subject_hash: str
    key_id: str
    status: str
    meaning: str
    black_score: int
    black_members: int
    white_members: int
    reasons: list[ReasonCount] = field(default_factory=list)
    latest_black_event_date: str | None = None
    conflict: bool = False
    disputed: bool = False
    own_entry: OwnEntry | None = None
    consensus_updated_at: datetime.datetime | None = None
    lookup_id: str = ""

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> LookupCard:
        reasons = [
            ReasonCount(code=code, label=reason_label(code), members=int(count), black=code in BLACK_REASONS)
            for code in REASON_COLUMNS
            if (count := result["reasons"].get(code))
        ]
        own = result.get("own_entry")
        updated = result.get("consensus_updated_at")
        return cls(
            id_type=result["id_type"],
            id_type_label=str(IdType(result["id_type"]).label),
            subject_hash=result["subject_hash"],
            key_id=result["key_id"],
            status=result["status"],
            meaning=str(STATUS_MEANINGS[result["status"]]),
            black_score=int(result["black_score"]),
            black_members=int(result["black_members"]),
            white_members=int(result["white_members"]),
            reasons=reasons,
            latest_black_event_date=result.get("latest_black_event_date"),
            conflict=bool(result["conflict"]),
            disputed=bool(result["disputed"]),
            own_entry=OwnEntry(
                id=own["id"],
                list=own["list"],
                list_label=str(ListKind(own["list"]).label),
                reason=reason_label(own["reason"]),
                event_date=own["event_date"],
                state=own["state"],
                state_label=str(EntryState(own["state"]).label),
            )
            if own
            else None,
            consensus_updated_at=datetime.datetime.fromisoformat(updated.replace("Z", "+00:00")) if updated else None,
            lookup_id=str(result.get("lookup_id", "")),
        )


def _lookup_subject(**kwargs: Any) -> dict[str, Any]:
    """``lookup_subject`` with its refusals placed on this form's fields."""
    try:
        return lookup_subject(**kwargs)
    except InvalidInput as exc:
        places = {"subject": "subject_hash", "key_id": "__all__"}
        details = {places.get(name, name): messages for name, messages in (exc.details or {}).items()}
        raise InvalidInput(exc.message, code=exc.code, details=details) from exc


STATUS_LOOKS: dict[str, tuple[str, str]] = {
    # status: (css class, symbol) as in registry/member/lookups/_status_badge.html
    "BLACK": ("status-black", "■"),
    "WATCH": ("status-watch", "▲"),
    "WHITE": ("status-white", "●"),
    "CLEAR": ("status-clear", "○"),
}


def dispute_new_url(id_type: str, subject_hash: str) -> str:
    """The page that files a dispute on this subject, or "" while the portal has none."""
    for name in DISPUTE_NEW_URL_NAMES:
        try:
            base = reverse(name)
        except NoReverseMatch:
            continue
        return f"{base}?{urlencode({'id_type': id_type, 'subject_hash': subject_hash})}"
    return ""


def batch_labels() -> dict[str, Any]:
    """Everything the batch script shows, in the reader's language."""
    status_labels = {
        "BLACK": _("Black list"),
        "WATCH": _("Watch (grey list)"),
        "WHITE": _("White list"),
        "CLEAR": _("No record"),
    }
    return {
        "statuses": {
            code: {"label": str(label), "css": STATUS_LOOKS[code][0], "symbol": STATUS_LOOKS[code][1]}
            for code, label in status_labels.items()
        },
        "reasons": {code: str(label) for code, label in REASON_LABELS.items()},
        "lists": {code: str(label) for code, label in ListKind.choices},
        "entry_states": {code: str(label) for code, label in EntryState.choices},
        "id_types": {code: str(label) for code, label in IdType.choices},
        "columns": {
            "line": _("Line"),
            "id_type": _("ID type"),
            "number": _("Number"),
            "status": _("Status"),
            "score": _("Black score"),
            "black_members": _("Black members"),
            "white_members": _("White members"),
            "reasons": _("Reasons"),
            "flags": _("Flags"),
            "own_entry": _("Your entry"),
            "consensus_updated_at": _("Status computed at"),
            "subject_hash": _("Subject hash"),
        },
        "text": {
            "conflict": _("Conflict"),
            "disputed": _("Disputed"),
            "none": _("None"),
            "no_entry": _("None"),
            "hashing": _("Hashing %(done)s of %(total)s numbers in this browser…"),
            "sending": _("Looking up %(total)s hashes…"),
            "done": _("%(total)s subjects looked up; %(invalid)s lines not sent."),
            "nothing": _("Paste or choose at least one number."),
            "too_many": _("At most %(max)s numbers at a time; this list has %(count)s."),
            "invalid_title": _("Not sent: %(count)s lines are not valid numbers"),
            "line": _("Line %(line)s"),
            "failed": _("The lookup failed: %(message)s"),
            "sort": _("Sort by this column"),
            "file_failed": _("The file could not be read."),
        },
    }


@portal_view(Perm.LOOKUP)
@require_http_methods(["GET", "POST"])
def lookup(request: PortalRequest) -> HttpResponse:
    region = request.actor.region
    assert region is not None
    card = None
    if request.method == "POST":
        form = LookupForm(request.POST, region=region)
        if form.is_valid():
            data = form.cleaned_data
            result = call_service(
                form,
                _lookup_subject,
                actor=request.actor,
                id_type=data["id_type"],
                subject_hash=data["subject_hash"],
                purpose=data["purpose"],
                consent_reference=data["consent_reference"],
                key_id=data["key_id"] or None,
            )
            if result is not None:
                card = LookupCard.from_result(result)
                # The next lookup starts empty but for the choices that usually stay the same.
                form = LookupForm(region=region, initial={"id_type": data["id_type"], "purpose": data["purpose"]})
    else:
        initial = {"id_type": request.GET.get("id_type") or IdType.RIC}
        if initial["id_type"] not in IdType.values:
            initial["id_type"] = IdType.RIC
        if request.GET.get("subject_hash"):
            initial["subject_hash"] = request.GET["subject_hash"].strip()[:64]
        form = LookupForm(region=region, initial=initial)
    return render(
        request,
        "registry/member/lookups/lookup.html",
        {
            "form": form,
            "card": card,
            "region": region,
            "decisive_reasons": [reason_label(code) for code in region.decisive_reasons],
            "can_read_entries": request.actor.can(Perm.ENTRY_READ),
            "dispute_url": dispute_new_url(card.id_type, card.subject_hash) if card else "",
            "batch_url": reverse("api-lookup-batch"),
            "batch_max": PORTAL_BATCH_MAX,
            "batch_labels": batch_labels(),
            "purposes": LookupPurpose.choices,
            "id_types": IdType.choices,
            **hashing_context(request.actor),
        },
    )
