"""The main pages on the demo region, as its people see them: each opens without a script
error or a request to another host, fits a phone's width, and (SAVE_SCREENSHOTS=1) is saved
as a picture for the README."""

from __future__ import annotations

import io

from django.core.management import call_command
from playwright.sync_api import expect

from lenders.models import User
from tests.browser.conftest import PHONE

# (user, path, screenshot name); the demo's users speak the portal's default language.
MAIN_PAGES = [
    ("qh_admin", "/", "dashboard-member"),
    ("operator", "/", "dashboard-operator"),
    ("qh_analyst", "/lookups/", "lookup"),
    ("qh_admin", "/uploads/", "uploads-demo"),
    ("qh_uploader", "/entries/", "entries"),
    ("operator", "/members/", "members"),
    ("operator", "/region/", "region"),
    ("operator", "/audit/", "audit"),
]

# Looked at on a desk too (and pictured for the README): the others only at phone width.
DESK_SHOTS = ("dashboard-member", "dashboard-operator", "lookup", "uploads-demo", "entries")

# The page is no wider than the window: wide tables scroll inside their own box.
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_the_main_pages_of_the_demo_at_desk_and_phone_width(transactional_db, page_as):
    call_command("load_demo", stdout=io.StringIO())
    users = {user.username: user for user in User.objects.filter(username__in={u for u, _p, _n in MAIN_PAGES})}
    for username, path, name in MAIN_PAGES:
        desk = page_as(users[username])
        if name in DESK_SHOTS:
            response = desk.goto(path)
            assert response.status == 200, (username, path)
            expect(desk.page.locator("main h1")).to_be_visible()
            assert desk.page.evaluate(FITS), (username, path)
            if path == "/lookups/":
                desk.page.fill("#raw-number", "360426199101010071")
                desk.page.select_option("select[name=purpose]", "UNDERWRITING")
                desk.page.locator("[data-subject-form] [data-submit]").click()
                expect(desk.page.locator("#lookup-result .status-badge")).to_contain_text("■")
            desk.screenshot(name)

        # Every page at a phone's width (the same browser context: the same session).
        desk.page.set_viewport_size(PHONE)
        response = desk.goto(path)
        assert response.status == 200, (username, path)
        expect(desk.page.locator("meta[name=viewport]")).to_have_attribute(
            "content", "width=device-width, initial-scale=1"
        )
        assert desk.page.evaluate(FITS), f"{path} as {username} is wider than a phone"
        expect(desk.page.locator("nav.main-nav")).to_be_visible()
        expect(desk.page.locator("main h1")).to_be_in_viewport()
        if name in ("dashboard-member", "lookup"):
            desk.screenshot(f"{name}-phone")
        desk.close()
