"""Per-key lookup limits (api.md, Limits): lookups have their own rate, a batch counts as one
request, and a refusal is a 429 with Retry-After that records nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lenders.actors import Actor
from lenders.services.regions import region_update_policy
from registry.models import LookupRecord
from tests.registry.helpers import subject


@pytest.fixture
def one_window(monkeypatch) -> None:
    """Every request of the test falls into the same one-minute window, 15 s before its end."""
    monkeypatch.setattr("lenders.api.throttling.time", SimpleNamespace(time=lambda: 60 * 2_000_000 + 45.0))


def _lookup(client, n: int):
    return client.get(f"/api/v1/lookups/RIC/{subject(n)}?purpose=UNDERWRITING")


def test_the_lookup_rate_refuses_the_request_over_it_with_retry_after(one_window, region, member, key_client):
    region_update_policy(region=region, actor=Actor.system("tests"), changes={"lookup_rate_per_minute": 2})
    client = key_client(member, scopes=["lookup"])
    assert [_lookup(client, n).status_code for n in range(2)] == [200, 200]
    refused = _lookup(client, 3)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert refused["Retry-After"] == "15"
    assert LookupRecord.objects.count() == 2


def test_a_batch_counts_as_one_request(one_window, region, member, key_client):
    region_update_policy(region=region, actor=Actor.system("tests"), changes={"lookup_rate_per_minute": 2})
    client = key_client(member, scopes=["lookup"])
    body = {"purpose": "UNDERWRITING", "subjects": [{"id_type": "RIC", "subject_hash": subject(n)} for n in range(50)]}
    statuses = [client.post("/api/v1/lookups/batch", body, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert LookupRecord.objects.count() == 100


def test_lookups_do_not_use_up_the_general_rate(one_window, region, member, key_client):
    region_update_policy(
        region=region, actor=Actor.system("tests"), changes={"lookup_rate_per_minute": 100, "api_rate_per_minute": 1}
    )
    client = key_client(member, scopes=["lookup", "entries"])
    assert [_lookup(client, n).status_code for n in range(5)] == [200] * 5
    assert client.get("/api/v1/entries").status_code == 200
    assert client.get("/api/v1/entries").status_code == 429


def test_each_key_has_its_own_lookup_count(one_window, region, member, other_member, key_client):
    region_update_policy(region=region, actor=Actor.system("tests"), changes={"lookup_rate_per_minute": 1})
    first, second = key_client(member, scopes=["lookup"]), key_client(other_member, scopes=["lookup"])
    assert [_lookup(first, 1).status_code, _lookup(second, 1).status_code] == [200, 200]
    assert _lookup(first, 2).status_code == 429
