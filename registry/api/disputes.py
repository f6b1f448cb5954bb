"""The disputes API (``api.md``, ``disputes.md``): file, list and read disputes, answer an
item, escalate, add and fetch evidence, arbitrate. Thin views over ``registry.services.disputes``
and ``registry.selectors.disputes``; what a caller may see is decided there."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from core.serializers import StrictInputSerializer
from lenders.api.views import actor_of
from lenders.permissions import Perm
from registry.choices import (
    ArbitrationDecision,
    DisputeDecision,
    DisputeGrounds,
    DisputeItemState,
    DisputeState,
    IdType,
)
from registry.models import Dispute, DisputeEvidence, DisputeItem
from registry.selectors.disputes import (
    DisputeView,
    dispute_for,
    dispute_views,
    disputes_filed_by,
    disputes_received_by,
    disputes_visible_to,
    evidence_for,
    with_details,
)
from registry.services.disputes import (
    dispute_arbitrate,
    dispute_escalate,
    dispute_evidence_add,
    dispute_file,
    dispute_item_respond,
)
from registry.services.evidence_files import ALLOWED_TYPES, MAX_EVIDENCE_BYTES, EvidenceTooLarge

_READ = (Perm.DISPUTE_READ, Perm.DISPUTE_READ_ALL)
# Filing and evidence: a member's dispute staff or key, or the operator's administrator.
_WRITE = (Perm.DISPUTE_WRITE, Perm.DISPUTE_ARBITRATE)
# Room for the multipart envelope around a file of the largest size.
_MULTIPART_SLACK = 64 * 1024

# -- shapes ---------------------------------------------------------------------------------------


class DisputeFileIn(StrictInputSerializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    subject_hash = serializers.CharField(help_text="64 hex characters")
    key_id = serializers.CharField(required=False, allow_blank=True, help_text="default: the current key")
    grounds = serializers.ChoiceField(choices=DisputeGrounds.choices)
    statement = serializers.CharField(max_length=4000, trim_whitespace=False)
    consent_reference = serializers.CharField(required=False, allow_blank=True, max_length=64)


class CorrectedIn(StrictInputSerializer):
    reason = serializers.CharField(required=False)
    event_date = serializers.CharField(required=False, help_text="YYYY-MM-DD")
    expires_on = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="YYYY-MM-DD")


class RespondIn(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=DisputeDecision.choices)
    note = serializers.CharField(max_length=2000, trim_whitespace=False)
    corrected = CorrectedIn(required=False, allow_null=True, help_text="CORRECT only")


class EscalateIn(StrictInputSerializer):
    reason = serializers.CharField(max_length=4000, trim_whitespace=False)


class ArbitrationDecisionIn(StrictInputSerializer):
    item_id = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=ArbitrationDecision.choices)
    reason = serializers.CharField(max_length=2000, trim_whitespace=False)


class ArbitrateIn(StrictInputSerializer):
    items = ArbitrationDecisionIn(many=True, allow_empty=False)


class EvidenceIn(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, JPEG or PNG, at most 10 MiB (checked by content)")


class EvidenceOut(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField(help_text="download it with the same credentials")

    class Meta:
        model = DisputeEvidence
        fields = ["id", "party", "name", "content_type", "size", "sha256", "created_at", "url"]

    def get_url(self, evidence: DisputeEvidence) -> str:
        return reverse("api-dispute-evidence-file", kwargs={"pk": evidence.dispute_id, "evidence_id": evidence.pk})


class RespondentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ItemEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    list = serializers.CharField()
    reason = serializers.CharField()
    event_date = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)
    state = serializers.CharField()


class DisputeItemOut(serializers.Serializer):
    """An item as the caller may see it: the filer never learns the respondent (``null``) nor
    its entry; a respondent sees only its own items."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=DisputeItemState.choices)
    deadline = serializers.DateField()
    days_left = serializers.IntegerField(allow_null=True, help_text="while the item is open; 0 on the deadline day")
    decision = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    corrected = serializers.DictField(allow_null=True, help_text="{field: [before, after]}")
    answered_at = serializers.DateTimeField(allow_null=True)
    arbitration_decision = serializers.CharField(allow_blank=True)
    arbitration_reason = serializers.CharField(allow_blank=True)
    arbitrated_at = serializers.DateTimeField(allow_null=True)
    addressed_to_you = serializers.BooleanField()
    respondent = RespondentOut(allow_null=True)
    entry = ItemEntryOut(allow_null=True)


class FilerOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["member", "operator"])
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)


