"""Security headers (``quality.md``, Security): every portal page and API answer carries a
same-origin Content-Security-Policy, frame denial, no-sniff and a referrer policy; production
adds HSTS over HTTPS. The portal holds no inline script or style, so the CSP needs no
exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from core.security import DEFAULT_CSP
from tests.factories import make_api_key, make_user
from tests.security.urlconf import routes
from tests.test_settings_production import _complete, _production_env, manage

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
# Pages that do not render for a signed-in GET (they act or redirect); their headers are
# checked through the pages they redirect to.
NOT_A_PAGE = {"logout", "set_language", "metrics"}


def assert_secure_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"


def _pages() -> list[str]:
    return sorted(
        "/" + route.pattern
        for route in routes()
        if not route.is_api and not route.has_parameters and route.name not in NOT_A_PAGE
    )


@pytest.mark.parametrize("role", ["OPERATOR_ADMIN", "MEMBER_ADMIN"])
def test_every_portal_page_carries_the_security_headers(role, member, operator):
    user = make_user(operator if role == "OPERATOR_ADMIN" else member, [role])
    client = Client()
    client.force_login(user)
    for path in _pages():
        response = client.get(path)
        assert response.status_code in (200, 302, 403, 405), (path, response.status_code)
        assert_secure_headers(response)


def test_the_sign_in_page_and_error_pages_carry_them(db):
    client = Client()
    for path in ("/accounts/login/", "/no-such-page/", "/entries/"):
        assert_secure_headers(client.get(path))


def test_api_answers_carry_them_whatever_their_status(member):
    _key, secret = make_api_key(member, scopes=["lookup", "entries"])
    client = Client(headers={"Authorization": f"Api-Key {secret}"})
    for path, status in (("/api/v1/region", 200), ("/api/v1/entries/999999", 404), ("/api/v1/nothing", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert_secure_headers(response)
    anonymous = Client().get("/api/v1/region")
    assert anonymous.status_code == 401
    assert_secure_headers(anonymous)
    for path in ("/healthz", "/api/schema/", "/api/docs/"):
        assert_secure_headers(Client().get(path))


def test_the_api_docs_page_loads_its_start_up_script_as_a_file(db):
    page = Client().get("/api/docs/").content.decode()
    assert "<style" not in page
    assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", page))
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("folder", TEMPLATE_DIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_no_inline_script_or_style(folder):
    """The CSP forbids inline code; a template that adds some would break in the browser."""
    offending: list[str] = []
    for template in folder.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if " src=" not in tag:
                offending.append(f"{template.relative_to(ROOT)}: {tag}")
        if re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", text):
            offending.append(f"{template.relative_to(ROOT)}: inline style or event handler")
    assert offending == []


def test_the_policy_allows_only_the_registrys_own_origin():
    directives = dict(part.strip().split(" ", 1) for part in DEFAULT_CSP.split(";"))
    for name in ("default-src", "script-src", "style-src", "connect-src", "form-action"):
        assert directives[name] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_production_sends_hsts_over_https_and_redirects_plain_http(tmp_path):
    code = (
        "from django.test import Client; c = Client(); "
        "s = c.get('/healthz', secure=True, HTTP_HOST='registry.example'); "
        "p = c.get('/healthz', HTTP_HOST='registry.example'); "
        "print(s.status_code, s.headers.get('Strict-Transport-Security'), '|', "
        "p.status_code, p.headers.get('Location'))"
    )
    process = manage(_production_env(tmp_path, **_complete(tmp_path)), "shell", "-c", code)
    assert process.returncode == 0, process.stderr
    secure, plain = process.stdout.strip().splitlines()[-1].split(" | ")
    assert secure == "200 max-age=31536000; includeSubDomains; preload"
    assert plain == "301 https://registry.example/healthz"
