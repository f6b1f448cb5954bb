"""The load driver: a few client threads on the loopback, each sending ready-made requests on
its own connection, bounded in time and in count.

A minimal HTTP/1.1 client on a plain socket, so that the client's own cost per request stays
small next to the server's on a two-core machine. It keeps its connection open while the
server does; gunicorn's sync workers close it after each response, so the client connects
anew then, as any client of such a server does, and the connect is part of the latency.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_REQUESTS_PER_PHASE = 2_000_000
_TIMEOUT = 30.0


class HttpError(Exception):
    pass


class Client:
    """One connection's worth of HTTP/1.1 (requests without bodies, or with a ready-made one)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = bytearray()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._buffer = bytearray()
        return sock

    def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one complete request; return (status, body)."""
        sock = self._sock or self._connect()
        try:
            sock.sendall(request)
            return self._read_response(sock)
        except OSError:
            self.close()
            raise

    def _recv(self, sock: socket.socket) -> bool:
        chunk = sock.recv(262144)
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def _read_response(self, sock: socket.socket) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self._buffer:
            if not self._recv(sock):
                raise HttpError("connection closed before the response headers")
        head, _sep, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        close = False
        for line in lines[1:]:
            name, _colon, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        self._buffer = bytearray(rest)
        if length is None:  # the body runs to the end of the connection
            while self._recv(sock):
                pass
            body = bytes(self._buffer)
            self.close()
            return status, body
        while len(self._buffer) < length:
            if not self._recv(sock):
                raise HttpError("connection closed inside the response body")
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        if close:
            self.close()
        return status, body


def get_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def post_json_request(host: str, port: int, path: str, headers: dict[str, str], body: Any) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + payload


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0  # connection errors, timeouts

    @property
    def errors(self) -> int:
        return self.failures + sum(count for status, count in self.statuses.items() if status != 200)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_load(
    *, host: str, port: int, requests: list[bytes], clients: int, seconds: float, max_requests: int | None = None
) -> LoadResult:
    """``clients`` threads send ``requests`` round-robin for ``seconds`` (and at most
    ``max_requests`` in all); every response is read whole before the next request."""
    cap = min(max_requests or MAX_REQUESTS_PER_PHASE, MAX_REQUESTS_PER_PHASE)
    lock = threading.Lock()
    counter = {"sent": 0}
    results = [LoadResult() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def worker(number: int) -> None:
        result = results[number]
        client = Client(host, port)
        index = number
        start.wait()
        deadline = time.perf_counter() + seconds
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if counter["sent"] >= cap:
                        break
                    counter["sent"] += 1
                request = requests[index % len(requests)]
                index += clients
                before = time.perf_counter()
                try:
                    status, _body = client.send(request)
                except (OSError, HttpError, ValueError):
                    result.failures += 1
                    result.requests += 1
                    continue
                result.latencies.append(time.perf_counter() - before)
                result.statuses[status] += 1
                result.requests += 1
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 2 * _TIMEOUT)
    total = LoadResult(seconds=time.perf_counter() - began)
    for result in results:
        total.requests += result.requests
        total.latencies += result.latencies
        total.statuses.update(result.statuses)
        total.failures += result.failures
    return total


def timed_request(host: str, port: int, request: bytes) -> tuple[float, int, bytes]:
    """One request on a new connection: (seconds to the last byte of the response, status, body)."""
    client = Client(host, port)
    try:
        started = time.perf_counter()
        status, body = client.send(request)
        return time.perf_counter() - started, status, body
    finally:
        client.close()
