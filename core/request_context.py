"""The current request's id and client address, visible to services, logs and audit events.

A context variable, not thread-local state passed around by hand: the audit log reads it
without every service having to accept a request.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "registry_request_context", default=None
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{8,64}")


def current_request_context() -> RequestContext | None:
    return _current.get()


@contextmanager
def request_context(*, request_id: str | None = None, ip: str | None = None) -> Iterator[RequestContext]:
    """Bind a request id (and address) for code that does not run in a web request, such as a task."""
    ctx = RequestContext(request_id=request_id or uuid.uuid4().hex, ip=ip)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def _valid_ip(value: str) -> str | None:
    # Audit events store the address in an IP column: anything else would fail the write.
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops and _valid_ip(hops[-1]):
            return _valid_ip(hops[-1])
    return _valid_ip(request.META.get("REMOTE_ADDR") or "")


class RequestContextMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` if well formed) and echoes it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        with request_context(request_id=request_id, ip=client_ip(request)):
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _current.get()
        record.request_id = ctx.request_id if ctx else "-"
        return True
