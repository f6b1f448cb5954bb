"""Each request's id and client address, as the audit log records them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from tests.factories import make_api_key


def _hash_key_read_ip(member, forwarded: str) -> str | None:  # type: ignore[no-untyped-def]
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_X_FORWARDED_FOR=forwarded)
    assert client.get("/api/v1/region/hash-key").status_code == 200
    return AuditEvent.objects.get(action="hash_key.read").ip


def test_request_id_supplied_by_the_caller_is_echoed(db):
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID="caller-chosen-id-42")
    assert response["X-Request-ID"] == "caller-chosen-id-42"


def test_request_without_an_id_gets_a_fresh_one(db):
    first = APIClient().get("/healthz")["X-Request-ID"]
    second = APIClient().get("/healthz")["X-Request-ID"]
    assert first != second
    assert len(first) == 32


def test_client_address_is_the_peer_by_default(member):
    assert _hash_key_read_ip(member, "203.0.113.5") == "10.0.0.1"


def test_client_address_is_the_last_forwarded_hop_behind_a_trusted_proxy(member, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    assert _hash_key_read_ip(member, "198.51.100.1, 203.0.113.5") == "203.0.113.5"


@pytest.mark.parametrize("forwarded", ["not-an-ip", "203.0.113.5, <script>", "999.1.1.1"])
def test_malformed_forwarded_address_falls_back_to_the_peer(member, settings, forwarded):
    settings.TRUST_X_FORWARDED_FOR = True
    assert _hash_key_read_ip(member, forwarded) == "10.0.0.1"


def test_ipv6_client_address_is_recorded(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient(REMOTE_ADDR="2001:db8::1")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    client.get("/api/v1/region/hash-key")
    assert AuditEvent.objects.get(action="hash_key.read").ip == "2001:db8::1"
