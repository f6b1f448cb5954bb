"""A member administrator creates an API key in the browser, a program uses it, and it is revoked."""

from __future__ import annotations

from playwright.sync_api import expect

from lenders.models import ApiKey


def test_create_and_revoke_an_api_key(world, page_as):
    admin = page_as(world.users["MEMBER_ADMIN"])
    admin.goto("/api-keys/")
    page = admin.page
    page.get_by_role("link", name="Create a key").click()
    page.get_by_label("Name").fill("loan system, production")
    page.get_by_label("Lookups").check()
    page.get_by_role("button", name="Create the key").click()

    expect(page.locator("h1")).to_have_text("Your new API key")
    secret = page.locator("#new-key").input_value()
    prefix, dot, _rest = secret.partition(".")
    assert dot and prefix
    admin.screenshot("api-key-created")
    # The key works for a program at once, with the scope it was given.
    api = page.request
    headers = {"Authorization": f"Api-Key {secret}", "Accept-Language": "en"}
    assert api.get(f"{admin.base_url}/api/v1/region/hash-key", headers=headers).status == 200

    page.get_by_role("link", name="I have stored the key: back to API keys").click()
    row = page.locator("tbody tr", has_text="loan system, production")
    expect(row).to_contain_text(prefix)
    expect(row.locator(".badge")).to_contain_text("Active")
    row.get_by_role("link", name="Revoke…").click()
    page.get_by_role("button", name="Revoke the key").click()
    row = page.locator("tbody tr", has_text="loan system, production")
    expect(row.locator(".badge")).to_contain_text("Revoked")
    expect(row.get_by_role("link", name="Revoke…")).to_have_count(0)
    admin.screenshot("api-keys")

    refused = api.get(f"{admin.base_url}/api/v1/region/hash-key", headers=headers)
    assert refused.status == 401
    assert refused.json()["error"]["code"] == "key_revoked"
    assert ApiKey.objects.get(prefix=prefix).revoked
