"""The member's uploads: send a file, follow its job, read its error report, and confirm or
cancel a snapshot stopped by the guard (``portal.md``, ``csv.md``, ``docs/uploads.md``).

Reading needs ``upload.read`` (a viewer too), sending and cancelling ``upload``, confirming
``upload.confirm`` (a member administrator). Every upload comes through the selectors of
``registry.uploads.selectors``: another member's upload is not found (404). Sending, confirming
and cancelling call the very services of the API (``registry.uploads.services``).

The send form streams its file to disk through the API's ``UploadStreamHandler``, bounded by
the region's ``upload_max_bytes``. The handler has to be installed before anything reads the
body, so the send view is exempt from the CSRF middleware and checks the token itself, once the
body has been read (``docs/uploads.md``, "For a portal form that sends a file").

A page whose upload is still moving follows it: ``static/registry/uploads.js`` asks the
upload's status (``upload_status``, JSON) every two seconds; without JavaScript the detail page
reloads itself every five seconds.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.request import Request

from core.errors import InsufficientStorage, InvalidInput, PayloadTooLarge
from lenders.actors import Actor
from lenders.api.throttling import RegionRateThrottle
from lenders.models import Region
from lenders.permissions import Perm
from lenders.views.access import PortalRequest, call_service, portal_view
from lenders.views.pagination import page_of
from registry.choices import UPLOAD_TERMINAL_STATES, ErrorPolicy, UploadMode, UploadState
from registry.models import Upload
from registry.uploads.receiving import install_upload_handler
from registry.uploads.report import error_report_lines
from registry.uploads.selectors import upload_errors, upload_of, uploads_visible_to
from registry.uploads.services import upload_cancel, upload_confirm, upload_receive

# How many errors the detail page shows; the CSV report has them all.
ERRORS_SHOWN = 50
# The states in which an upload still moves on its own: its pages follow it.
LIVE_STATES = frozenset({UploadState.RECEIVED, UploadState.QUEUED, UploadState.VALIDATING, UploadState.APPLYING})
CANCELLABLE_STATES = frozenset({UploadState.QUEUED, UploadState.NEEDS_CONFIRMATION})
COUNTS = ("created", "updated", "unchanged", "withdrawn", "invalid")


# -- how a state and the progress look ---------------------------------------------------------


@dataclass(frozen=True)
class StateLook:
    """A state as a badge: a colour, a symbol and a word (never the colour alone)."""

    css: str
    symbol: str
    label: str


_LOOKS: dict[str, tuple[str, str]] = {
    UploadState.RECEIVED: ("badge-muted", "○"),
    UploadState.QUEUED: ("badge-muted", "○"),
    UploadState.VALIDATING: ("badge-warn", "▶"),
    UploadState.APPLYING: ("badge-warn", "▶"),
    UploadState.NEEDS_CONFIRMATION: ("badge-warn", "▲"),
    UploadState.SUCCEEDED: ("badge-ok", "●"),
    UploadState.REJECTED: ("badge-danger", "✕"),
    UploadState.CANCELLED: ("badge-muted", "⊘"),
    UploadState.FAILED: ("badge-danger", "■"),
}


def state_look(state: str) -> StateLook:
    css, symbol = _LOOKS.get(state, ("badge-muted", "○"))
    label = UploadState(state).label if state in UploadState.values else state
    return StateLook(css=css, symbol=symbol, label=str(label))


@dataclass(frozen=True)
class Bar:
    """The ``<progress>`` bar of an upload: rows checked of the file's rows once they are known,
    before that the bytes read of the file's size; ``value`` None while it waits (an
    indeterminate bar)."""

    max: int
    value: int | None
    text: str

    @property
    def percent(self) -> int | None:
        if self.value is None:
            return None
        return round(100 * min(self.value, self.max) / self.max) if self.max else 0


def _rows_text(done: int, total: int) -> str:
    return ngettext("%(done)s of %(total)s row", "%(done)s of %(total)s rows", total) % {
        "done": f"{done:,}",
        "total": f"{total:,}",
    }


def progress_bar(upload: Upload) -> Bar:
    state, total, done = upload.state, upload.rows_total, upload.rows_processed
    if state in (UploadState.RECEIVED, UploadState.QUEUED):
        return Bar(max=1, value=None, text=_("Waiting to be processed."))
    if state == UploadState.VALIDATING and total is None:
        # The number of rows is known once the file has been read; until then, the bytes read.
        size = max(upload.size, 1)
        read = min(upload.bytes_read, size)
        text = ngettext(
            "%(rows)s row checked (%(percent)s%% of the file read).",
            "%(rows)s rows checked (%(percent)s%% of the file read).",
            done,
        ) % {"rows": f"{done:,}", "percent": round(100 * read / size)}
        return Bar(max=size, value=read, text=text)
    if total is None or total == 0:
        full = state == UploadState.SUCCEEDED
        return Bar(max=1, value=1 if full else 0, text=_rows_text(done, total or 0))
    text = _rows_text(min(done, total), total)
    if state == UploadState.APPLYING:
        text = _("%(rows)s checked; applying them.") % {"rows": text}
    elif state == UploadState.NEEDS_CONFIRMATION:
        text = _("%(rows)s checked; waiting for a confirmation.") % {"rows": text}
    return Bar(max=total, value=min(done, total), text=text)


def upload_status(upload: Upload) -> dict[str, Any]:
    """What the pages show of an upload's progress, and the JSON their script asks for."""
    look = state_look(upload.state)
    bar = progress_bar(upload)
    return {
        "id": upload.pk,
        "state": upload.state,
        "state_label": look.label,
        "badge": look.css,
        "symbol": look.symbol,
        "live": upload.state in LIVE_STATES,
        "terminal": upload.state in UPLOAD_TERMINAL_STATES,
        "cancellable": upload.state in CANCELLABLE_STATES,
        "rows_total": upload.rows_total,
        "rows_processed": upload.rows_processed,
        "bar_max": bar.max,
        "bar_value": bar.value,
        "percent": bar.percent,
        "progress_text": bar.text,
        **{name: getattr(upload, name) for name in COUNTS},
    }


