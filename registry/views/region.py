"""The region's settings page: its policy (consensus, dispute deadlines, upload and API limits),
its hash keys and the whole-region recomputes a consensus change starts.

Everyone at the operator reads it (``statistics.read``); an ``OPERATOR_ADMIN`` changes the
policy through ``lenders.services.regions.region_update_policy`` and rotates the hash key
through ``hash_key_rotate``; a ``REGULATOR`` reads the same page without the form. The key
material itself is never read by these pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.db.models import Max
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from lenders.choices import BlackReason
from lenders.models import Region
from lenders.permissions import Perm
from lenders.services.regions import (
    CONSENSUS_FIELDS,
    POLICY_BOOLS,
    POLICY_INT_RANGES,
    hash_key_rotate,
    region_update_policy,
)
from lenders.views.access import PortalRequest, call_service, portal_view
from registry.choices import ConsensusCause
from registry.models import RecomputeJob
from registry.selectors.operator_region import recompute_jobs_visible_to, region_hash_keys

if TYPE_CHECKING:  # the type of gettext_lazy's result, known to django-stubs only
    from django_stubs_ext import StrPromise

RECENT_JOBS = 5
SEVERITY_PREFIX = "severity_"
JOB_STATE_LABELS: dict[str, Promise] = {
    RecomputeJob.State.QUEUED: gettext_lazy("Waiting for a worker"),
    RecomputeJob.State.RUNNING: gettext_lazy("Running"),
    RecomputeJob.State.SUCCEEDED: gettext_lazy("Succeeded"),
    RecomputeJob.State.FAILED: gettext_lazy("Failed"),
}

# Label and explanation of each policy setting (consensus.md, disputes.md, csv.md, api.md).
POLICY_TEXT: dict[str, tuple[StrPromise, StrPromise]] = {
    "black_score_threshold": (
        gettext_lazy("Black score threshold"),
        gettext_lazy("0 to 100. A subject is Black when its score reaches this and enough members list it black."),
    ),
    "min_black_members": (
        gettext_lazy("Members needed for Black"),
        gettext_lazy("How many members must list the subject black, unless one of them gives a decisive reason."),
    ),
    "decisive_reasons": (
        gettext_lazy("Decisive reasons"),
        gettext_lazy("One member's black entry with one of these reasons makes the subject Black on its own."),
    ),
    "black_retention_years": (
        gettext_lazy("Black entry retention (years)"),
        gettext_lazy(
            "A black entry counts until its event date plus this many years (default 5, 征信业管理条例 Art. 16)."
        ),
    ),
    "white_retention_years": (
        gettext_lazy("White entry retention (years)"),
        gettext_lazy("A white entry counts until its event date plus this many years."),
    ),
    "suspend_disputed_entries": (
        gettext_lazy("Disputed entries stop counting"),
        gettext_lazy("While a dispute on a subject is open, the entries it covers do not count."),
    ),
    "count_suspended_members": (
        gettext_lazy("Suspended members' entries count"),
        gettext_lazy("Entries of a suspended member keep counting in the regional status."),
    ),
    "response_days": (
        gettext_lazy("Days to answer a dispute"),
        gettext_lazy("Each respondent's deadline is the filing date plus this many calendar days."),
    ),
    "reminder_days_before": (
        gettext_lazy("Reminder before the deadline (days)"),
        gettext_lazy("A respondent who has not answered is reminded this many days before the deadline."),
    ),
    "escalation_days": (
        gettext_lazy("Days to escalate"),
        gettext_lazy("After a dispute is resolved, the filer may escalate it to the operator within this many days."),
    ),
    "relist_block_days": (
        gettext_lazy("Relisting block (days)"),
        gettext_lazy("An entry removed by a dispute cannot be listed black again by its member for this many days."),
    ),
    "upload_max_rows": (gettext_lazy("Rows per upload"), gettext_lazy("Data rows one file may hold.")),
    "upload_max_bytes": (
        gettext_lazy("Bytes per upload"),
        gettext_lazy("Uncompressed size of one file in bytes (1 GiB is 1073741824)."),
    ),
    "upload_max_line_bytes": (
        gettext_lazy("Bytes per line"),
        gettext_lazy("A longer line is refused as a row error."),
    ),
    "snapshot_max_withdraw_ratio": (
        gettext_lazy("Snapshot withdrawal guard"),
        gettext_lazy(
            "0 to 1. A snapshot upload that would withdraw more than this share of a member's active entries "
            "waits for the member administrator's confirmation."
        ),
    ),
    "lookup_rate_per_minute": (
        gettext_lazy("Lookup requests per minute"),
        gettext_lazy("Per API key; a batch counts as one request."),
    ),
    "upload_rate_per_hour": (gettext_lazy("Uploads per hour"), gettext_lazy("Per API key.")),
    "api_rate_per_minute": (
        gettext_lazy("Other API requests per minute"),
        gettext_lazy("Per API key, for every other endpoint."),
    ),
    "consent_reference_required": (
        gettext_lazy("Consent reference required"),
        gettext_lazy("Every lookup must name the borrower's consent (for example the signed authorisation's number)."),
    ),
    "entry_purge_grace_days": (
        gettext_lazy("Purge grace period (days)"),
        gettext_lazy(
            "A withdrawn or expired entry, or one past its retention, is deleted this many days after it stopped "
            "counting. Its audit events stay."
        ),
    ),
    "lookup_retention_days": (
        gettext_lazy("Lookup record retention (days)"),
        gettext_lazy("Who looked a subject up, when and why is kept this many days, then deleted (30 to 3650)."),
    ),
}

# The page's sections; "severity_weights" stands for one input per black reason.
SECTIONS: tuple[tuple[str, Promise, tuple[str, ...]], ...] = (
    (
        "consensus",
        gettext_lazy("Consensus"),
        (
            "severity_weights",
            "black_score_threshold",
            "min_black_members",
            "decisive_reasons",
            "black_retention_years",
            "white_retention_years",
            "suspend_disputed_entries",
            "count_suspended_members",
        ),
    ),
    (
        "disputes",
        gettext_lazy("Dispute deadlines"),
        ("response_days", "reminder_days_before", "escalation_days", "relist_block_days"),
    ),
    (
        "uploads",
        gettext_lazy("Upload limits"),
        ("upload_max_rows", "upload_max_bytes", "upload_max_line_bytes", "snapshot_max_withdraw_ratio"),
    ),
    (
        "api",
        gettext_lazy("API limits and lookups"),
        ("lookup_rate_per_minute", "upload_rate_per_hour", "api_rate_per_minute", "consent_reference_required"),
    ),
    (
        "lifecycle",
        gettext_lazy("Data retention"),
        ("entry_purge_grace_days", "lookup_retention_days"),
    ),
)


def _weight(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


class PolicyForm(forms.Form):
    """Every policy setting, filled with the region's values. The bounds come from the service's
    own table; the service checks everything again."""

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        kwargs["initial"] = policy_values(region)
        super().__init__(*args, **kwargs)
        for code, label in BlackReason.choices:
            self.fields[SEVERITY_PREFIX + code] = forms.DecimalField(
                label=label,
                min_value=Decimal(0),
                max_value=Decimal(1),
                max_digits=4,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "0.001", "min": "0", "max": "1", "inputmode": "decimal"}),
            )
        for name, (low, high) in POLICY_INT_RANGES.items():
            label, help_text = POLICY_TEXT[name]
            self.fields[name] = forms.IntegerField(
                label=label,
                help_text=help_text,
                min_value=low,
                max_value=high,
                widget=forms.NumberInput(attrs={"min": str(low), "max": str(high), "inputmode": "numeric"}),
            )
        label, help_text = POLICY_TEXT["decisive_reasons"]
        self.fields["decisive_reasons"] = forms.MultipleChoiceField(
            label=label,
            help_text=help_text,
            required=False,
            choices=BlackReason.choices,
            widget=forms.CheckboxSelectMultiple,
        )
        for name in POLICY_BOOLS:
            label, help_text = POLICY_TEXT[name]
            self.fields[name] = forms.BooleanField(label=label, help_text=help_text, required=False)
        label, help_text = POLICY_TEXT["snapshot_max_withdraw_ratio"]
        self.fields["snapshot_max_withdraw_ratio"] = forms.DecimalField(
            label=label,
            help_text=help_text,
            min_value=Decimal(0),
            max_value=Decimal(1),
            max_digits=4,
            decimal_places=3,
            widget=forms.NumberInput(attrs={"step": "0.001", "min": "0", "max": "1", "inputmode": "decimal"}),
        )

    def severity_fields(self) -> list[forms.BoundField]:
        return [self[SEVERITY_PREFIX + code] for code in BlackReason.values]

    def changes(self, region: Region) -> dict[str, Any]:
        """The settings whose submitted value differs from the region's, in the service's terms
        (a weight of 0.6 stored as "0.6" and submitted as 0.600 is no change)."""
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        for name in (*POLICY_INT_RANGES, *POLICY_BOOLS):
            if data[name] != getattr(region, name):
                changes[name] = data[name]
        weights = {code: data[SEVERITY_PREFIX + code] for code in BlackReason.values}
        stored = region.severity_weights or {}
        if any(code not in stored or _weight(stored[code]) != weight for code, weight in weights.items()):
            changes["severity_weights"] = {code: str(weight) for code, weight in weights.items()}
        if sorted(data["decisive_reasons"]) != sorted(region.decisive_reasons or []):
            changes["decisive_reasons"] = sorted(data["decisive_reasons"])
        if data["snapshot_max_withdraw_ratio"] != region.snapshot_max_withdraw_ratio:
            changes["snapshot_max_withdraw_ratio"] = str(data["snapshot_max_withdraw_ratio"])
        return changes


def policy_values(region: Region) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(region, name) for name in (*POLICY_INT_RANGES, *POLICY_BOOLS)}
    for code in BlackReason.values:
        stored = (region.severity_weights or {}).get(code)
        values[SEVERITY_PREFIX + code] = _weight(stored) if stored is not None else None
    values["decisive_reasons"] = list(region.decisive_reasons or [])
    values["snapshot_max_withdraw_ratio"] = region.snapshot_max_withdraw_ratio
    return values


# -- what the read-only page shows ------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str | Promise
    value: str
    help_text: str | Promise = ""
    items: tuple[str, ...] = ()


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _fact(region: Region, name: str) -> Fact:
    label, help_text = POLICY_TEXT[name]
    value = getattr(region, name)
    if name == "decisive_reasons":
        codes = [code for code in BlackReason.values if code in (value or [])]
        items = tuple(str(BlackReason(code).label) for code in codes)
        return Fact(label, "" if items else _("None: no reason decides alone"), help_text, items)
    if isinstance(value, bool):
        return Fact(label, _yes_no(value), help_text)
    if name == "upload_max_bytes":
        return Fact(label, f"{formats.number_format(value, force_grouping=True)} ({filesizeformat(value)})", help_text)
    if isinstance(value, int):
        return Fact(label, formats.number_format(value, force_grouping=True), help_text)
    return Fact(label, str(value), help_text)


def policy_sections(region: Region) -> list[tuple[str, Promise, list[Fact]]]:
    sections = []
    for key, title, names in SECTIONS:
        facts = []
        for name in names:
            if name == "severity_weights":
                stored = region.severity_weights or {}
                weights = tuple(
                    f"{BlackReason(code).label}: {_weight(stored[code]) if code in stored else '—'}"
                    for code in BlackReason.values
                )
                facts.append(
                    Fact(
                        gettext_lazy("Severity weights"),
                        "",
                        gettext_lazy("How much one member's black entry with each reason weighs in the score."),
                        weights,
                    )
                )
            else:
                facts.append(_fact(region, name))
        sections.append((key, title, facts))
    return sections


def form_sections(form: PolicyForm) -> list[tuple[str, Promise, list[forms.BoundField]]]:
    return [
        (key, title, [form[name] for name in names if name != "severity_weights"]) for key, title, names in SECTIONS
    ]


# -- pages ----------------------------------------------------------------------------------------


def _region(request: PortalRequest) -> Region:
    region = request.actor.region
    assert region is not None  # every portal actor belongs to a region
    return region


@portal_view(Perm.STATISTICS_READ, write=Perm.REGION_POLICY_WRITE)
@require_http_methods(["GET", "POST"])
def region_settings(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    region = Region.objects.get(pk=_region(request).pk)  # fresh: the policy may just have changed
    can_edit = actor.can(Perm.REGION_POLICY_WRITE)
    form = PolicyForm(request.POST or None, region=region) if can_edit else None
    if form is not None and request.method == "POST" and form.is_valid():
        changes = form.changes(region)
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("region-settings")
        jobs = recompute_jobs_visible_to(actor)
        last_job = jobs.aggregate(last=Max("pk"))["last"] or 0
        result = call_service(form, region_update_policy, region=region, actor=actor, changes=changes)
        if result is not None:
            _region_after, changed = result
            if changed & CONSENSUS_FIELDS:
                job = jobs.filter(pk__gt=last_job, cause=ConsensusCause.POLICY).order_by("pk").first()
                messages.success(
                    request,
                    _("The policy was saved. The consensus of the whole region is being recomputed with it."),
                )
                if job is not None:
                    return redirect("region-recompute", job_id=job.pk)
            else:
                messages.success(request, _("The policy was saved."))
            return redirect("region-settings")
    keys = list(region_hash_keys(actor))
    recent = list(recompute_jobs_visible_to(actor)[:RECENT_JOBS])
    context = {
        "region": region,
        "form": form,
        "sections": form_sections(form) if form is not None else [],
        "facts": policy_sections(region) if form is None else [],
        "can_edit": can_edit,
        "can_rotate": actor.can(Perm.HASH_KEY_ROTATE),
        "keys": keys,
        "jobs": [(job, _job_status(job)) for job in recent],
        "running": [job for job in recent if job.state in (RecomputeJob.State.QUEUED, RecomputeJob.State.RUNNING)],
    }
    return render(request, "registry/operator/region.html", context)


@portal_view(Perm.HASH_KEY_ROTATE)
@require_http_methods(["GET", "POST"])
def region_hash_key_rotate(request: PortalRequest) -> HttpResponse:
    """GET asks for confirmation; POST makes a new current key (older keys stay readable)."""
    if request.method == "POST":
        key = hash_key_rotate(region=_region(request), actor=request.actor)
        messages.success(request, _("The new hash key %(key_id)s is now current.") % {"key_id": key.key_id})
        return redirect("region-settings")
    current = region_hash_keys(request.actor).filter(is_current=True).first()
    return render(request, "registry/operator/hash_key_rotate.html", {"current": current})


def _job_status(job: RecomputeJob) -> dict[str, Any]:
    """What the progress page and its JSON show of one job (never its error text: it may hold SQL)."""
    finished = job.state in (RecomputeJob.State.SUCCEEDED, RecomputeJob.State.FAILED)
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(JOB_STATE_LABELS.get(job.state, job.state)),
        "finished": finished,
        "chunks_done": job.chunks_done,
        "chunks_total": job.chunks_total,
        "percent": round(100 * job.progress),
        "progress_text": _("%(done)s of %(total)s parts") % {"done": job.chunks_done, "total": job.chunks_total},
        "subjects": job.subjects,
        "changed": job.changed,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@portal_view(Perm.STATISTICS_READ)
@require_GET
def region_recompute(request: PortalRequest, job_id: int) -> HttpResponse:
    job: RecomputeJob = get_object_or_404(recompute_jobs_visible_to(request.actor), pk=job_id)
    status = _job_status(job)
    seconds = None
    if job.started_at and job.finished_at:
        seconds = round((job.finished_at - job.started_at).total_seconds(), 1)
    context = {
        "job": job,
        "status": status,
        "cause": ConsensusCause(job.cause).label if job.cause in ConsensusCause.values else job.cause,
        "seconds": seconds,
        "region": _region(request),
    }
    return render(request, "registry/operator/recompute.html", context)


@portal_view(Perm.STATISTICS_READ)
@require_GET
def region_recompute_status(request: PortalRequest, job_id: int) -> HttpResponse:
    """The job's progress as JSON, for the progress page's script (a portal page, not the API)."""
    job: RecomputeJob = get_object_or_404(recompute_jobs_visible_to(request.actor), pk=job_id)
    return JsonResponse(_job_status(job))
