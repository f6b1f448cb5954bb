"""The one error shape of ``api.md`` for every status code the API answers with."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from django.test import Client
from rest_framework.test import APIClient

from lenders.actors import Actor
from lenders.services.regions import region_update_policy
from tests.core.error_shape import assert_error, assert_no_leak
from tests.core.failing_urls import FAILURE_TEXT
from tests.factories import make_api_key


@pytest.fixture
def operator_client(region) -> APIClient:
    _key, secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


# -- 400 -----------------------------------------------------------------------------------


def test_400_validation_error_names_the_field_in_details(operator_client, member):
    response = operator_client.patch(f"/api/v1/members/{member.pk}", {"trust_weight": 2}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["trust_weight"]
    assert isinstance(error["details"]["trust_weight"], list)
    assert "trust_weight" in error["message"]


def test_400_unknown_field_is_named_in_details(operator_client, member):
    response = operator_client.patch(f"/api/v1/members/{member.pk}", {"trust_wieght": 0.5}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["trust_wieght"]


def test_400_malformed_json_is_a_parse_error(operator_client, member):
    response = operator_client.patch(
        f"/api/v1/members/{member.pk}", data='{"trust_weight": ', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_400_json_that_is_not_an_object_is_refused(operator_client, member):
    response = operator_client.patch(f"/api/v1/members/{member.pk}", data="[1, 2]", content_type="application/json")
    assert_error(response, 400, "validation_error")


# -- 401, 403, 404, 405 --------------------------------------------------------------------


def test_401_without_credentials(db):
    response = APIClient().get("/api/v1/members")
    assert_error(response, 401, "not_authenticated")


def test_403_for_an_endpoint_the_caller_may_not_use(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert_error(client.get("/api/v1/members"), 403, "permission_denied")


def test_404_for_an_unknown_object_id(operator_client):
    assert_error(operator_client.get("/api/v1/members/987654"), 404, "not_found")


def test_404_for_an_unknown_hash_key_id(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert_error(client.get("/api/v1/region/hash-key", {"key_id": "no-such-key"}), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/no-such-endpoint", "/api/v1/members/not-a-number", "/api/v2/region"])
def test_404_for_an_unknown_api_path(db, path):
    assert_error(Client().get(path), 404, "not_found")


def test_405_for_a_wrong_method(operator_client, member):
    response = operator_client.delete(f"/api/v1/members/{member.pk}")
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]


def test_405_for_post_on_a_read_only_endpoint(operator_client):
    assert_error(operator_client.post("/api/v1/region", {}, format="json"), 405, "method_not_allowed")


# -- 413, 415 ------------------------------------------------------------------------------


def test_413_for_a_json_body_over_the_upload_limit(operator_client, member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"trust_weight": "0.5", "padding": "x" * 2048})
    response = operator_client.patch(f"/api/v1/members/{member.pk}", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")
    member.refresh_from_db()
    assert str(member.trust_weight) == "1.000"


def test_415_for_a_body_of_the_wrong_media_type(operator_client, member):
    response = operator_client.patch(f"/api/v1/members/{member.pk}", data="trust_weight=0.5", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    member.refresh_from_db()
    assert str(member.trust_weight) == "1.000"


# -- 429 -----------------------------------------------------------------------------------


@pytest.fixture
def frozen_throttle_clock(monkeypatch) -> None:
    """All requests of a test fall into the same rate window, 20 s before its end."""
    monkeypatch.setattr("lenders.api.throttling.time", SimpleNamespace(time=lambda: 60 * 1_000_000 + 40.0))


def test_429_after_the_regions_rate_with_retry_after(frozen_throttle_clock, region, member):
    region_update_policy(region=region, actor=Actor.system("tests"), changes={"api_rate_per_minute": 2})
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert [client.get("/api/v1/region").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/region")
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "20"


def test_rate_is_counted_per_key(frozen_throttle_clock, region, member):
    region_update_policy(region=region, actor=Actor.system("tests"), changes={"api_rate_per_minute": 2})
    clients = []
    for _ in range(2):
        _key, secret = make_api_key(member, scopes=["lookup"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        clients.append(client)
    statuses = [client.get("/api/v1/region").status_code for client in clients for _ in range(2)]
    assert statuses == [200, 200, 200, 200]


# -- 500 -----------------------------------------------------------------------------------


@pytest.mark.urls("tests.core.failing_urls")
def test_500_from_an_api_view_is_the_shape_without_a_traceback(db, caplog):
    with caplog.at_level(logging.ERROR):
        response = Client(raise_request_exception=False).get("/api/v1/test-failure")
    error = assert_error(response, 500, "server_error", FAILURE_TEXT, "c2VjcmV0LWtleS1ieXRlcw==")
    assert error["details"] == {}
    assert any(record.exc_info for record in caplog.records), "the failure is logged for the operator"


@pytest.mark.urls("tests.core.failing_urls")
def test_500_from_a_plain_view_under_api_is_the_shape(db):
    response = Client(raise_request_exception=False).get("/api/v1/test-plain-failure")
    assert_error(response, 500, "server_error", FAILURE_TEXT, "c2VjcmV0LWtleS1ieXRlcw==")


# -- the request id ------------------------------------------------------------------------


def test_error_response_echoes_the_request_id(db):
    response = APIClient().get("/api/v1/region", HTTP_X_REQUEST_ID="req-error-0001")
    assert response["X-Request-ID"] == "req-error-0001"


def test_malformed_request_id_is_replaced_by_a_fresh_one(db):
    response = APIClient().get("/api/v1/region", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"
    assert len(response["X-Request-ID"]) == 32


def test_hash_key_never_appears_in_an_error(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    key_b64 = client.get("/api/v1/region/hash-key").json()["key_b64"]
    response = client.get("/api/v1/region/hash-key", {"key_id": key_b64})
    assert_error(response, 404, "not_found", key_b64)
    assert_no_leak(client.get("/api/v1/members"), key_b64)