class DisputeOut(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=DisputeState.choices)
    role = serializers.ChoiceField(choices=["filer", "respondent", "operator"])
    id_type = serializers.ChoiceField(choices=IdType.choices)
    subject_hash = serializers.CharField()
    key_id = serializers.CharField()
    grounds = serializers.ChoiceField(choices=DisputeGrounds.choices)
    statement = serializers.CharField()
    consent_reference = serializers.CharField(allow_blank=True)
    filer = FilerOut()
    filed_on = serializers.DateField()
    resolved_on = serializers.DateField(allow_null=True)
    escalation_ends_on = serializers.DateField(allow_null=True)
    escalated_on = serializers.DateField(allow_null=True)
    escalation_reason = serializers.CharField(allow_blank=True)
    arbitrated_on = serializers.DateField(allow_null=True)
    items = DisputeItemOut(many=True)
    evidence = EvidenceOut(many=True)
    can_escalate = serializers.BooleanField()
    answerable_items = serializers.ListField(child=serializers.IntegerField())
    can_arbitrate = serializers.BooleanField()


class DisputePageOut(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DisputeOut(many=True)


def _item(view: DisputeView, item: DisputeItem, member_id: int | None) -> dict[str, Any]:
    own = member_id is not None and item.respondent_id == member_id
    entry = item.entry
    return {
        "id": item.pk,
        "state": item.state,
        "deadline": item.deadline,
        "days_left": item.days_left() if item.state == DisputeItemState.OPEN else None,
        "decision": item.decision,
        "note": item.note,
        "corrected": item.corrected,
        "answered_at": item.answered_at,
        "arbitration_decision": item.arbitration_decision,
        "arbitration_reason": item.arbitration_reason,
        "arbitrated_at": item.arbitrated_at,
        "addressed_to_you": own,
        "respondent": {"id": item.respondent.pk, "name": item.respondent.name} if view.shows_respondents else None,
        "entry": (
            {
                "id": entry.pk,
                "list": entry.list,
                "reason": entry.reason,
                "event_date": entry.event_date,
                "expires_on": entry.expires_on,
                "state": entry.state,
            }
            if own or view.shows_respondents
            else None
        ),
    }


def dispute_body(view: DisputeView, member_id: int | None) -> dict[str, Any]:
    dispute = view.dispute
    if dispute.filer_member_id is not None:
        known = view.role in ("operator", "filer")
        filer = {
            "kind": "member",
            "id": dispute.filer_member_id if known else None,
            "name": dispute.filer_member.name if known and dispute.filer_member else None,
        }
    else:
        filer = {
            "kind": "operator",
            "id": None,
            "name": dispute.filer_operator.name if dispute.filer_operator else None,
        }
    body = {
        "id": dispute.pk,
        "state": dispute.state,
        "role": view.role,
        "id_type": dispute.id_type,
        "subject_hash": dispute.subject_hash_hex,
        "key_id": dispute.hash_key.key_id,
        "grounds": dispute.grounds,
        "statement": dispute.statement,
        "consent_reference": dispute.consent_reference,
        "filer": filer,
        "filed_on": dispute.filed_on,
        "resolved_on": dispute.resolved_on,
        "escalation_ends_on": view.escalation_ends_on,
        "escalated_on": dispute.escalated_on,
        "escalation_reason": dispute.escalation_reason,
        "arbitrated_on": dispute.arbitrated_on,
        "items": [_item(view, item, member_id) for item in view.items],
        "evidence": view.evidence,
        "can_escalate": view.can_escalate,
        "answerable_items": view.answerable,
        "can_arbitrate": view.can_arbitrate,
    }
    return dict(DisputeOut(body).data)


def _detail(request: Request, dispute_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    actor = actor_of(request)
    return Response(dispute_body(dispute_for(actor, dispute_id), actor.member_id), status=status_code)


# -- views ----------------------------------------------------------------------------------------


class DisputeListView(generics.GenericAPIView):
    required_perm = {"GET": _READ, "POST": _WRITE}
    serializer_class = DisputeFileIn  # what OPTIONS describes; answers are built by dispute_body

    def get_queryset(self) -> QuerySet[Dispute]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return Dispute.objects.none()
        actor = actor_of(self.request)
        role = self.request.query_params.get("role")
        if role == "filed":
            disputes = disputes_filed_by(actor)
        elif role == "received":
            disputes = disputes_received_by(actor)
        elif role:
            raise InvalidInput(_("Invalid filter."), details={"role": [_("role is filed or received.")]})
        else:
            disputes = disputes_visible_to(actor)
        state = self.request.query_params.get("state")
        if state:
            if state not in DisputeState.values:
                raise InvalidInput(
                    _("Invalid filter."),
                    details={"state": [_("state is one of %(s)s.") % {"s": ", ".join(DisputeState.values)}]},
                )
            disputes = disputes.filter(state=state)
        return with_details(disputes.select_related("filer_member", "filer_operator"))

    @extend_schema(
        parameters=[
            OpenApiParameter("role", str, required=False, enum=["filed", "received"]),
            OpenApiParameter("state", str, required=False, enum=DisputeState.values),
        ],
        responses=DisputePageOut,
        operation_id="disputes_list",
        summary="Disputes the caller filed or received (the operator: all of the region)",
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response([dispute_body(v, actor.member_id) for v in dispute_views(actor, page)])

    @extend_schema(
        request=DisputeFileIn,
        responses={201: DisputeOut},
        summary="File a dispute about a subject's counted BLACK entries (409 dispute_open when one is open)",
    )
    def post(self, request: Request) -> Response:
        data = DisputeFileIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dispute = dispute_file(
            actor=actor_of(request),
            id_type=values["id_type"],
            subject_hash=values["subject_hash"],
            key_id=values.get("key_id") or None,
            grounds=values["grounds"],
            statement=values["statement"],
            consent_reference=values.get("consent_reference", ""),
        )
        return _detail(request, dispute.pk, status_code=status.HTTP_201_CREATED)


class DisputeDetailView(APIView):
    required_perm = _READ

    @extend_schema(
        responses=DisputeOut, operation_id="disputes_retrieve", summary="One dispute as the caller may see it"
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class DisputeRespondView(APIView):
    required_perm = Perm.DISPUTE_WRITE

    @extend_schema(request=RespondIn, responses=DisputeOut, summary="Answer an item addressed to the caller's member")
    def post(self, request: Request, pk: int, item_id: int) -> Response:
        data = RespondIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dispute_item_respond(
            actor=actor_of(request),
            dispute_id=pk,
            item_id=item_id,
            decision=values["decision"],
            note=values["note"],
            corrected=values.get("corrected"),
        )
        return _detail(request, pk)


class DisputeEscalateView(APIView):
    required_perm = _WRITE

    @extend_schema(request=EscalateIn, responses=DisputeOut, summary="Escalate a resolved dispute to the operator")
    def post(self, request: Request, pk: int) -> Response:
        data = EscalateIn(data=request.data)
        data.is_valid(raise_exception=True)
        dispute_escalate(actor=actor_of(request), dispute_id=pk, reason=data.validated_data["reason"])
        return _detail(request, pk)


class DisputeArbitrateView(APIView):
    required_perm = Perm.DISPUTE_ARBITRATE

    @extend_schema(request=ArbitrateIn, responses=DisputeOut, summary="Decide escalated items (operator)")
    def post(self, request: Request, pk: int) -> Response:
        data = ArbitrateIn(data=request.data)
        data.is_valid(raise_exception=True)
        decisions = [dict(item) for item in data.validated_data["items"]]
        dispute_arbitrate(actor=actor_of(request), dispute_id=pk, decisions=decisions)
        return _detail(request, pk)


class DisputeEvidenceView(APIView):
    required_perm = _WRITE
    parser_classes = [MultiPartParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Refused before the body is read when it cannot hold a file of the allowed size.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_EVIDENCE_BYTES + _MULTIPART_SLACK:
            request._evidence_too_large = True  # type: ignore[attr-defined]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": EvidenceIn},
        responses={201: EvidenceOut},
        summary="Add an evidence file (PDF, JPEG or PNG, at most 10 MiB, checked by content)",
    )
    def post(self, request: Request, pk: int) -> Response:
        if getattr(request._request, "_evidence_too_large", False):
            raise EvidenceTooLarge(_("An evidence file may be at most 10 MiB."))
        data: Any = request.data
        unknown = sorted(set(data.keys()) - {"file"})
        if unknown:
            raise InvalidInput(
                _("Unknown fields."), details={name: [_("Unknown field; allowed: file.")] for name in unknown}
            )
        evidence = dispute_evidence_add(actor=actor_of(request), dispute_id=pk, file=request.FILES.get("file"))
        return Response(EvidenceOut(evidence).data, status=status.HTTP_201_CREATED)


class DisputeEvidenceFileView(APIView):
    required_perm = _READ

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        # The file is sent as it is whatever the Accept header says; errors about it are JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="the file, for the parties and the operator only"
            )
            for media_type in ALLOWED_TYPES
        },
        summary="Download an evidence file",
    )
    def get(self, request: Request, pk: int, evidence_id: int) -> FileResponse:
        evidence = evidence_for(actor_of(request), evidence_id, dispute_id=pk)
        response = FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.original_name,
            content_type=evidence.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
