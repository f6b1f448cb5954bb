"""Signing in and out, the language switch, and pages a role may not open, in the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD


def test_sign_in_and_out(world, visit):
    browser = visit()
    browser.goto("/")
    # Anonymous: the portal sends the visitor to the sign-in page, then back where they were.
    expect(browser.page).to_have_url(f"{browser.base_url}/accounts/login/?next=/")
    browser.page.fill("input[name=username]", "analyst")
    browser.page.fill("input[name=password]", "wrong password")
    browser.page.get_by_role("button", name="Sign in").click()
    expect(browser.page.locator(".errorlist, .alert-error").first).to_be_visible()
    browser.page.fill("input[name=password]", PASSWORD)
    browser.page.get_by_role("button", name="Sign in").click()
    expect(browser.page).to_have_url(f"{browser.base_url}/")
    expect(browser.page.locator("h1")).to_have_text("Dashboard")
    expect(browser.page.locator(".who-name")).to_have_text("analyst")
    browser.screenshot("sign-in-dashboard")

    browser.page.locator("form.sign-out button").click()
    expect(browser.page).to_have_url(f"{browser.base_url}/accounts/login/")
    expect(browser.page.get_by_text("You have signed out.")).to_be_visible()
    browser.goto("/lookups/")
    expect(browser.page).to_have_url(f"{browser.base_url}/accounts/login/?next=/lookups/")


def test_the_language_switch_is_remembered_for_the_user(world, page_as):
    first = page_as(world.users["ANALYST"])
    first.goto("/")
    expect(first.page.locator("h1")).to_have_text("Dashboard")
    expect(first.page.locator("html")).to_have_attribute("lang", "en")

    first.page.get_by_role("button", name="简体中文").click()
    expect(first.page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(first.page.locator("h1")).to_have_text("工作台")
    expect(first.page.locator("form.sign-out button")).to_have_text("退出登录")

    # Another browser, the same person: the choice is on the account, not only in a cookie.
    second = page_as(world.users["ANALYST"])
    second.goto("/lookups/")
    expect(second.page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(second.page.locator("h1")).to_contain_text("查询")

    second.page.get_by_role("button", name="English").click()
    expect(second.page.locator("html")).to_have_attribute("lang", "en")
    expect(second.page.locator("h1")).to_contain_text("Lookup")
    first.goto("/")
    expect(first.page.locator("h1")).to_have_text("Dashboard")


def test_a_viewer_is_refused_the_lookup_page(world, page_as):
    viewer = page_as(world.users["VIEWER"])
    viewer.goto("/")
    nav = viewer.page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Entries")).to_be_visible()
    # Lookups are regulated: the menu does not offer the page, and the address answers 403.
    expect(nav.get_by_role("link", name="Lookup")).to_have_count(0)
    response = viewer.goto("/lookups/")
    assert response.status == 403
    expect(viewer.page.locator("main")).to_contain_text("Your role does not allow this page or action.")
    expect(viewer.page.locator("[data-subject-form]")).to_have_count(0)
    # Nor may the viewer's browser read the region's hash key that lookups need.
    answer = viewer.page.request.get(f"{viewer.base_url}/api/v1/region/hash-key")
    assert answer.status == 403
