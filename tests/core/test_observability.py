"""Structured logs with the request id (in the web process and in tasks) and the protected
Prometheus endpoint."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.logging import JsonFormatter
from core.models import AuditEvent
from core.request_context import TASK_HEADER, RequestIdLogFilter, masked_path, request_context
from registry.choices import UploadState
from registry.tasks import purge_data
from tests.factories import make_api_key
from tests.registry.helpers import member_actor, set_policy, subject, submit

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The root logger's lines as production writes them (JSON formatter, request id filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _request_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "registry.request"]


def test_each_request_writes_one_json_line_with_its_id(db, json_log):
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID="ops-check-0001")

    (line,) = _request_lines(json_log())
    assert response["X-Request-ID"] == "ops-check-0001"
    assert line["request_id"] == "ops-check-0001"
    assert line["level"] == "INFO"
    http = line["http"]
    assert (http["method"], http["path"], http["route"], http["status"]) == ("GET", "/healthz", "/healthz", 200)
    assert isinstance(http["duration_ms"], float) and http["duration_ms"] >= 0
    assert line["ts"].endswith("Z")


def test_request_line_of_a_lookup_names_the_route_not_the_subject_hash(member, json_log):
    submit(member, subject(1))
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = client.get(f"/api/v1/lookups/RIC/{subject(1)}?purpose=UNDERWRITING")

    assert response.status_code == 200
    text = json.dumps(json_log())
    assert subject(1) not in text
    assert secret not in text
    (line,) = _request_lines(json_log())
    assert line["http"]["route"] == "/api/v1/lookups/<str:id_type>/<str:subject_hash>"
    assert line["http"]["path"] == "/api/v1/lookups/RIC/:masked"


def test_unknown_path_is_logged_with_long_numbers_masked(db, json_log):
    assert APIClient().get("/api/v1/nothing/360426199101010071").status_code == 404
    (line,) = _request_lines(json_log())
    assert line["http"] | {"duration_ms": 0} == {
        "method": "GET",
        "path": "/api/v1/nothing/:masked",
        "route": "unmatched",
        "status": 404,
        "duration_ms": 0,
        "client_ip": "127.0.0.1",
    }


def test_masked_path_keeps_ordinary_ids():
    assert masked_path("/api/v1/uploads/42") == "/api/v1/uploads/42"
    assert masked_path("/subjects/RIC/" + "ab" * 32 + "/") == "/subjects/RIC/:masked/"


def test_credentials_and_deployment_secrets_never_reach_a_line(settings, json_log):
    settings.SECRET_KEY = "a-very-secret-django-key-that-must-not-leak-0123456789"
    logging.getLogger("registry.test").warning(
        "caller sent Authorization: Api-Key abcd1234.secretpart and Bearer tok3n, key %s", settings.SECRET_KEY
    )
    (line,) = json_log()
    assert "secretpart" not in line["message"] and "tok3n" not in line["message"]
    assert settings.SECRET_KEY not in line["message"]
    assert "Api-Key [redacted]" in line["message"]


def test_a_task_logs_and_audits_with_the_request_id_from_its_headers(region, member, json_log):
    """The header a web request puts on the task message is bound while the task runs: its log
    lines and the audit events it writes name the request."""
    submit(member, subject(1))
    set_policy(region, entry_purge_grace_days=0)
    from registry.services.entries import entry_withdraw
    from tests.registry.helpers import entry_of

    entry_withdraw(actor=member_actor(member), entry_id=entry_of(member, subject(1)).pk)

    purge_data.apply(headers={TASK_HEADER: "web-request-77"})

    event = AuditEvent.objects.get(action="data.purge")
    assert event.request_id == "web-request-77"
    task_lines = [line for line in json_log() if line["logger"] == "registry.task"]
    assert [line["request_id"] for line in task_lines] == ["web-request-77", "web-request-77"]
    assert task_lines[0]["task"]["name"] == "registry.tasks.purge_data"
    assert task_lines[1]["task"]["state"] == "SUCCESS"


def test_a_task_published_in_a_request_carries_its_id_in_the_headers():
    from config.celery import app

    headers: dict[str, Any] = {}
    with request_context(request_id="request-abc-123"):
        from celery import signals

        signals.before_task_publish.send(sender="registry.tasks.purge_data", headers=headers, body=None)
    assert headers[TASK_HEADER] == "request-abc-123"
    assert app.conf.worker_hijack_root_logger is False


# -- /metrics ---------------------------------------------------------------------------------------


def _scrape(client: APIClient | None = None, **headers: Any) -> Any:
    return (client or APIClient()).get("/metrics", **headers)


def test_metrics_are_off_unless_configured(db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    response = _scrape(HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", f"Basic {METRICS_TOKEN}", "Bearer"])
def test_metrics_refuse_a_caller_without_the_token(db, settings, authorization):
    settings.METRICS_TOKEN = METRICS_TOKEN
    response = _scrape(HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert b"registry_" not in response.content


def test_metrics_answer_an_allowed_address_without_token(db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert _scrape(APIClient(REMOTE_ADDR="10.1.2.3")).status_code == 200
    assert _scrape(APIClient(REMOTE_ADDR="10.2.0.1")).status_code == 403


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _sep, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_count_requests_lookups_and_uploads(member, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {METRICS_TOKEN}"}
    submit(member, subject(1))
    _key, secret = make_api_key(member, scopes=["lookup"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    before = _samples(_scrape(**auth).content.decode())

    assert client.get(f"/api/v1/lookups/RIC/{subject(1)}?purpose=UNDERWRITING").status_code == 200
    batch = {"purpose": "UNDERWRITING", "subjects": [{"id_type": "RIC", "subject_hash": subject(n)} for n in range(3)]}
    assert client.post("/api/v1/lookups/batch", batch, format="json").status_code == 200
    response = _scrape(**auth)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    after = _samples(text)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    route = "/api/v1/lookups/<str:id_type>/<str:subject_hash>"
    assert grew(f'registry_http_requests_total{{method="GET",route="{route}",status="200"}}') == 1
    assert grew(f'registry_http_request_duration_seconds_count{{method="GET",route="{route}"}}') == 1
    assert grew('registry_lookup_subjects_total{kind="single"}') == 1
    assert grew('registry_lookup_subjects_total{kind="batch"}') == 3
    for state in UploadState.values:
        assert f'registry_uploads{{state="{state}"}} 0.0' in text
    assert "registry_broker_up" in text
    assert subject(1) not in text


def test_a_refused_scrape_is_itself_counted_as_a_403(db, settings):
    """The refused scrape itself is an ordinary request: it shows up as a 403 of the route."""
    settings.METRICS_TOKEN = METRICS_TOKEN
    _scrape()
    text = _scrape(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode()
    assert 'registry_http_requests_total{method="GET",route="/metrics",status="403"}' in text


def test_metrics_show_open_dispute_items_near_their_deadline(member, settings):
    from registry.services.disputes import dispute_file

    settings.METRICS_TOKEN = METRICS_TOKEN
    member.region = set_policy(member.region, response_days=2)  # the actor reads the new deadline
    submit(member, subject(9))
    dispute_file(
        actor=member_actor(member), id_type="RIC", subject_hash=subject(9), grounds="NOT_ME", statement="Not me."
    )

    text = _scrape(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode()

    samples = _samples(text)
    assert samples['registry_dispute_items_due{window="within_3_days"}'] == 1
    assert samples['registry_dispute_items_due{window="today"}'] == 0
    assert samples['registry_dispute_items_due{window="overdue"}'] == 0
