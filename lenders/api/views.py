"""API views of the lenders app: thin, each parses input, calls one service or selector."""

from __future__ import annotations

import base64

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.api import schema as _schema  # noqa: F401  (registers the authentication schemes)
from lenders.api.serializers import AuditEventOut, HashKeyOut, MemberOut, MemberPatchIn, RegionOut
from lenders.models import HashKey, Member
from lenders.permissions import Perm
from lenders.selectors import audit_events_visible_to, members_visible_to
from lenders.services.members import member_update
from lenders.services.regions import hash_key_read, policy_summary
from registry_client.hashing import ALGORITHM


def actor_of(request: Request) -> Actor:
    actor = request.auth
    assert isinstance(actor, Actor)
    return actor


class RegionView(APIView):
    @extend_schema(responses=RegionOut, summary="The caller's region: current key_id and policy")
    def get(self, request: Request) -> Response:
        region = actor_of(request).region
        assert region is not None
        keys = list(HashKey.objects.filter(region=region).order_by("-created_at").values_list("key_id", "is_current"))
        return Response(
            {
                "code": region.code,
                "name": region.name,
                "key_id": next(key_id for key_id, current in keys if current),
                "key_ids": [key_id for key_id, _ in keys],
                "policy": policy_summary(region),
            }
        )


class HashKeyView(APIView):
    required_perm = Perm.HASH_KEY_READ

    @extend_schema(
        responses=HashKeyOut,
        parameters=[
            OpenApiParameter("key_id", str, required=False, description="an older key; default the current one")
        ],
        summary="The region's hash key (every fetch is an audit event)",
    )
    def get(self, request: Request) -> Response:
        key, raw = hash_key_read(actor=actor_of(request), key_id=request.query_params.get("key_id") or None)
        response = Response(
            {"key_id": key.key_id, "algorithm": ALGORITHM, "key_b64": base64.b64encode(raw).decode("ascii")}
        )
        response["Cache-Control"] = "no-store"
        return response


class MemberFilter(django_filters.FilterSet):
    class Meta:
        model = Member
        fields = ["status", "excluded_from_consensus"]


class MemberListView(generics.ListAPIView):
    required_perm = Perm.MEMBER_READ
    serializer_class = MemberOut
    filterset_class = MemberFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return Member.objects.none()
        return members_visible_to(actor_of(self.request)).select_related("region")


class MemberDetailView(APIView):
    required_perm = {"GET": Perm.MEMBER_READ, "PATCH": Perm.MEMBER_WRITE}

    def _member(self, request: Request, pk: int) -> Member:
        return get_object_or_404(members_visible_to(actor_of(request)).select_related("region"), pk=pk)

    @extend_schema(responses=MemberOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MemberOut(self._member(request, pk)).data)

    @extend_schema(request=MemberPatchIn, responses=MemberOut, summary="Change trust weight, status or exclusion")
    def patch(self, request: Request, pk: int) -> Response:
        member = self._member(request, pk)
        data = MemberPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_update(member=member, actor=actor_of(request), **data.validated_data)
        return Response(MemberOut(member).data)


class AuditEventFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "member_id", "request_id"]


class AuditEventListView(generics.ListAPIView):
    required_perm = (Perm.AUDIT_READ_ALL, Perm.AUDIT_READ_OWN)
    serializer_class = AuditEventOut
    filterset_class = AuditEventFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return AuditEvent.objects.none()
        return audit_events_visible_to(actor_of(self.request))
