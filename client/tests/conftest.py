"""Shared fixtures of the client's tests: the spec's test key, a run of the command line in this
process, and a small fake of the registry's API (``http.server`` in a thread on 127.0.0.1) that
checks what the client sends and answers the way ``api.md`` says. No Django: the client installs
and is tested alone."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from registry_client.cli import main

HERE = Path(__file__).parent
VECTORS = json.loads((HERE / "hash-vectors.json").read_text(encoding="utf-8"))
API_KEY = "testkey1.secret-part-of-the-test-key"


@pytest.fixture(autouse=True)
def _no_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_URL", raising=False)
    monkeypatch.delenv("REGISTRY_API_KEY", raising=False)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "region-key.json"
    path.write_text(json.dumps({"key_id": VECTORS["key_id"], "key_b64": VECTORS["key_b64"]}), encoding="utf-8")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out.strip().splitlines()[-1])


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Result:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# -- the fake registry ----------------------------------------------------------------------------
@dataclass
class Part:
    content: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def multipart(self) -> dict[str, Part]:
        return parse_multipart(self.headers["Content-Type"], self.body)


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """A strict reading of RFC 7578: fails on anything malformed."""
    kind, _, boundary = content_type.partition("; boundary=")
    assert kind == "multipart/form-data" and boundary
    delimiter = b"--" + boundary.encode("ascii")
    closing = delimiter + b"--\r\n"
    assert body.startswith(delimiter + b"\r\n") and body.endswith(closing)
    sections = body[: -len(closing)].split(delimiter)
    assert sections[0] == b""
    parts = {}
    for section in sections[1:]:
        assert section.startswith(b"\r\n") and section.endswith(b"\r\n")
        head, separator, content = section[2:-2].partition(b"\r\n\r\n")
        assert separator
        headers = dict(line.split(": ", 1) for line in head.decode("ascii").split("\r\n"))
        disposition = headers["Content-Disposition"]
        assert disposition.startswith("form-data; ")
        name = re.search(r' name="([^"]*)"', disposition)
        filename = re.search(r' filename="([^"]*)"', disposition)
        assert name
        parts[name.group(1)] = Part(content, filename.group(1) if filename else None, headers.get("Content-Type"))
    return parts


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


@dataclass
class FakeRegistry:
    """What the fake answers. ``scripted`` answers come first, per (method, API path), one each
    request: (status, headers, JSON body). ``progress`` is the series of answers to
    ``GET uploads/{id}`` after the upload is made (the last one repeats)."""

    url: str = ""
    api_key: str = API_KEY
    requests: list[Request] = field(default_factory=list)
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, str], Any]]] = field(default_factory=dict)
    upload_status: int = 202
    progress: list[dict[str, Any]] = field(default_factory=list)
    errors_csv: bytes = (
        b"line,column,code,message\n3,subject_hash,invalid_hash,subject_hash must be 64 hex characters\n"
    )
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.scripted.setdefault((method, path), []).append((status, headers or {}, body))

    def requests_to(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.split("/api/v1/", 1)[-1] == path]

    def answer(self, request: Request) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append(request)
            path = request.path.split("?", 1)[0].split("/api/v1/", 1)[-1].rstrip("/")
            queue = self.scripted.get((request.method, path))
            if queue:
                return queue.pop(0)
            if request.headers.get("Authorization") != f"Api-Key {self.api_key}":
                return 401, {}, error_body("not_authenticated", "Authentication credentials were not provided.")
            if request.method == "GET" and path == "region/hash-key":
                return 200, {}, {"key_id": VECTORS["key_id"], "algorithm": "HMAC-SHA256", "key_b64": VECTORS["key_b64"]}
            if request.method == "POST" and path == "uploads":
                return self._create(request)
            match = re.fullmatch(r"uploads/([^/]+)(/errors)?", path)
            if request.method == "GET" and match:
                upload = self.uploads.get(match.group(1))
                if upload is None:
                    return 404, {}, error_body("not_found", "No such upload.")
                if match.group(2):
                    return 200, {"Content-Type": "text/csv; charset=utf-8"}, self.errors_csv
                if self.progress:
                    upload.update(self.progress.pop(0) if len(self.progress) > 1 else self.progress[0])
                return 200, {}, upload
            return 404, {}, error_body("not_found", f"Nothing at {request.path}.")

    def _create(self, request: Request) -> tuple[int, dict[str, str], Any]:
        assert request.headers["Content-Length"] == str(len(request.body))
        parts = request.multipart()
        upload_id = str(41 + len(self.uploads))
        upload = {
            "id": int(upload_id),
            "state": "QUEUED",
            "mode": parts["mode"].content.decode(),
            "error_policy": parts["error_policy"].content.decode(),
            "key_id": parts["key_id"].content.decode() if "key_id" in parts else VECTORS["key_id"],
            "rows_total": None,
            "rows_processed": 0,
            "counts": {"created": 0, "updated": 0, "unchanged": 0, "withdrawn": 0, "invalid": 0},
        }
        self.uploads[upload_id] = upload
        return self.upload_status, {}, dict(upload)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
        status, headers, payload = self.server.registry.answer(request)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    registry: FakeRegistry


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.registry = FakeRegistry()
    server.registry.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.registry
    server.shutdown()
    server.server_close()
    thread.join(5)
