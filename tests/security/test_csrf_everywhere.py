"""CSRF on every portal form (``quality.md``, Security), table-free over the URL conf: every
portal route, POSTed by a signed-in person without the CSRF token, answers the CSRF refusal
(403) or 405 (it takes no POST), and changes nothing. A new page is covered the day it exists."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from core.models import AuditEvent
from tests.factories import make_user
from tests.security.urlconf import routes

CSRF_MESSAGE = "The form has expired or came from elsewhere; reload the page and try again."


def _fill(pattern: str) -> str:
    """The route with every parameter filled (the CSRF check runs before the view looks)."""
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "x1y2z3w4" if m.group(1) in ("slug", "str") else "1", pattern)


PORTAL = sorted({_fill(route.pattern) for route in routes() if not route.is_api and route.name != "metrics"})


@pytest.fixture(params=["member", "operator"])
def person(request, member, operator) -> Client:  # type: ignore[no-untyped-def]
    org, roles = (
        (member, ["MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER"])
        if request.param == "member"
        else (operator, ["OPERATOR_ADMIN", "REGULATOR"])
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(org, roles))
    client.get("/")  # a CSRF cookie exists, as in a browser: only the token is missing
    return client


def test_every_portal_post_without_the_token_is_refused(person):
    with translation.override(settings.LANGUAGE_CODE):
        refusal = escape(gettext(CSRF_MESSAGE))
    events = AuditEvent.objects.count()
    taken: list[str] = []
    for path in PORTAL:
        response: Any = person.post(path, {"name": "x", "status": "SUSPENDED", "is_active": "0"})
        assert response.status_code in (403, 405), (path, response.status_code)
        if response.status_code == 403:
            if refusal in response.content.decode():
                taken.append(path)
            else:  # refused before the CSRF check (a csrf_exempt view): then for lack of permission
                person.handler.enforce_csrf_checks = False
                unchecked = person.post(path, {"name": "x", "status": "SUSPENDED", "is_active": "0"}).status_code
                person.handler.enforce_csrf_checks = True
                assert unchecked == 403, (path, "refused, but not by the CSRF check")
    assert AuditEvent.objects.count() == events
    assert "/accounts/login/" in taken and "/accounts/logout/" in taken


def test_a_multipart_upload_without_the_token_is_refused_and_stores_nothing(member, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry.models import Upload

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(member, ["UPLOADER"]))
    client.get("/uploads/")

    response = client.post("/uploads/", {"file": SimpleUploadedFile("a.csv", b"x"), "mode": "delta"})

    assert response.status_code == 403
    assert not Upload.objects.exists()
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []
