"""A test-only URLconf: the real one plus views that fail unexpectedly, for the 500 tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as real_urlpatterns

# What a careless error page would show: SQL and a secret.
FAILURE_TEXT = "SELECT key_b64 FROM lenders_hashkey WHERE secret = 'c2VjcmV0LWtleS1ieXRlcw=='"


class FailingApiView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    def get(self, request: Request) -> Response:
        raise RuntimeError(FAILURE_TEXT)


def failing_plain_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(FAILURE_TEXT)


urlpatterns = [
    path("api/v1/test-failure", FailingApiView.as_view()),
    path("api/v1/test-plain-failure", failing_plain_view),
    *real_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
