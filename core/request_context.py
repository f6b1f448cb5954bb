"""The current request's id and client address, visible to services, logs and audit events.

A context variable, not thread-local state passed around by hand: the audit log reads it
without every service having to accept a request.

The id follows the work into Celery: a task published while a request (or another task) is
running carries the id in its message headers, and the worker binds it while the task runs,
so the task's log lines and audit events name the request that caused them.

The middleware also writes the one log line per request (``registry.request``: method, path
with subject hashes and long numbers masked, route, status, duration, request id) and feeds
the request metrics (``core.metrics``).
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None
    task: str | None = None  # the Celery task's name while a task runs


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "registry_request_context", default=None
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{8,64}")
# The message header that carries the request id to a Celery task.
TASK_HEADER = "registry_request_id"
# Path segments masked in the request log: subject hashes (and any long hex string) and long
# digit runs, which could be a raw identity number typed into a URL by mistake.
_SENSITIVE_SEGMENT = re.compile(r"(?<![^/])(?:[0-9A-Fa-f]{32,}|[0-9]{12,}[0-9Xx]?)(?![^/])")
request_logger = logging.getLogger("registry.request")


def current_request_context() -> RequestContext | None:
    return _current.get()


def valid_request_id(value: object) -> str | None:
    return value if isinstance(value, str) and _REQUEST_ID.fullmatch(value) else None


@contextmanager
def request_context(
    *, request_id: str | None = None, ip: str | None = None, task: str | None = None
) -> Iterator[RequestContext]:
    """Bind a request id (and address) for code that does not run in a web request, such as a task."""
    ctx = RequestContext(request_id=request_id or uuid.uuid4().hex, ip=ip, task=task)
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
        started = time.perf_counter()
        request_id = valid_request_id(request.META.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
        ip = client_ip(request)
        with request_context(request_id=request_id, ip=ip):
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            _observe(request, response, seconds, ip)
        response["X-Request-ID"] = request_id
        return response


def masked_path(path: str) -> str:
    return _SENSITIVE_SEGMENT.sub(":masked", path)


def _observe(request: HttpRequest, response: HttpResponse, seconds: float, ip: str | None) -> None:
    """One log line and the request metrics; never lets a failure here fail the request."""
    from core import metrics

    match = getattr(request, "resolver_match", None)
    route = ("/" + match.route) if match is not None and match.route else "unmatched"
    try:
        metrics.observe_request(request, response, route=route, seconds=seconds)
    except Exception:  # metrics are best effort; the answer is already made
        request_logger.exception("request metrics failed")
    request_logger.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra={
            "http": {
                "method": request.method,
                "path": masked_path(request.path),
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "client_ip": ip,
            }
        },
    )


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _current.get()
        record.request_id = ctx.request_id if ctx else "-"
        if ctx is not None and ctx.task and getattr(record, "task", None) is None:
            record.task = {"name": ctx.task}
        return True


# -- Celery: the request id travels in the task message's headers -------------------------------

_task_scopes: dict[str, Any] = {}


def _publish_with_request_id(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    ctx = _current.get()
    if headers is not None and ctx is not None:
        headers.setdefault(TASK_HEADER, ctx.request_id)


task_logger = logging.getLogger("registry.task")


def _incoming_request_id(task: Any) -> str | None:
    # A worker sees the message's headers as attributes of the task's request; ``apply`` with
    # ``headers=`` (eager runs) nests them under ``headers``.
    nested = getattr(task.request, "headers", None) or {}
    return valid_request_id(getattr(task.request, TASK_HEADER, None) or nested.get(TASK_HEADER))


def _task_started(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    if task is None or task_id is None:
        return
    incoming = _incoming_request_id(task)
    if incoming is None and _current.get() is not None:
        return  # an eager task inside a request: it already runs in the request's context
    scope = request_context(request_id=incoming, task=task.name)
    scope.__enter__()
    _task_scopes[task_id] = (scope, time.perf_counter())
    task_logger.info("task %s started", task.name, extra={"task": {"name": task.name, "id": task_id}})


def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_kwargs: Any) -> None:
    entry = _task_scopes.pop(task_id or "", None)
    if entry is None:
        return
    scope, started = entry
    name = getattr(task, "name", "-")
    task_logger.info(
        "task %s %s",
        name,
        (state or "done").lower(),
        extra={
            "task": {
                "name": name,
                "id": task_id,
                "state": state,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        },
    )
    scope.__exit__(None, None, None)


def connect_celery_signals() -> None:
    """Called by ``config.celery``: the web process publishes, the worker runs."""
    from celery import signals

    signals.before_task_publish.connect(_publish_with_request_id, weak=False, dispatch_uid="registry_request_id_pub")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="registry_request_id_pre")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="registry_request_id_post")
