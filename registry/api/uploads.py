"""The uploads API (``api.md``): send a file, list and read uploads, download the error report,
confirm or cancel a snapshot stopped by the guard. Thin views over ``registry.uploads``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.api.views import actor_of
from lenders.models import Region
from lenders.permissions import Perm
from registry.choices import ErrorPolicy, UploadMode, UploadState
from registry.models import Upload
from registry.uploads.receiving import FILE_FIELD, install_upload_handler
from registry.uploads.report import error_report_lines
from registry.uploads.selectors import upload_errors, upload_for_idempotency_key, upload_of, uploads_visible_to
from registry.uploads.services import clean_idempotency_key, upload_cancel, upload_confirm, upload_receive

_FORM_FIELDS = {"mode", "error_policy", "key_id", "encoding"}


# -- shapes ---------------------------------------------------------------------------------------


class UploadIn(serializers.Serializer):
    """The multipart form of ``POST uploads`` (for the schema; the service checks the values)."""

    file = serializers.FileField(help_text="the CSV file, optionally gzip-compressed")
    mode = serializers.ChoiceField(choices=UploadMode.choices, required=False, default=UploadMode.DELTA)
    error_policy = serializers.ChoiceField(choices=ErrorPolicy.choices, required=False, default=ErrorPolicy.REJECT_FILE)
    key_id = serializers.CharField(required=False, help_text="the hash key of the file; default the current one")
    encoding = serializers.ChoiceField(
        choices=["utf-8", "utf-8-sig", "gb18030", "gbk"], required=False, help_text="default: detected"
    )


class UploadSentByOut(serializers.Serializer):
    user = serializers.CharField(source="sent_by.username", allow_null=True, default=None)
    api_key = serializers.CharField(source="sent_by_key", allow_blank=True)


class UploadTimingsOut(serializers.Serializer):
    received_at = serializers.DateTimeField(source="created_at")
    queued_at = serializers.DateTimeField(allow_null=True)
    validating_at = serializers.DateTimeField(allow_null=True)
    applying_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    waiting_seconds = serializers.SerializerMethodField()
    validating_seconds = serializers.SerializerMethodField()
    applying_seconds = serializers.SerializerMethodField()
    total_seconds = serializers.SerializerMethodField()

    @staticmethod
    def _between(start: Any, end: Any) -> float | None:
        return round((end - start).total_seconds(), 3) if start and end else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_waiting_seconds(self, upload: Upload) -> float | None:
        return self._between(upload.queued_at, upload.validating_at)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_validating_seconds(self, upload: Upload) -> float | None:
        return self._between(upload.validating_at, upload.applying_at or upload.finished_at)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_applying_seconds(self, upload: Upload) -> float | None:
        return self._between(upload.applying_at, upload.finished_at)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_total_seconds(self, upload: Upload) -> float | None:
        return self._between(upload.created_at, upload.finished_at)


class UploadOut(serializers.ModelSerializer):
    key_id = serializers.CharField(source="hash_key.key_id")
    progress = serializers.SerializerMethodField(help_text="0 to 1, for a progress bar")
    sent_by = UploadSentByOut(source="*")
    timings = UploadTimingsOut(source="*")
    confirmed_by = serializers.CharField(source="confirmed_by.username", allow_null=True, default=None)
    cancelled_by = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = [
            "id",
            "state",
            "mode",
            "error_policy",
            "key_id",
            "file_name",
            "size",
            "sha256",
            "gzipped",
            "encoding",
            "detected_encoding",
            "rows_total",
            "rows_processed",
            "progress",
            "created",
            "updated",
            "unchanged",
            "withdrawn",
            "invalid",
            "snapshot_withdrawals",
            "snapshot_active",
            "message",
            "attempts",
            "sent_by",
            "confirmed_by",
            "confirmed_at",
            "cancelled_by",
            "timings",
            "errors_url",
        ]

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_progress(self, upload: Upload) -> float:
        if upload.state in (UploadState.RECEIVED, UploadState.QUEUED):
            return 0.0
        if upload.state == UploadState.VALIDATING:
            return round(0.9 * min(upload.bytes_read / upload.size, 1.0), 4) if upload.size else 0.0
        if upload.state in (UploadState.APPLYING, UploadState.NEEDS_CONFIRMATION):
            return 0.9
        return 1.0

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cancelled_by(self, upload: Upload) -> str | None:
        if upload.cancelled_by is not None:
            return upload.cancelled_by.username
        return f"api-key:{upload.cancelled_by_key}" if upload.cancelled_by_key else None

    def get_errors_url(self, upload: Upload) -> str:
        return reverse("api-upload-errors", kwargs={"pk": upload.pk})


# -- views ----------------------------------------------------------------------------------------


class UploadFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=UploadState.choices)
    mode = django_filters.ChoiceFilter(choices=UploadMode.choices)

    class Meta:
        model = Upload
        fields = ["state", "mode"]


def _region_of_request(request: Request) -> Region | None:
    """The caller's region while the body is being parsed: the API key's (authenticated by
    then), or the signed-in person's (session requests parse the body in their CSRF check)."""
    actor = request.__dict__.get("_auth")
    if isinstance(actor, Actor):
        return actor.region
    user = getattr(request._request, "user", None)
    if user is not None and user.is_authenticated:
        org = user.member or user.operator
        return org.region if org is not None else None
    return None


