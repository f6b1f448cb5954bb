"""The operator's dispute pages: every dispute of the region with filters, the arbitration
queue with a decision form per contested item, the members' dispute statistics (with their
trust weights in view), and lifting a relisting block from the subject page.

Reading needs ``dispute.read_all`` (the administrator and the regulator); deciding
``dispute.arbitrate`` and lifting ``relist_block.lift`` (the administrator). Members are
refused (403). Every change is a call to ``registry.services.disputes``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidInput
from lenders.permissions import Perm
from lenders.selectors import members_visible_to
from lenders.views.access import PortalRequest, portal_view
from lenders.views.pagination import page_of
from registry.choices import DisputeState
from registry.selectors.dispute_pages import operator_dispute_list
from registry.selectors.disputes import arbitration_queue, dispute_statistics
from registry.services.disputes import dispute_arbitrate, relist_block_lift
from registry.views.disputes import may_write_disputes, render_detail, safe_next, submit
from registry.views.disputes_forms import DisputeArbitrateForm, OperatorDisputeFilterForm, RelistBlockLiftForm
from registry.views.forms import reason_label


@portal_view(Perm.DISPUTE_READ_ALL)
@require_GET
def operator_dispute_list_view(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    members = list(members_visible_to(actor).order_by("name"))
    filters = OperatorDisputeFilterForm(request.GET or None, members=members)
    if filters.is_bound and not filters.is_valid():
        disputes = operator_dispute_list(actor, {}).none()  # a filter that cannot be read shows nothing
    else:
        disputes = operator_dispute_list(actor, filters.cleaned_data if filters.is_bound else {})
    page, query_string = page_of(request, disputes)
    return render(
        request,
        "registry/member/disputes/list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": query_string,
            "can_file": may_write_disputes(actor),
            "tab": "all",
            "region_view": True,
            "today": timezone.localdate(),
        },
    )


@portal_view(Perm.DISPUTE_READ_ALL)
@require_GET
def arbitration_queue_view(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    assert actor.region is not None
    page, query_string = page_of(request, arbitration_queue(actor.region), per_page=20)
    can_decide = actor.can(Perm.DISPUTE_ARBITRATE)
    disputes = []
    for dispute in page:
        items = [
            (
                item,
                reason_label(item.entry.reason),
                DisputeArbitrateForm(prefix=f"item-{item.pk}") if can_decide else None,
            )
            for item in dispute.awaiting
        ]
        disputes.append((dispute, items))
    return render(
        request,
        "registry/operator/disputes/queue.html",
        {"page": page, "query_string": query_string, "disputes": disputes, "tab": "queue"},
    )


@portal_view(Perm.DISPUTE_READ_ALL, write=Perm.DISPUTE_ARBITRATE)
@require_POST
def dispute_arbitrate_view(request: PortalRequest, dispute_id: int, item_id: int) -> HttpResponse:
    """One contested item decided (``UPHOLD`` or ``REMOVE`` with a reason); the dispute is
    ``ARBITRATED`` once its last item is. A refused form comes back on the dispute's page."""
    form = DisputeArbitrateForm(request.POST, prefix=f"item-{item_id}")
    if form.is_valid():
        decided = submit(
            form,
            dispute_arbitrate,
            actor=request.actor,
            dispute_id=dispute_id,
            decisions=[
                {"item_id": item_id, "decision": form.cleaned_data["decision"], "reason": form.cleaned_data["reason"]}
            ],
        )
        if decided is not None:
            if decided.state == DisputeState.ARBITRATED:
                messages.success(
                    request, _("Dispute #%(id)s is arbitrated: every contested entry is decided.") % {"id": dispute_id}
                )
            else:
                messages.success(request, _("The decision was saved."))
            return redirect(safe_next(request, reverse("dispute-detail", args=[dispute_id])))
    return render_detail(request, dispute_id, arbitration_forms={item_id: form}, status=400)


@portal_view(Perm.DISPUTE_READ_ALL)
@require_GET
def dispute_statistics_view(request: PortalRequest) -> HttpResponse:
    actor = request.actor
    assert actor.region is not None
    return render(
        request,
        "registry/operator/disputes/statistics.html",
        {
            "rows": dispute_statistics(actor.region),
            "can_read_members": actor.can(Perm.MEMBER_READ),
            "can_change_members": actor.can(Perm.MEMBER_WRITE),
            "tab": "statistics",
        },
    )


@portal_view(Perm.RELIST_BLOCK_LIFT)
@require_POST
def relist_block_lift_view(request: PortalRequest) -> HttpResponse:
    form = RelistBlockLiftForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("No block was lifted."), details=form.errors.get_json_data())
    data = form.cleaned_data
    lifted = relist_block_lift(
        actor=request.actor,
        member_id=data["member"],
        id_type=data["id_type"],
        subject_hash=data["subject_hash"],
        key_id=data["key_id"] or None,
    )
    count = int(lifted["lifted"])
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)s relisting block was lifted: the member may list this subject as black again.",
                "%(count)s relisting blocks were lifted: the member may list this subject as black again.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("No relisting block was in force for this member and subject."))
    default = reverse("subject-detail", args=[data["id_type"], lifted["subject_hash"]])
    return redirect(safe_next(request, default))
