from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from lenders.models import User


def _set_language_path() -> str | None:
    try:
        return reverse("set_language")
    except NoReverseMatch:
        return None


class UserLanguageMiddleware:
    """The portal speaks the language each user chose (remembered on the account), falling
    back to the browser's choice and then to Simplified Chinese.

    The language switch posts to Django's ``set_language`` view, which sets the cookie; when a
    signed-in user switches, this middleware also remembers the choice on the account, so it
    follows the person to another browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.known = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        language = getattr(user, "language", "") if signed_in else ""
        if language in self.known:
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        if signed_in and request.method == "POST" and request.path == _set_language_path():
            self._remember(request, response)
        return response

    def _remember(self, request: HttpRequest, response: HttpResponse) -> None:
        chosen = request.POST.get("language", "")
        # set_language answers with a redirect (or 204) when it accepted the language.
        if chosen in self.known and response.status_code in (204, 302):
            User.objects.filter(pk=request.user.pk or 0).exclude(language=chosen).update(language=chosen)
