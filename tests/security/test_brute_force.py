"""Brute force (``quality.md``, Security): guessing passwords locks the sign-in (django-axes,
per user name and address; see also tests/lenders/test_portal_accounts.py), and guessing API
keys is throttled per client address with ``Retry-After`` (lenders/api/authentication.py)."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, make_api_key, make_user
from tests.registry.helpers import error_of

ATTACKER, OTHER = "203.0.113.7", "198.51.100.9"


def _sign_in(client: Client, username: str, password: str, address: str = ATTACKER):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_locked_sign_in_stays_locked_without_cookies_and_other_addresses_are_not_locked(member, settings):
    user = make_user(member, ["ANALYST"])
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(Client(), user.username, "wrong-password")

    assert _sign_in(Client(), user.username, PASSWORD).status_code == 429  # a fresh client, same address
    signed_in = _sign_in(Client(), user.username, PASSWORD, address=OTHER)
    assert signed_in.status_code == 302, "an attacker cannot lock a person out from elsewhere"


def _api(secret: str, address: str = ATTACKER) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_guessing_api_keys_is_throttled_per_address_with_retry_after(member, settings):
    settings.API_KEY_FAILURE_LIMIT = 5
    _key, secret = make_api_key(member, scopes=["lookup"])
    prefix = secret.split(".", 1)[0]
    for n in range(5):
        error_of(_api(f"{prefix}.guess-{n}").get("/api/v1/region"), 401, "invalid_api_key")

    blocked = _api(f"{prefix}.guess-6").get("/api/v1/region")
    error_of(blocked, 429, "throttled")
    assert 0 < int(blocked["Retry-After"]) <= settings.API_KEY_FAILURE_WINDOW
    error_of(_api(secret).get("/api/v1/region"), 429, "throttled")  # even the right key, from there
    assert _api(secret, address=OTHER).get("/api/v1/region").status_code == 200


def test_malformed_keys_count_as_guesses(member, settings):
    settings.API_KEY_FAILURE_LIMIT = 3
    for value in ("no-dot", ".", "x" * 300):
        error_of(_api(value).get("/api/v1/region"), 401, "invalid_api_key")

    error_of(_api("anything.else").get("/api/v1/region"), 429, "throttled")


def test_right_keys_never_count(member, settings):
    settings.API_KEY_FAILURE_LIMIT = 2
    _key, secret = make_api_key(member, scopes=["lookup"])
    for _request in range(5):
        assert _api(secret).get("/api/v1/region").status_code == 200
    error_of(_api("prefix.wrong").get("/api/v1/region"), 401, "invalid_api_key")
