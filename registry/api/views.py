"""API views of the registry: thin, each parses input and calls one service or selector."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from lenders.api.views import actor_of
from lenders.permissions import Perm
from registry.api.serializers import (
    EntryIn,
    EntryOut,
    EntrySubmitOut,
    HistoryOut,
    LookupBatchIn,
    LookupBatchOut,
    LookupRecordOut,
    LookupResultOut,
    SubjectHistoryOut,
    WithdrawIn,
)
from registry.choices import EntryState, IdType, ListKind
from registry.models import Entry
from registry.selectors.entries import entries_visible_to
from registry.selectors.subjects import subject_for_operator
from registry.services.entries import entry_submit, entry_withdraw
from registry.services.entry_rules import parse_subject_hash
from registry.services.lookups import lookup_batch, lookup_subject


class EntryFilter(django_filters.FilterSet):
    subject_hash = django_filters.CharFilter(method="filter_subject_hash", help_text="64 hex characters")
    id_type = django_filters.ChoiceFilter(choices=IdType.choices)
    list = django_filters.ChoiceFilter(choices=ListKind.choices)
    reason = django_filters.CharFilter()
    state = django_filters.ChoiceFilter(choices=EntryState.choices)

    class Meta:
        model = Entry
        fields = ["subject_hash", "id_type", "list", "reason", "state"]

    def filter_subject_hash(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        parsed = parse_subject_hash(value)
        if parsed is None:
            raise InvalidInput(
                "Invalid filter.", details={"subject_hash": ["subject_hash must be 64 hexadecimal characters"]}
            )
        return queryset.filter(subject_hash=parsed)


class EntryListView(generics.ListAPIView):
    required_perm = {"GET": Perm.ENTRY_READ, "POST": Perm.ENTRY_WRITE}
    serializer_class = EntryOut
    filterset_class = EntryFilter

    def get_queryset(self) -> QuerySet[Entry]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return Entry.objects.none()
        return entries_visible_to(actor_of(self.request))

    @extend_schema(
        request=EntryIn, responses={200: EntrySubmitOut, 201: EntrySubmitOut}, summary="Upsert or withdraw one entry"
    )
    def post(self, request: Request) -> Response:
        data = EntryIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        key_id = values.pop("key_id", None) or None
        outcome = entry_submit(actor=actor_of(request), data=values, key_id=key_id)
        body = {"result": outcome.result, "entry": EntryOut(outcome.entry).data if outcome.entry else None}
        return Response(body, status=status.HTTP_201_CREATED if outcome.result == "created" else status.HTTP_200_OK)


class EntryDetailView(generics.RetrieveAPIView):
    required_perm = Perm.ENTRY_READ
    serializer_class = EntryOut

    def get_queryset(self) -> QuerySet[Entry]:
        if getattr(self, "swagger_fake_view", False):
            return Entry.objects.none()
        return entries_visible_to(actor_of(self.request))


class EntryWithdrawView(APIView):
    required_perm = Perm.ENTRY_WRITE

    @extend_schema(request=WithdrawIn, responses=EntryOut, summary="Withdraw one of the member's entries")
    def post(self, request: Request, pk: int) -> Response:
        data = WithdrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = entry_withdraw(actor=actor_of(request), entry_id=pk, note=data.validated_data.get("note", ""))
        return Response(EntryOut(entry).data)


_LOOKUP_PARAMETERS = [
    OpenApiParameter("purpose", str, required=True, enum=["UNDERWRITING", "POST_LOAN", "DISPUTE_CHECK"]),
    OpenApiParameter("consent_reference", str, required=False),
    OpenApiParameter("key_id", str, required=False),
]


class LookupView(APIView):
    required_perm = Perm.LOOKUP
    throttle_scope = "lookup"

    @extend_schema(parameters=_LOOKUP_PARAMETERS, responses=LookupResultOut, summary="Look one subject up")
    def get(self, request: Request, id_type: str, subject_hash: str) -> Response:
        query = request.query_params
        result = lookup_subject(
            actor=actor_of(request),
            id_type=id_type,
            subject_hash=subject_hash,
            purpose=query.get("purpose"),
            consent_reference=query.get("consent_reference"),
            key_id=query.get("key_id"),
        )
        return Response(result)


class LookupBatchView(APIView):
    required_perm = Perm.LOOKUP
    throttle_scope = "lookup"

    @extend_schema(request=LookupBatchIn, responses=LookupBatchOut, summary="Look up to 10,000 subjects up")
    def post(self, request: Request) -> Response:
        data: Any = request.data
        if not isinstance(data, dict):
            raise InvalidInput("The body must be a JSON object.", details={"non_field_errors": ["expected an object"]})
        unknown = sorted(set(data) - {"purpose", "consent_reference", "key_id", "subjects"})
        if unknown:
            raise InvalidInput("Unknown fields.", details={name: ["Unknown field."] for name in unknown})
        result = lookup_batch(
            actor=actor_of(request),
            subjects=data.get("subjects"),
            purpose=data.get("purpose"),
            consent_reference=data.get("consent_reference"),
            key_id=data.get("key_id"),
        )
        return Response(result)


class SubjectHistoryView(APIView):
    required_perm = Perm.SUBJECT_HISTORY_READ

    @extend_schema(
        parameters=[OpenApiParameter("key_id", str, required=False)],
        responses=SubjectHistoryOut,
        summary="A subject's consensus history and who looked it up (operator)",
    )
    def get(self, request: Request, id_type: str, subject_hash: str) -> Response:
        view = subject_for_operator(
            actor=actor_of(request),
            id_type=id_type,
            subject_hash=subject_hash,
            key_id=request.query_params.get("key_id"),
        )
        history = view.history[:500]
        lookups = view.lookups[:500]
        return Response(
            {
                "id_type": view.id_type,
                "subject_hash": view.subject_hash.hex(),
                "key_id": view.hash_key.key_id,
                "status": view.consensus.status if view.consensus else "CLEAR",
                "history": HistoryOut(history, many=True).data,
                "lookups": LookupRecordOut(lookups, many=True).data,
            }
        )
