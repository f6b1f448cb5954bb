"""Lookups make a fixed number of queries: an N+1 on the hot path fails here first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.registry.helpers import subject, submit

H = subject("counted")


@pytest.fixture
def warm_client(member, other_member, key_client):  # type: ignore[no-untyped-def]
    """A lookup key whose first request has been made: the key's ``last_used_at`` is fresh (no
    touch write) and the lookup service holds the region's hash keys in its cache."""
    submit(member, H)
    submit(other_member, H, "WHITE", "GOOD_REPAYMENT")
    client = key_client(member, scopes=["lookup"])
    assert client.get(f"/api/v1/lookups/RIC/{H}?purpose=UNDERWRITING").status_code == 200
    return client


# A single lookup over HTTP with an API key, on both databases:
#   1. SELECT the API key by its prefix, with its member (or operator) and region joined in;
#   2. one read: the consensus record and the caller's own entry, LEFT JOINed to the subject,
#      with the region's current key_id as a scalar subquery (to notice a key rotation);
#   3. one INSERT of the lookup record.
# Throttle counters live in the cache, not the database.
SINGLE_LOOKUP_QUERIES = 3


def test_a_single_lookup_makes_a_fixed_small_number_of_queries(warm_client, django_assert_num_queries):
    with django_assert_num_queries(SINGLE_LOOKUP_QUERIES):
        response = warm_client.get(f"/api/v1/lookups/RIC/{H}?purpose=UNDERWRITING")
    assert response.status_code == 200
    assert response.json()["conflict"] is True


def test_a_lookup_of_a_never_seen_subject_makes_the_same_queries(warm_client, django_assert_num_queries):
    with django_assert_num_queries(SINGLE_LOOKUP_QUERIES):
        response = warm_client.get(f"/api/v1/lookups/RIC/{subject('never')}?purpose=UNDERWRITING")
    assert response.json()["status"] == "CLEAR"


def _batch_queries(client, size: int) -> int:  # type: ignore[no-untyped-def]
    subjects = [{"id_type": "RIC", "subject_hash": subject(n)} for n in range(size - 1)]
    subjects.append({"id_type": "RIC", "subject_hash": H})
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/lookups/batch", {"purpose": "UNDERWRITING", "subjects": subjects}, format="json"
        )
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == size
    return len(queries)


# A batch, whatever its size:
#   PostgreSQL: 1. the API key; 2. one read joining unnest(types[], hashes[]) to the consensus
#   and the caller's entries; 3. one INSERT … SELECT FROM unnest(…) of every lookup record.
#   SQLite (no arrays): 1. the API key; 2.–4. DROP IF EXISTS, CREATE TEMPORARY TABLE and one
#   executemany INSERT of the subjects into it; 5. the same read joined to that table; 6. DROP
#   it; 7. one executemany INSERT of every lookup record.
BATCH_QUERIES = {"postgresql": 3, "sqlite": 7}


@pytest.mark.parametrize("size", [10, 1000])
def test_a_batch_makes_a_constant_number_of_queries(warm_client, size):
    assert _batch_queries(warm_client, size) == BATCH_QUERIES[connection.vendor]


def test_a_batch_of_1000_makes_as_many_queries_as_a_batch_of_10(warm_client):
    assert _batch_queries(warm_client, 1000) == _batch_queries(warm_client, 10)


def test_the_entry_list_makes_a_constant_number_of_queries(member, key_client):
    client = key_client(member, scopes=["entries"])
    for n in range(3):
        submit(member, subject(f"list-{n}"))
    client.get("/api/v1/entries")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/entries").json()["results"]) == 3
    for n in range(3, 30):
        submit(member, subject(f"list-{n}"))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/entries").json()["results"]) == 30
    assert len(many) == len(few)
