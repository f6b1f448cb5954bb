"""Helpers shared by the portal tests (this module holds no tests of its own)."""

from __future__ import annotations

import re

from django.test import Client

from lenders.models import User

_LINK = re.compile(r"""\b(?:src|href|action|formaction|srcset|poster|data)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""", re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """Every address in the page that points to another host (or could: protocol-relative)."""
    found = [url for url in _LINK.findall(html) + _CSS_URL.findall(html)]
    return [url for url in found if re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE)]


def page_text(response) -> str:
    """The page's HTML, checked to reference no other host (the registry runs without internet)."""
    html = response.content.decode()
    assert external_references(html) == [], external_references(html)
    return html


def signed_in(user: User, *, language: str | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client
