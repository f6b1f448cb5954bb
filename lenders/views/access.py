"""Access to portal pages: who is acting, may they be here, and how refusals look.

Every portal view, in this app or in ``registry``, is wrapped in ``portal_view``::

    @portal_view(Perm.ENTRY_READ, write=Perm.ENTRY_WRITE)
    def entry_list(request: PortalRequest) -> HttpResponse:
        entries = Entry.objects.visible_to(request.actor)
        ...

The decorator

* sends anonymous visitors to the sign-in page (``settings.LOGIN_URL``, with ``?next=``);
* builds the acting ``Actor`` once and puts it on ``request.actor`` (templates get it as
  ``actor`` through ``lenders.context_processors.portal``);
* answers with the 403 page when the user's organisation is suspended, when the account
  belongs to no organisation, or when the actor lacks ``perm`` (any method) or ``write``
  (POST and other unsafe methods);
* turns a ``ServiceError`` that escapes the view into the matching error page (403, 404,
  409, 400) instead of a 500;
* marks the response as never cached, since every portal page shows confidential data.

Inside form handling, call the service through ``call_service(form, ...)``: invalid input
and conflicts become form errors on the right fields, and the view re-renders the form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from lenders.actors import Actor, MemberSuspended
from lenders.models import User
from lenders.permissions import Perm

P = ParamSpec("P")
T = TypeVar("T")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_TEMPLATE = "errors/error.html"

# The messages of core.errors' page handlers, so that the catalog translates them when the
# error template shows them with {% translate message %}.
CORE_PAGE_MESSAGES = (
    gettext_noop("The request could not be understood."),
    gettext_noop("You do not have permission to do this."),
    gettext_noop("Not found."),
    gettext_noop("An unexpected error occurred; it has been logged."),
    gettext_noop("The form has expired or came from elsewhere; reload the page and try again."),
)


class PortalRequest(HttpRequest):
    """What a view wrapped in ``portal_view`` receives (for type checkers only)."""

    user: User
    actor: Actor


def error_page(request: HttpRequest, status_code: int, message: str, *, code: str = "") -> HttpResponse:
    """The portal's error page (also used by ``core.errors`` handlers), with the layout."""
    context = {"status_code": status_code, "message": message, "code": code}
    response = render(request, ERROR_TEMPLATE, context, status=status_code)
    add_never_cache_headers(response)
    return response


def forbidden(request: HttpRequest, message: str | None = None, *, code: str = "permission_denied") -> HttpResponse:
    return error_page(request, 403, message or _("Your role does not allow this page or action."), code=code)


def _page_for_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, Forbidden):
        return forbidden(request, exc.message, code=exc.code)
    if isinstance(exc, NotFound):
        return error_page(request, 404, exc.message, code=exc.code)
    if isinstance(exc, Conflict):
        return error_page(request, 409, exc.message, code=exc.code)
    return error_page(request, 400, exc.message, code=exc.code)


def portal_view(
    perm: Perm | None = None, *, write: Perm | None = None
) -> Callable[
    [Callable[Concatenate[PortalRequest, P], HttpResponse]], Callable[Concatenate[HttpRequest, P], HttpResponse]
]:
    """Wrap a portal view: sign-in required, ``request.actor`` set, ``perm`` required for every
    method and ``write`` in addition for unsafe ones (see the module docstring)."""

    def decorate(
        view: Callable[Concatenate[PortalRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            try:
                actor = Actor.for_user(request.user)  # type: ignore[arg-type]
            except MemberSuspended as exc:
                return forbidden(request, exc.message, code=exc.code)
            except Forbidden as exc:
                return forbidden(request, exc.message, code=exc.code)
            request.actor = actor  # type: ignore[attr-defined]
            needed = [perm] if perm is not None else []
            if write is not None and request.method in UNSAFE_METHODS:
                needed.append(write)
            if not all(actor.can(p) for p in needed):
                return forbidden(request)
            try:
                response = view(request, *args, **kwargs)  # type: ignore[arg-type]
            except ServiceError as exc:
                response = _page_for_service_error(request, exc)
            add_never_cache_headers(response)
            return response

        wrapped.portal_perm = perm  # type: ignore[attr-defined]
        wrapped.portal_write_perm = write  # type: ignore[attr-defined]
        return wrapped

    return decorate


def add_service_errors(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal on the form: each ``details`` field on its own form field
    (unknown fields and the summary message on the form as a whole)."""
    placed = False
    for field, messages in (exc.details or {}).items():
        target = field if field in form.fields else None
        values = messages if isinstance(messages, list | tuple) else [messages]
        for message in values:
            form.add_error(target, str(message))
            placed = True
    if not placed or not isinstance(exc, InvalidInput):
        form.add_error(None, exc.message)


def call_service(form: forms.BaseForm, service: Callable[..., T], /, **kwargs: Any) -> T | None:
    """Call ``service(**kwargs)``; on invalid input or a conflict put the errors on ``form``
    and return ``None``. A refusal (403) or a missing object (404) still propagates, so the
    view answers with the error page."""
    try:
        return service(**kwargs)
    except (InvalidInput, Conflict) as exc:
        add_service_errors(form, exc)
        return None
