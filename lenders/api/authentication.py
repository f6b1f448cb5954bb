"""API authentication: ``Authorization: Api-Key <key>`` for machines, the portal session for
people. Both yield an ``Actor`` as ``request.auth`` (and ``request.user``)."""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from core.request_context import client_ip
from lenders.actors import Actor
from lenders.models import ApiKey
from lenders.services.api_keys import api_key_touch

KEYWORD = "Api-Key"


class FailedKeyThrottle:
    """Guessing keys is throttled per client address: after ``API_KEY_FAILURE_LIMIT`` malformed
    or unknown keys within ``API_KEY_FAILURE_WINDOW`` seconds, every key from that address gets
    429 with ``Retry-After`` until the window ends. Counted in the shared cache, so all web
    processes count together."""

    def __init__(self, request: Request) -> None:
        self.limit = int(getattr(settings, "API_KEY_FAILURE_LIMIT", 20))
        self.window = int(getattr(settings, "API_KEY_FAILURE_WINDOW", 300))
        now = time.time()
        slot = int(now // self.window)
        self.wait = (slot + 1) * self.window - now
        self.key = f"api-key-failures:{client_ip(request._request) or 'unknown'}:{slot}"

    def check(self) -> None:
        if int(cache.get(self.key, 0)) >= self.limit:
            raise exceptions.Throttled(
                wait=math.ceil(self.wait),
                detail=_("Too many invalid API keys from this address; try again later."),
            )

    def failed(self) -> None:
        if not cache.add(self.key, 1, timeout=self.window + 5):
            try:
                cache.incr(self.key)
            except ValueError:  # expired between add and incr
                cache.set(self.key, 1, timeout=self.window + 5)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Actor, Actor] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        try:
            scheme, _sep, key = header.decode("ascii").partition(" ")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header is not ASCII."), code="invalid_api_key"
            ) from None
        if scheme != KEYWORD:
            return None
        throttle = FailedKeyThrottle(request)
        throttle.check()
        key = key.strip()
        prefix, dot, _secret = key.partition(".")
        if not dot or not prefix or len(key) > 200:
            throttle.failed()
            raise exceptions.AuthenticationFailed(
                _("Malformed API key: expected <prefix>.<secret>."), code="invalid_api_key"
            )
        api_key = ApiKey.objects.select_related("member__region", "operator__region").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
            throttle.failed()
            raise exceptions.AuthenticationFailed(_("Invalid API key."), code="invalid_api_key")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."), code="key_revoked")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."), code="key_expired")
        actor = Actor.for_api_key(api_key)
        api_key_touch(api_key=api_key)
        return actor, actor

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class PortalSessionAuthentication(SessionAuthentication):
    """The portal's signed-in user, CSRF-protected for unsafe methods, acting with their roles."""

    def authenticate(self, request: Request) -> tuple[Any, Actor] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, _auth = result
        return user, Actor.for_user(user)
