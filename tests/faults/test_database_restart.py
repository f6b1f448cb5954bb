"""The database restarted while lookups are served (``quality.md``, Reliability): while it is
down every request answers 503 with ``Retry-After`` in the error shape (never a 500, never a
hang), and once it is back the same web server process answers again by itself.

A private PostgreSQL cluster (tests/faults/processes.py) is stopped and started under a real
gunicorn; the shared server is never touched."""

from __future__ import annotations

import json

import pytest

from registry_client.hashing import SubjectHasher
from tests.faults.conftest import DEMO_KEY
from tests.faults.processes import WebServer, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _hash_of(server: WebServer, raw: str) -> str:
    import base64

    status, _headers, body = server.get("/api/v1/region/hash-key", headers={"Authorization": DEMO_KEY})
    assert status == 200, body
    key = json.loads(body)
    return SubjectHasher(base64.b64decode(key["key_b64"]), key["key_id"]).hash("RIC", raw).subject_hash


def test_lookups_answer_503_while_the_database_restarts_and_recover_in_the_same_process(
    private_postgres, demo_env, web_server, tmp_path
):
    server = WebServer(demo_env, tmp_path / "web.log")
    web_server.append(server)
    lookup = f"/api/v1/lookups/RIC/{_hash_of(server, '360426199101010071')}?purpose=UNDERWRITING"
    auth = {"Authorization": DEMO_KEY}
    status, _headers, body = server.get(lookup, headers=auth)
    assert status == 200 and json.loads(body)["status"] == "BLACK"

    private_postgres.stop()
    for _ in range(3):  # the kept connection is dead, then no new one can be made
        status, headers, body = server.get(lookup, headers=auth)
        assert status == 503, body
        assert int(headers["Retry-After"]) > 0
        assert json.loads(body)["error"]["code"] == "unavailable"
    # A portal page of a signed-in person (the session is read from the database): the
    # standalone 503 page, not the error page whose layout would ask the database again.
    status, headers, body = server.get("/entries/", headers={"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"})
    assert status == 503 and int(headers["Retry-After"]) > 0
    assert headers["Content-Type"].startswith("text/html") and b"503" in body
    status, headers, body = server.get("/readyz")
    assert status == 503 and json.loads(body)["checks"]["database"] == "unreachable"

    private_postgres.start()
    wait_until(lambda: server.get(lookup, headers=auth)[0] == 200, 30, "lookups to answer again")
    status, _headers, body = server.get(lookup, headers=auth)
    assert status == 200 and json.loads(body)["status"] == "BLACK"
    assert server.process.poll() is None and server.process.pid == server.pid, "the web server was not restarted"
