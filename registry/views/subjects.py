"""Operator pages about one subject: find it by its hash, then read its regional status, every
member's entry on it, how its status changed and who looked it up (the subject's right to know).

``OPERATOR_ADMIN`` and ``REGULATOR`` read these pages (``subject.history_read``); members'
users are refused. Everything is read through ``registry.selectors.subjects.subject_for_operator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from lenders.actors import Actor
from lenders.choices import BlackReason, WhiteReason
from lenders.models import HashKey
from lenders.permissions import Perm
from lenders.selectors import members_visible_to
from lenders.views.access import PortalRequest, call_service, portal_view
from registry.choices import REASON_COLUMNS, ConsensusCause, IdType, ListKind, LookupPurpose
from registry.models import ConsensusHistory, ConsensusRecord, Entry, LookupRecord
from registry.selectors.dispute_pages import relist_blocks_on_subject
from registry.selectors.operator_region import region_hash_keys
from registry.selectors.subjects import SubjectView, subject_for_operator

PER_PAGE = 50
SEARCH_TEMPLATE = "registry/operator/subject_search.html"


def reason_label(code: str) -> str:
    """A black or white reason code in words (the code itself if it is unknown)."""
    if code in BlackReason.values:
        return str(BlackReason(code).label)
    if code in WhiteReason.values:
        return str(WhiteReason(code).label)
    return code


def paged(request: PortalRequest, items: Any, param: str, per_page: int = PER_PAGE) -> tuple[Page[Any], str]:
    """One page of ``items`` chosen by the query parameter ``param`` (a page may hold several
    paged lists), and the query string of every other parameter for the pager's links."""
    page = Paginator(items, per_page).get_page(request.GET.get(param))
    others = request.GET.copy()
    others.pop(param, None)
    return page, others.urlencode()


