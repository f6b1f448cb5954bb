"""Per-key request limits from the region's policy (``api.md``), counted in fixed windows in
the shared cache (Redis in production), so every web process sees the same count."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from lenders.actors import Actor


class RegionRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        actor = request.auth
        if not isinstance(actor, Actor) or actor.region is None:
            return True
        scope = getattr(view, "throttle_scope", "api")
        if isinstance(scope, dict):
            scope = scope.get(request.method or "GET", "api")
        region = actor.region
        if scope == "lookup":
            limit, period = region.lookup_rate_per_minute, 60
        elif scope == "upload":
            limit, period = region.upload_rate_per_hour, 3600
        else:
            limit, period = region.api_rate_per_minute, 60
        who = f"k:{actor.api_key.prefix}" if actor.api_key is not None else f"u:{actor.user_id}"
        now = time.time()
        window = int(now // period)
        key = f"throttle:{scope}:{who}:{window}"
        if cache.add(key, 1, timeout=period + 5):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window's counter expired between add and incr
                cache.set(key, 1, timeout=period + 5)
                count = 1
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
