"""``deploy/run-production-local``: the registry started the way production starts it
(DJANGO_ENV=production with generated secrets, its own PostgreSQL database, Redis, gunicorn
with several workers, two Celery workers, beat), answering probes, metrics and a lookup with
a demo key, carrying a request id into a worker's task logs, and stopped with nothing left."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from tests.registry.uploads.helpers import csv_bytes, row

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "run-production-local"
DEMO_KEY = "demolend.qianhai-demo-key-0001-lookup-upload"
REDIS_DB = 13  # the worker tests use 11 and 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pgids(run: Path) -> set[int]:
    return {int(p.read_text()) for p in run.glob("*.pgid")}


def _processes_in(pgids: set[int]) -> list[str]:
    out = subprocess.run(
        ["/bin/ps", "-e", "-ww", "-o", "pid=,pgid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.split() and int(line.split()[1]) in pgids]


class Registry:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(
        self, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        # As the TLS-terminating proxy forwards it: production redirects plain HTTP to HTTPS.
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


def _multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "registry-test-boundary-7f3a"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        if text.startswith("{"):
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return lines


def test_production_like_run_starts_answers_and_stops_cleanly(postgres_only, tmp_path):
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    client.flushdb()
    client.flushdb()
    redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB + 1}").flushdb()
    s = connection.settings_dict
    database = f"{s['NAME']}_prodlocal"[:63]
    server = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    port = _free_port()
    env = {
        **os.environ,
        "PROD_LOCAL_DIR": str(tmp_path / "prod"),
        "PROD_LOCAL_PORT": str(port),
        "PROD_LOCAL_DATABASE_URL": f"{server}/{database}",
        "PROD_LOCAL_REDIS_DB": str(REDIS_DB),
        "GUNICORN_WORKERS": "2",
    }
    for name in ("DJANGO_ENV", "DATABASE_URL", "TEST_DATABASE_NAME", "CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)
    run_dir = tmp_path / "prod" / "run"
    logs = tmp_path / "prod" / "logs"
    pgids: set[int] = set()
    try:
        started = subprocess.run(  # noqa: S603 (the project's own script)
            [str(SCRIPT), "start", "--demo"], env=env, capture_output=True, text=True, timeout=300
        )
        assert started.returncode == 0, started.stderr[-3000:]
        pgids = _pgids(run_dir)
        assert len(pgids) == 4  # web, two workers, beat
        processes = _processes_in(pgids)
        assert sum("gunicorn" in line for line in processes) >= 3  # the master and two workers
        assert sum("celery" in line and " worker " in f" {line} " for line in processes) >= 2
        assert any(" beat" in line for line in processes)
        registry = Registry(port)

        status, headers, body = registry.call("/healthz", {"X-Request-ID": "prod-local-health-1"})
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["X-Request-ID"] == "prod-local-health-1"
        assert "Strict-Transport-Security" in headers  # production settings are in force
        status, _h, body = registry.call("/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "broker": "ok"}
        # Plain HTTP without the proxy's header is sent to HTTPS, as production does.
        plain = urllib.request.Request(registry.base + "/healthz")  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as redirected:
            urllib.request.build_opener(_NoRedirect).open(plain, timeout=10)
        assert redirected.value.code == 301

        auth = {"Authorization": f"Api-Key {DEMO_KEY}"}
        status, _h, body = registry.call("/api/v1/region", auth)
        assert status == 200, body
        region = json.loads(body)
        assert region["code"]
        status, _h, body = registry.call(f"/api/v1/lookups/RIC/{'ab' * 32}?purpose=UNDERWRITING", auth)
        assert status == 200, body
        assert json.loads(body)["status"] == "CLEAR"

        # An upload sent with a request id is applied by a worker whose log lines carry that id.
        payload, content_type = _multipart({"mode": "delta"}, "nightly.csv", csv_bytes([row("prod-1"), row("prod-2")]))
        status, _h, body = registry.call(
            "/api/v1/uploads",
            {**auth, "Content-Type": content_type, "X-Request-ID": "prod-local-upload-42"},
            body=payload,
        )
        assert status == 202, body
        upload_id = json.loads(body)["id"]
        deadline = time.monotonic() + 120
        state = ""
        while time.monotonic() < deadline and state != "SUCCEEDED":
            state = json.loads(registry.call(f"/api/v1/uploads/{upload_id}", auth)[2])["state"]
            time.sleep(0.5)
        assert state == "SUCCEEDED"
        task_lines = [
            line
            for name in ("worker1", "worker2")
            for line in _json_lines(logs / f"{name}.log")
            if line.get("logger") == "registry.task"
        ]
        applied = [line for line in task_lines if line["task"]["name"] == "registry.tasks.process_upload"]
        ours = [line for line in applied if line["request_id"] == "prod-local-upload-42"]
        assert len(ours) >= 2  # started and finished, in a worker process
        assert ours[-1]["task"]["state"] == "SUCCESS"
        request_lines = [line for line in _json_lines(logs / "web.log") if line.get("logger") == "registry.request"]
        assert any(line["request_id"] == "prod-local-upload-42" for line in request_lines)

        # Metrics: refused without the token; with it, counted over all gunicorn workers.
        assert registry.call("/metrics")[0] == 403
        token = next(
            line.split("=", 1)[1]
            for line in (tmp_path / "prod" / "secrets.env").read_text().splitlines()
            if line.startswith("METRICS_TOKEN=")
        )
        for _ in range(6):
            registry.call("/healthz")
        status, _h, body = registry.call("/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        text = body.decode()
        assert 'registry_uploads{state="SUCCEEDED"}' in text
        assert "registry_broker_up 1.0" in text
        counted = [
            line
            for line in text.splitlines()
            if line.startswith('registry_http_requests_total{method="GET",route="/healthz",status="200"}')
        ]
        assert counted and float(counted[0].rsplit(" ", 1)[1]) >= 7
        # The processes' logs (load_demo's own summary in release.log lists the demo keys on purpose).
        all_logs = "".join(
            (logs / f"{name}.log").read_text(errors="replace") for name in ("web", "worker1", "worker2", "beat")
        )
        for secret_line in (tmp_path / "prod" / "secrets.env").read_text().splitlines():
            assert secret_line.split("=", 1)[1] not in all_logs
        assert DEMO_KEY.split(".", 1)[1] not in all_logs
    finally:
        stopped = subprocess.run(  # noqa: S603
            [str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=120
        )
        left = _processes_in(pgids) if pgids else []
        for line in left:  # never leave processes behind, even when the test failed
            os.killpg(int(line.split()[1]), 9)
        _drop_database(database)
    assert stopped.returncode == 0, stopped.stderr
    assert left == []
    assert list(run_dir.glob("*.pid")) == []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _drop_database(name: str) -> None:
    import psycopg2

    s = connection.settings_dict
    conn = psycopg2.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"] or "postgres", dbname="postgres"
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()