class SubjectSearchForm(forms.Form):
    id_type = forms.ChoiceField(label=gettext_lazy("ID type"), choices=IdType.choices)
    subject_hash = forms.CharField(
        label=gettext_lazy("Subject hash"),
        max_length=200,
        help_text=gettext_lazy(
            "64 hexadecimal characters: the hash members use in entries, uploads and lookups. "
            "The registry never holds the identity number itself."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    key_id = forms.ChoiceField(
        label=gettext_lazy("Hash key"),
        required=False,
        help_text=gettext_lazy("The key the hash was made with: the current key unless you choose an older one."),
    )

    def __init__(self, *args: Any, keys: Sequence[HashKey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = next((key for key in keys if key.is_current), None)
        choices: list[tuple[str, str]] = [
            ("", _("Current key (%(key_id)s)") % {"key_id": current.key_id} if current else _("Current key"))
        ]
        for key in keys:
            if not key.is_current:
                retired = timezone.localtime(key.retired_at).strftime("%Y-%m-%d") if key.retired_at else ""
                choices.append(
                    (key.key_id, _("%(key_id)s, retired %(date)s") % {"key_id": key.key_id, "date": retired})
                )
        self.fields["key_id"].choices = choices  # type: ignore[attr-defined]


def _find(form: SubjectSearchForm, actor: Actor) -> SubjectView | None:
    """The subject the valid form names, or ``None`` with the selector's refusals on the form."""
    if not form.is_valid():
        return None
    return call_service(
        form,
        subject_for_operator,
        actor=actor,
        id_type=form.cleaned_data["id_type"],
        subject_hash=form.cleaned_data["subject_hash"].strip(),
        key_id=form.cleaned_data["key_id"] or None,
    )


def subject_url(view: SubjectView) -> str:
    url = reverse("subject-detail", args=[view.id_type, view.subject_hash.hex()])
    if not view.hash_key.is_current:
        url += "?" + urlencode({"key_id": view.hash_key.key_id})
    return url


@portal_view(Perm.SUBJECT_HISTORY_READ)
@require_GET
def subject_search(request: PortalRequest) -> HttpResponse:
    keys = list(region_hash_keys(request.actor))
    form = SubjectSearchForm(request.GET or None, keys=keys)
    if form.is_bound:
        found = _find(form, request.actor)
        if found is not None:
            return redirect(subject_url(found))
    return render(request, SEARCH_TEMPLATE, {"form": form})


# -- one subject ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    list: str
    members: int


@dataclass(frozen=True)
class HistoryRow:
    record: ConsensusHistory
    cause: str | Promise
    reference: str
    reference_url: str


@dataclass(frozen=True)
class LookupRow:
    record: LookupRecord
    by: str
    purpose: str | Promise


def _reasons(consensus: ConsensusRecord) -> list[ReasonCount]:
    """Every reason with at least one counted member, black ones first (``consensus.md``)."""
    counts = []
    for code, column in REASON_COLUMNS.items():
        members = getattr(consensus, column)
        if members:
            kind = ListKind.BLACK if code in BlackReason.values else ListKind.WHITE
            counts.append(ReasonCount(code=code, label=reason_label(code), list=kind.value, members=members))
    return counts


def _history_rows(actor: Actor, records: Sequence[ConsensusHistory], entries: Sequence[Entry]) -> list[HistoryRow]:
    """The history in words: each cause, and what the cause reference points to."""
    member_ids = {
        int(value)
        for kind, _sep, value in (record.cause_ref.partition(":") for record in records)
        if kind == "member" and value.isdigit()
    }
    members = {m.pk: m for m in members_visible_to(actor).filter(pk__in=member_ids)} if member_ids else {}
    entry_by_id = {entry.pk: entry for entry in entries}
    rows = []
    for record in records:
        cause = ConsensusCause(record.cause).label if record.cause in ConsensusCause.values else record.cause
        text, url = _cause_reference(actor, record.cause_ref, entry_by_id, members)
        rows.append(HistoryRow(record=record, cause=cause, reference=text, reference_url=url))
    return rows


def _cause_reference(actor: Actor, ref: str, entries: dict[int, Entry], members: dict[int, Any]) -> tuple[str, str]:
    kind, _sep, value = ref.partition(":")
    number = int(value) if value.isdigit() else None
    if kind == "entry" and number is not None:
        entry = entries.get(number)
        if entry is not None:
            return _("Entry of %(member)s") % {"member": entry.member.name}, f"#entry-{entry.pk}"
        return _("Entry no. %(id)s") % {"id": number}, ""
    if kind == "member" and number is not None:
        member = members.get(number)
        if member is None:
            return _("Member no. %(id)s") % {"id": number}, ""
        url = reverse("member-detail", args=[member.pk]) if actor.can(Perm.MEMBER_READ) else ""
        return _("Settings of %(member)s") % {"member": member.name}, url
    if kind == "recompute":
        if number is None:
            return _("Whole-region recompute"), ""
        return _("Whole-region recompute no. %(id)s") % {"id": number}, reverse("region-recompute", args=[number])
    if kind == "expiry":
        return _("Nightly expiry of %(date)s") % {"date": value}, ""
    if kind == "lookup":
        return _("Expiry found by a lookup on %(date)s") % {"date": value}, ""
    if kind == "upload" and number is not None:
        return _("Upload no. %(id)s") % {"id": number}, ""
    if kind == "dispute" and number is not None:
        return _("Dispute no. %(id)s") % {"id": number}, ""
    if kind == "verify":
        return _("Repair by the consistency check"), ""
    return ref, ""


def _lookup_rows(records: Sequence[LookupRecord]) -> list[LookupRow]:
    rows = []
    for record in records:
        if record.user is not None:
            by = record.user.username
        elif record.api_key_prefix:
            by = _("API key %(prefix)s…") % {"prefix": record.api_key_prefix}
        else:
            by = _("Not recorded")
        purpose = LookupPurpose(record.purpose).label if record.purpose in LookupPurpose.values else record.purpose
        rows.append(LookupRow(record=record, by=by, purpose=purpose))
    return rows


@portal_view(Perm.SUBJECT_HISTORY_READ)
@require_GET
def subject_detail(request: PortalRequest, id_type: str, subject_hash: str) -> HttpResponse:
    actor = request.actor
    keys = list(region_hash_keys(actor))
    data = {"id_type": id_type, "subject_hash": subject_hash, "key_id": request.GET.get("key_id", "")}
    form = SubjectSearchForm(data, keys=keys)
    view = _find(form, actor)
    if view is None:
        return render(request, SEARCH_TEMPLATE, {"form": form}, status=400)
    if subject_hash != view.subject_hash.hex():  # one address per subject: lower-case hex
        return redirect(subject_url(view))
    entries = list(view.entries)
    history_page, history_query = paged(request, view.history, "history_page")
    # A batch writes many records in one instant: the id keeps the pages stable.
    lookups_page, lookups_query = paged(request, view.lookups.order_by("-created_at", "-id"), "lookups_page")
    consensus = view.consensus
    today = timezone.localdate()
    context = {
        "view": view,
        "subject_hash": view.subject_hash.hex(),
        "id_type_label": IdType(view.id_type).label,
        "consensus": consensus,
        "reasons": _reasons(consensus) if consensus is not None else [],
        # A counted entry reached its end since the record was computed; the next lookup or the
        # nightly expiry job recomputes it (consensus.md).
        "stale": consensus is not None and consensus.valid_until is not None and consensus.valid_until <= today,
        "entries": [(entry, reason_label(entry.reason)) for entry in entries],
        "history_page": history_page,
        "history_query": history_query,
        "history_rows": _history_rows(actor, list(history_page.object_list), entries),
        "lookups_page": lookups_page,
        "lookups_query": lookups_query,
        "lookup_rows": _lookup_rows(list(lookups_page.object_list)),
        "can_read_members": actor.can(Perm.MEMBER_READ),
        "relist_blocks": relist_blocks_on_subject(
            actor, hash_key=view.hash_key, id_type=view.id_type, subject_hash=view.subject_hash
        ),
        "can_lift_blocks": actor.can(Perm.RELIST_BLOCK_LIFT),
    }
    return render(request, "registry/operator/subject_detail.html", context)