@dataclass(frozen=True)
class UploadRow:
    upload: Upload
    status: dict[str, Any]
    look: StateLook
    bar: Bar


def _row(upload: Upload) -> UploadRow:
    return UploadRow(
        upload=upload, status=upload_status(upload), look=state_look(upload.state), bar=progress_bar(upload)
    )


# -- the send form ------------------------------------------------------------------------------

ENCODING_CHOICES = [
    ("", gettext_lazy("Detect it (UTF-8 or GB18030/GBK)")),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", gettext_lazy("UTF-8 with a byte-order mark")),
    ("gb18030", "GB18030"),
    ("gbk", "GBK"),
]


class UploadForm(forms.Form):
    """Collects what ``upload_receive`` takes; the service decides (the API's rules)."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        allow_empty_file=True,  # an empty file is the job's to refuse, with its error report
        error_messages={"required": gettext_lazy("Choose the file to send.")},
        widget=forms.FileInput(attrs={"accept": ".csv,.gz,text/csv,application/gzip"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Mode"),
        choices=UploadMode.choices,
        initial=UploadMode.DELTA,
        required=False,  # left out: the service's default, as in the API
        widget=forms.RadioSelect,
    )
    error_policy = forms.ChoiceField(
        label=gettext_lazy("If some rows are invalid"),
        choices=ErrorPolicy.choices,
        initial=ErrorPolicy.REJECT_FILE,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Either way you get an error report listing every invalid row with its line number. "
            "Refusing the whole file is the safe choice: correct the file and send it again."
        ),
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("Encoding (optional)"),
        choices=ENCODING_CHOICES,
        required=False,
        help_text=gettext_lazy(
            "Leave it to be detected unless the file's Chinese text comes out wrong; spreadsheet programs on "
            "Chinese desktops usually save GB18030/GBK."
        ),
    )

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = int(region.upload_max_bytes)
        file_field = self.fields["file"]
        file_field.help_text = _(
            "A CSV file with a header row (id_type, subject_hash, list, reason, event_date, and optionally "
            "expires_on, reference, action), optionally gzip-compressed (.csv.gz); at most %(size)s."
        ) % {"size": _size_text(limit)}
        file_field.widget.attrs["data-max-bytes"] = str(limit)
        file_field.widget.attrs["data-too-large"] = _too_large_message(limit)
        percent = f"{float(region.snapshot_max_withdraw_ratio) * 100:g}"
        self.fields["mode"].help_text = _(
            "Delta, the usual nightly file: each row adds, changes or withdraws one of your entries, and your "
            "entries that are not in the file stay as they are. Snapshot: the file is your complete current "
            "list, and every active entry of yours that is not in it is withdrawn. A snapshot that would "
            "withdraw more than %(percent)s%% of your active entries changes nothing and waits until a member "
            "administrator confirms it."
        ) % {"percent": percent}


def _size_text(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return ngettext("%(n)s byte", "%(n)s bytes", size) % {"n": size}


def _too_large_message(limit: int) -> str:
    return _("The file is larger than this region's upload limit of %(size)s; it was not sent.") % {
        "size": _size_text(limit)
    }


def _receive(**kwargs: Any) -> tuple[Upload, bool]:
    """``upload_receive``, its size and disk-full refusals (413, 507 in the API) as an error of
    the form's file."""
    try:
        return upload_receive(**kwargs)
    except (PayloadTooLarge, InsufficientStorage) as exc:
        raise InvalidInput(str(exc.detail), details={"file": [str(exc.detail)]}) from exc


