"""Every portal page, for every role of the demo region, refers only to its own host: no
script, style, image, font or link from a CDN or any other site (many deployments have no
internet). The pages are found as a person finds them: from the dashboard, following every
link of the portal's own, breadth-first."""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from lenders.models import User

ATTRIBUTE = re.compile(r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""", re.IGNORECASE)
# Not pages: the API, static files, the language switch and signing out (a POST).
NOT_PAGES = ("/api/", "/static/", "/i18n/", "/accounts/logout/", "/media/")
PAGES_PER_ROLE = 40
# One user of each kind of menu (qh_admin sees every page a member's staff can).
DEMO_USERS = ("operator", "regulator", "qh_admin", "qh_analyst", "qh_viewer")


def foreign_references(html: str) -> list[str]:
    """Addresses in ``html`` that name a host (absolute or protocol-relative URLs)."""
    found = []
    for value in ATTRIBUTE.findall(html) + CSS_URL.findall(html):
        value = value.strip()
        if value.startswith("//") or urlsplit(value).netloc:
            found.append(value)
    return found


def portal_links(html: str) -> list[str]:
    links = []
    for value in re.findall(r"""\bhref\s*=\s*["']([^"'#]*)""", html):
        path = urlsplit(value).path
        if value.startswith("/") and not value.startswith("//") and not path.startswith(NOT_PAGES):
            links.append(path)
    return links


def test_the_scanner_finds_foreign_hosts():
    page = (
        '<script src="https://cdn.example/x.js"></script><link href="//fonts.example/css">'
        '<img src="/static/a.png"><a href="/entries/?page=2">'
        "<div style=\"background: url('https://img.example/b.png')\"></div>"
    )
    assert foreign_references(page) == ["https://cdn.example/x.js", "//fonts.example/css", "https://img.example/b.png"]
    assert portal_links(page) == ["/entries/"]


@pytest.mark.django_db
def test_no_portal_page_of_any_role_refers_to_another_host():
    call_command("load_demo", stdout=io.StringIO())
    seen_by_role: dict[str, int] = {}
    for username in DEMO_USERS:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(User.objects.get(username=username))
        queue, seen = deque(["/"]), {"/"}
        while queue and len(seen) <= PAGES_PER_ROLE:
            path = queue.popleft()
            response = client.get(path)
            assert response.status_code in (200, 302, 403, 404), (username, path, response.status_code)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            html = response.content.decode()
            assert not foreign_references(html), (username, path, foreign_references(html))
            for link in portal_links(html):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
        seen_by_role[username] = len(seen)
    # The crawl really went through the portal: the menu's pages and their details.
    assert seen_by_role["qh_admin"] >= 8 and seen_by_role["operator"] >= 8, seen_by_role
