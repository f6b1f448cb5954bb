"""The single error shape of the API (spec: ``api.md``), for every status code.

``{"error": {"code": "...", "message": "...", "details": {...}}}``: DRF's own exceptions,
Django's 404/403, unexpected exceptions (a 500 that never shows a stack trace) and the
URL resolver's 404 for unknown ``/api/`` paths all come out in this shape.
"""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("registry.errors")
RETRY_AFTER_SECONDS = 5


class ServiceError(Exception):
    """A refusal by a service, with a stable code; the API maps it to a status code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class InvalidInput(ServiceError):
    """Input that breaks a rule; ``details`` maps each field to its messages."""

    code = "validation_error"


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Forbidden(ServiceError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class Conflict(ServiceError):
    """The object's state does not allow the action."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is larger than this endpoint accepts."


class InsufficientStorage(exceptions.APIException):
    """The disk filled up while a file was being received; nothing of it was kept."""

    status_code = status.HTTP_507_INSUFFICIENT_STORAGE
    default_code = "insufficient_storage"
    default_detail = "The registry has no room to store this file now; nothing was kept. Try again later."


# What the database driver raises while the server cannot be reached (restart, failover, a
# dropped connection): a 503 the client retries, not a 500. Django's wrappers for every backend.
DATABASE_OUTAGE = (OperationalError, InterfaceError)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "A service the registry depends on is unavailable; try again shortly."


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _message_from(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message_from(detail[0])
    if isinstance(detail, dict) and detail:
        field, value = next(iter(detail.items()))
        text = _message_from(value)
        return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
    return str(detail)


def _validation_body(detail: Any) -> dict[str, Any]:
    details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    return error_body("validation_error", f"Invalid input. {_message_from(detail)}", details)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DATABASE_OUTAGE):
        logger.warning("database unavailable in API view: %s", exc)
        exc = ServiceUnavailable()

    # Imported here: rest_framework.views imports the authentication classes, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    handled = drf_exception_handler(exc, context)
    if handled is None:
        logger.exception("unhandled error in API view", exc_info=exc)
        return Response(
            error_body("server_error", "An unexpected error occurred; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response: Response = handled
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        response.data = error_body(str(code), _message_from(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        response["Retry-After"] = str(max(1, math.ceil(getattr(exc, "wait", None) or 1)))
    elif isinstance(exc, ServiceUnavailable | InsufficientStorage):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error_page(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status_code)
    return render(request, "errors/error.html", {"status_code": status_code, "message": message}, status=status_code)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "bad_request", gettext("The request could not be understood."))


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 403, "permission_denied", gettext("You do not have permission to do this."))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404, "not_found", gettext("Not found."))


def handler500(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], DATABASE_OUTAGE):
        return database_unavailable(request)
    return _error_page(request, 500, "server_error", gettext("An unexpected error occurred; it has been logged."))


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After`` while the database cannot be reached (restarting, failing over).
    The page is rendered without the request's context: its processors would ask the database."""
    message = gettext("The registry is briefly unavailable; try again in a few seconds.")
    if _is_api(request):
        response: HttpResponse = JsonResponse(error_body("unavailable", message), status=503)
    else:
        response = HttpResponse(
            render_to_string("errors/unavailable.html", {"message": message, "status_code": 503}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(
        request,
        403,
        "csrf_failed",
        gettext("The form has expired or came from elsewhere; reload the page and try again."),
    )
