from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from lenders.actors import Actor
from lenders.permissions import Perm


class IsActor(BasePermission):
    """Authenticated, and holding the view's ``required_perm`` (a ``Perm``, or a dict by HTTP
    method). A missing capability is a 403; no credentials at all a 401."""

    message = "Your role or key scopes do not allow this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = request.auth
        if not isinstance(actor, Actor):
            return False
        required = getattr(view, "required_perm", None)
        if isinstance(required, dict):
            required = required.get(request.method or "GET")
        if required is None:
            return True
        perms: tuple[Perm, ...] = required if isinstance(required, tuple) else (required,)
        return any(actor.can(perm) for perm in perms)