class _SendingView:
    throttle_scope = "upload"


def _over_upload_rate(actor: Actor) -> bool:
    """The region's ``upload_rate_per_hour``, counted together with the same person's sends
    through the API (one counter per person, the API's throttle)."""
    asking = cast(Request, SimpleNamespace(auth=actor, method="POST"))
    return not RegionRateThrottle().allow_request(asking, _SendingView())


# -- pages --------------------------------------------------------------------------------------


def _list_page(request: PortalRequest, form: UploadForm | None, *, status: int = 200) -> HttpResponse:
    page, query_string = page_of(request, uploads_visible_to(request.actor).order_by("-created_at", "-id"))
    rows = [_row(upload) for upload in page]
    return render(
        request,
        "registry/member/uploads/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query_string": query_string,
            "any_live": any(row.status["live"] for row in rows),
        },
        status=status,
    )


def _send_form(request: PortalRequest, data: Any = None, files: Any = None) -> UploadForm | None:
    if not request.actor.can(Perm.UPLOAD) or request.actor.region is None:
        return None
    return UploadForm(data, files, region=request.actor.region)


@csrf_exempt  # the handler must be in place before the CSRF check reads the body: checked in _send
@portal_view(Perm.UPLOAD_READ, write=Perm.UPLOAD)
@require_http_methods(["GET", "POST"])
def upload_list(request: PortalRequest) -> HttpResponse:
    """The member's uploads, newest first, and the form that sends a file (POST)."""
    if request.method == "POST":
        return _send(request)
    return _list_page(request, _send_form(request))


def _refused(request: PortalRequest, message: str, *, field: str | None, status: int) -> HttpResponse:
    """The page with an empty form carrying a refusal decided before the form could be read."""
    form = _send_form(request)
    assert form is not None
    form.cleaned_data = {}  # an unbound form takes errors once it has (empty) cleaned data
    form.add_error(field, message)
    return _list_page(request, form, status=status)


def _send(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    if _over_upload_rate(actor):
        message = _("You have sent the most files this region allows in one hour; try again later.")
        return _refused(request, message, field=None, status=429)
    install_upload_handler(request, region=lambda: actor.region)
    try:
        request.POST  # noqa: B018 (reading the body streams the file to disk, within the region's limit)
    except PayloadTooLarge:
        # Nothing was stored and nothing changes, so answering without the CSRF check is safe.
        limit = actor.region.upload_max_bytes if actor.region is not None else 0
        return _refused(request, _too_large_message(int(limit)), field="file", status=413)
    except InsufficientStorage as exc:
        return _refused(request, str(exc.detail), field="file", status=507)
    except MultiPartParserError:
        return _refused(
            request, _("The form could not be read; choose the file and send it again."), field=None, status=400
        )
    return _send_checked(request)


@csrf_protect
def _send_checked(request: PortalRequest) -> HttpResponse:
    form = _send_form(request, request.POST, request.FILES)
    assert form is not None
    if form.is_valid():
        data = form.cleaned_data
        received = call_service(
            form,
            _receive,
            actor=request.actor,
            file=data["file"],
            mode=data["mode"] or None,
            error_policy=data["error_policy"] or None,
            encoding=data["encoding"] or None,
        )
        if received is not None:
            upload, created = received
            if created:
                messages.success(
                    request,
                    _("The file was received as upload %(id)s. It is checked and applied in the background.")
                    % {"id": upload.pk},
                )
            else:
                messages.info(
                    request,
                    _("This file was already sent with the same options, as upload %(id)s; it was not sent again.")
                    % {"id": upload.pk},
                )
            return redirect("upload-detail", upload_id=upload.pk)
    return _list_page(request, form)


def _took(start: datetime.datetime | None, end: datetime.datetime | None) -> str:
    """How long from ``start`` to ``end``, in words ("" when either is not known yet)."""
    if not (start and end):
        return ""
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 10:
        return _("%(seconds)s s") % {"seconds": f"{seconds:.2f}"}
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": f"{seconds:.1f}"}
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}


