"""The Content-Security-Policy in a real browser (headless Chromium through Playwright, never a
browser download): the portal's pages and the API docs run under it without one violation,
so the policy is strict and nothing of the portal needs an exception. Skipped, saying why,
without Chromium (``/usr/bin/chromium`` or ``$CHROMIUM``) or the playwright package."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import make_user

MEMBER_PAGES = ["/", "/lookups/", "/entries/", "/entries/new/", "/uploads/", "/staff/", "/api-keys/", "/audit/"]
OPERATOR_PAGES = ["/", "/members/", "/region/", "/subjects/", "/audit/"]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chromium(browser: Any) -> Any:
    """The package's one headless Chromium (``tests/browser/conftest.py``)."""
    return browser


def _violations(chromium: Any, base_url: str, pages: list[str], session: str | None) -> dict[str, list[str]]:
    context = chromium.new_context(base_url=base_url)
    if session:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])
    page = context.new_page()
    found: dict[str, list[str]] = {}
    current = {"path": ""}

    def record(message: Any) -> None:
        if "Content Security Policy" in message.text:
            found.setdefault(current["path"], []).append(message.text)

    page.on("console", record)
    for path in pages:
        current["path"] = path
        response = page.goto(path)
        assert response is not None and response.status < 500, (path, response and response.status)
        page.wait_for_load_state("networkidle")
    context.close()
    return found


def _session(org: Any, roles: list[str]) -> str:
    client = Client()
    client.force_login(make_user(org, roles))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_portal_runs_under_the_policy_without_a_violation(chromium, live_server, member, operator):
    member_session = _session(member, ["MEMBER_ADMIN", "ANALYST", "UPLOADER"])
    operator_session = _session(operator, ["OPERATOR_ADMIN"])

    assert _violations(chromium, live_server.url, ["/accounts/login/"], None) == {}
    assert _violations(chromium, live_server.url, MEMBER_PAGES, member_session) == {}
    assert _violations(chromium, live_server.url, OPERATOR_PAGES, operator_session) == {}


def test_the_api_docs_render_under_the_policy(chromium, live_server, db):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Regional blacklist/whitelist registry API" in page.inner_text(".swagger-ui .info .title")
    assert [text for text in messages if "Content Security Policy" in text] == []

    # The control: an inline script is refused, and the refusal is what the tests look for.
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in text for text in messages)
    context.close()
