"""Prometheus metrics at ``/metrics``: requests and latencies, lookups, uploads by state, the
task queue's depth and dispute deadlines.

Two kinds, chosen so that any of several gunicorn workers gives the same answer:

* **Counters and histograms of events** (requests, latencies, looked-up subjects) are counted
  by the worker that served the request. With ``PROMETHEUS_MULTIPROC_DIR`` set (the web
  process sets it, ``deploy/gunicorn.conf.py``) each worker writes its counts to its own
  memory-mapped file there and the scrape adds all files up: prometheus_client's
  multiprocess mode. Without it (``runserver``, tests) the counts live in the process.
* **Gauges of state** (uploads by state, queued tasks, dispute items near their deadline)
  are not kept in any process: they are read from the database and the broker when the
  endpoint is scraped. Per-process gauges would each see only their own worker's part and
  disagree; a few indexed ``count`` queries per scrape (every 15–60 s) cost nothing.

The endpoint is off (404) unless ``METRICS_TOKEN`` or ``METRICS_ALLOWED_IPS`` is set; then it
answers a caller with ``Authorization: Bearer <METRICS_TOKEN>`` or from an allowed address,
and refuses anyone else with 403.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import ChannelError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.errors import error_body
from core.request_context import client_ip

logger = logging.getLogger("registry.metrics")

REQUESTS = Counter(
    "registry_http_requests",
    "HTTP requests answered, by method, URL route (never the raw path) and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "registry_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and URL route.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LOOKUPS = Counter(
    "registry_lookup_subjects",
    "Subjects looked up over the API (a batch counts each of its subjects), by kind.",
    ["kind"],
)
_LOOKUP_ROUTES = {"api-lookup": "single", "api-lookup-batch": "batch"}


def observe_request(request: HttpRequest, response: HttpResponse, *, route: str, seconds: float) -> None:
    method = request.method or "-"
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    LATENCY.labels(method, route).observe(seconds)
    match = getattr(request, "resolver_match", None)
    kind = _LOOKUP_ROUTES.get(match.url_name or "") if match is not None else None
    if kind is not None and response.status_code == 200:
        count = 1
        if kind == "batch":
            data = getattr(response, "data", None)
            results = data.get("results") if isinstance(data, dict) else None
            count = len(results) if isinstance(results, list) else 0
        LOOKUPS.labels(kind).inc(count)


# -- gauges read at scrape time ------------------------------------------------------------------


def _queue_depths() -> tuple[bool, dict[str, int]]:
    """Messages waiting in each Celery queue, and whether the broker answered."""
    from config.celery import app

    queues = sorted({q.name for q in (app.conf.task_queues or [])} | {app.conf.task_default_queue or "celery"})
    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            channel: Any = conn.default_channel
            for name in queues:
                try:
                    depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
                except ChannelError:
                    depths[name] = 0  # Redis keeps no empty queue: nothing is waiting
        return True, depths
    except Exception:
        logger.warning("metrics: broker unreachable", exc_info=True)
        return False, depths


@cache
def _dispute_deadline_model() -> tuple[Any, str, str] | None:
    """The dispute items' model, its deadline field and its state field, if disputes exist.

    The disputes feature is optional at this point of the registry's history: the gauge is
    reported once a model with an item deadline is there, and left out until then."""
    from django.apps import apps

    for name in ("DisputeItem", "Dispute"):
        try:
            model = apps.get_model("registry", name)
        except LookupError:
            continue
        fields = {f.name for f in model._meta.get_fields()}
        deadline = next((f for f in ("deadline", "due_on", "respond_by") if f in fields), None)
        state = next((f for f in ("state", "status") if f in fields), None)
        if deadline and state:
            return model, deadline, state
    return None


class StateCollector(Collector):
    """Gauges computed from the database and the broker on each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from registry.choices import UploadState
        from registry.models import Upload

        uploads = GaugeMetricFamily("registry_uploads", "Uploads in each state.", labels=["state"])
        counts = dict(Upload.objects.order_by().values_list("state").annotate(n=Count("id")))
        for state in UploadState.values:
            uploads.add_metric([state], counts.get(state, 0))
        yield uploads

        up, depths = _queue_depths()
        yield GaugeMetricFamily("registry_broker_up", "1 if the Celery broker answered the scrape.", value=int(up))
        queue = GaugeMetricFamily("registry_queue_depth", "Task messages waiting in each queue.", labels=["queue"])
        for name, depth in depths.items():
            queue.add_metric([name], depth)
        yield queue

        disputes = _dispute_deadline_model()
        if disputes is not None:
            yield from _dispute_gauges(*disputes)


def _dispute_gauges(model: Any, deadline: str, state: str) -> Iterator[GaugeMetricFamily]:
    today = timezone.localdate()
    open_items = model.objects.filter(**{state: "OPEN"})
    soon = datetime.timedelta(days=3)
    due = GaugeMetricFamily(
        "registry_dispute_items_due",
        "Open dispute items by how near their deadline is: overdue (the deadline job is behind), "
        "today, or within 3 days.",
        labels=["window"],
    )
    due.add_metric(["overdue"], open_items.filter(**{f"{deadline}__lt": today}).count())
    due.add_metric(["today"], open_items.filter(**{deadline: today}).count())
    due.add_metric(
        ["within_3_days"], open_items.filter(**{f"{deadline}__gt": today, f"{deadline}__lte": today + soon}).count()
    )
    yield due


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessCollector())
    registry.register(StateCollector())
    return registry


class _ProcessCollector(Collector):
    """This process's own counters (a single-process server)."""

    def collect(self) -> Iterator[Any]:
        for metric in (REQUESTS, LATENCY, LOOKUPS):
            yield from metric.collect()


# -- access ---------------------------------------------------------------------------------------


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in getattr(settings, "METRICS_ALLOWED_IPS", [])]


def _access(request: HttpRequest) -> int:
    """200 (allowed), 403 (refused) or 404 (the endpoint is off)."""
    token = getattr(settings, "METRICS_TOKEN", "")
    networks = _allowed_networks()
    if not token and not networks:
        return 404
    if token:
        scheme, _sep, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return 200
    ip = client_ip(request)
    if ip and networks and any(ipaddress.ip_address(ip) in network for network in networks):
        return 200
    return 403


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    status = _access(request)
    if status == 404:
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    if status == 403:
        return JsonResponse(
            error_body("permission_denied", _("The metrics need the monitoring token or an allowed address.")),
            status=403,
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


__all__ = ["LATENCY", "LOOKUPS", "REQUESTS", "metrics_view", "observe_request"]