@dataclass(frozen=True)
class Phase:
    label: str
    started: datetime.datetime | None
    took: str


def _phases(upload: Upload) -> list[Phase]:
    """When each phase began and how long it took (the API's ``timings``)."""
    return [
        Phase(_("Received"), upload.created_at, _took(upload.created_at, upload.queued_at)),
        Phase(_("Waiting for a worker"), upload.queued_at, _took(upload.queued_at, upload.validating_at)),
        Phase(
            _("Checking the rows"),
            upload.validating_at,
            _took(upload.validating_at, upload.applying_at or upload.finished_at),
        ),
        Phase(_("Applying"), upload.applying_at, _took(upload.applying_at, upload.finished_at)),
        Phase(_("Finished"), upload.finished_at, _took(upload.created_at, upload.finished_at)),
    ]


@portal_view(Perm.UPLOAD_READ)
@require_GET
def upload_detail(request: PortalRequest, upload_id: int) -> HttpResponse:
    upload = upload_of(request.actor, upload_id)
    errors = upload_errors(upload)
    actor = request.actor
    waiting = upload.state == UploadState.NEEDS_CONFIRMATION
    return render(
        request,
        "registry/member/uploads/detail.html",
        {
            "upload": upload,
            "status": upload_status(upload),
            "look": state_look(upload.state),
            "bar": progress_bar(upload),
            "counts": [(name, getattr(upload, name)) for name in COUNTS],
            "phases": _phases(upload),
            "errors": list(errors[:ERRORS_SHOWN]),
            "error_count": errors.count(),
            "errors_shown": ERRORS_SHOWN,
            "can_confirm": waiting and actor.can(Perm.UPLOAD_CONFIRM),
            "can_cancel": upload.state in CANCELLABLE_STATES and actor.can(Perm.UPLOAD),
        },
    )


@portal_view(Perm.UPLOAD_READ)
@require_GET
def upload_status_json(request: PortalRequest, upload_id: int) -> HttpResponse:
    """The upload's progress as JSON, for the pages' script (a portal page, not the API)."""
    return JsonResponse(upload_status(upload_of(request.actor, upload_id)))


@portal_view(Perm.UPLOAD_READ)
@require_GET
def upload_errors_csv(request: PortalRequest, upload_id: int) -> HttpResponse:
    """The error report as CSV: the API's report (``registry.uploads.report``), streamed."""
    upload = upload_of(request.actor, upload_id)
    response = StreamingHttpResponse(
        error_report_lines(upload_errors(upload).iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-errors.csv"'
    # portal_view is typed for HttpResponse; it handles a streaming response alike (no-cache headers only).
    return cast(HttpResponse, response)


def _decide(request: PortalRequest, service: Any, upload_id: int, done: str) -> HttpResponse:
    """Confirm or cancel through the service; a refusal (the state moved on) becomes a message."""
    form = forms.Form(request.POST)
    if call_service(form, service, actor=request.actor, upload_id=upload_id) is not None:
        messages.success(request, done)
    else:
        for error in form.non_field_errors():
            messages.error(request, str(error))
    return redirect("upload-detail", upload_id=upload_id)


@portal_view(Perm.UPLOAD_READ, write=Perm.UPLOAD_CONFIRM)
@require_POST
def upload_confirm_view(request: PortalRequest, upload_id: int) -> HttpResponse:
    done = _("The snapshot was confirmed; it is applied in the background, withdrawals included.")
    return _decide(request, upload_confirm, upload_id, done)


@portal_view(Perm.UPLOAD_READ, write=Perm.UPLOAD)
@require_POST
def upload_cancel_view(request: PortalRequest, upload_id: int) -> HttpResponse:
    return _decide(request, upload_cancel, upload_id, _("The upload was cancelled; nothing of it was applied."))
