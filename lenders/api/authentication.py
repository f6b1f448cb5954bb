"""API authentication: ``Authorization: Api-Key <key>`` for machines, the portal session for
people. Both yield an ``Actor`` as ``request.auth`` (and ``request.user``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from lenders.actors import Actor
from lenders.models import ApiKey
from lenders.services.api_keys import api_key_touch

KEYWORD = "Api-Key"


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
        key = key.strip()
        prefix, dot, _secret = key.partition(".")
        if not dot or not prefix or len(key) > 200:
            raise exceptions.AuthenticationFailed(
                _("Malformed API key: expected <prefix>.<secret>."), code="invalid_api_key"
            )
        api_key = ApiKey.objects.select_related("member__region", "operator__region").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
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