class UploadListView(generics.ListAPIView):
    required_perm = {"GET": Perm.UPLOAD_READ, "POST": Perm.UPLOAD}
    throttle_scope = {"POST": "upload"}
    serializer_class = UploadOut
    filterset_class = UploadFilter
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> QuerySet[Upload]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return Upload.objects.none()
        return uploads_visible_to(actor_of(self.request))

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        drf_request = super().initialize_request(request, *args, **kwargs)
        if request.method == "POST":
            # Before anything reads the body: it streams to disk, bounded by the region's limit.
            install_upload_handler(request, region=lambda: _region_of_request(drf_request))
        return drf_request

    @extend_schema(
        request={"multipart/form-data": UploadIn},
        responses={202: UploadOut, 200: UploadOut},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="returns the upload first made with this key (kept 24 hours), whatever the body",
            )
        ],
        summary="Send a CSV file (202; 200 with the existing upload when the same content was sent before)",
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        key = request.headers.get("Idempotency-Key")
        if key and actor.member is not None:
            # Answered before the body is read: a retried request does not send the file twice.
            earlier = upload_for_idempotency_key(member=actor.member, key=clean_idempotency_key(key))
            if earlier is not None:
                return Response(UploadOut(earlier).data, status=status.HTTP_200_OK)
        data: Any = request.data
        unknown = sorted(set(data.keys()) - _FORM_FIELDS - {FILE_FIELD})
        if unknown:
            raise InvalidInput(
                _("Unknown fields."),
                details={
                    name: [_("Unknown field; allowed: file, mode, error_policy, key_id, encoding.")] for name in unknown
                },
            )
        upload, created = upload_receive(
            actor=actor,
            file=request.FILES.get(FILE_FIELD),
            mode=data.get("mode"),
            error_policy=data.get("error_policy"),
            key_id=data.get("key_id"),
            encoding=data.get("encoding"),
            idempotency_key=key,
        )
        return Response(UploadOut(upload).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class UploadDetailView(generics.RetrieveAPIView):
    required_perm = Perm.UPLOAD_READ
    serializer_class = UploadOut

    def get_queryset(self) -> QuerySet[Upload]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no actor
            return Upload.objects.none()
        return uploads_visible_to(actor_of(self.request))


class UploadErrorsView(APIView):
    required_perm = Perm.UPLOAD_READ

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        # The report is CSV whatever the Accept header says; errors about it are JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="line,column,code,message,value")},
        summary="The upload's error report as CSV",
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        upload = upload_of(actor_of(request), pk)
        response = StreamingHttpResponse(
            error_report_lines(upload_errors(upload).iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-errors.csv"'
        response["Cache-Control"] = "no-store"
        return response


class UploadConfirmView(APIView):
    required_perm = Perm.UPLOAD_CONFIRM

    @extend_schema(
        request=None, responses={202: UploadOut}, summary="Confirm a snapshot stopped by the guard (a person)"
    )
    def post(self, request: Request, pk: int) -> Response:
        upload = upload_confirm(actor=actor_of(request), upload_id=pk)
        return Response(UploadOut(upload).data, status=status.HTTP_202_ACCEPTED)


class UploadCancelView(APIView):
    required_perm = Perm.UPLOAD

    @extend_schema(request=None, responses=UploadOut, summary="Cancel a queued upload or one that needs confirmation")
    def post(self, request: Request, pk: int) -> Response:
        upload = upload_cancel(actor=actor_of(request), upload_id=pk)
        return Response(UploadOut(upload).data)
