"""A real gunicorn serving the project on a free loopback port, as production starts it
(``deploy/gunicorn.conf.py``) but with the benchmark's settings module and two workers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from django.conf import settings

HOST = "127.0.0.1"
SETTINGS_MODULE = "registry.benchmark.settings"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class GunicornServer:
    """``with GunicornServer(database_url=…) as server:`` starts gunicorn, waits until it
    answers, and stops it (the process it started, nothing else) on the way out."""

    def __init__(
        self, *, database_url: str, cache_url: str, workers: int = 2, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.workers = workers
        self.database_url = database_url
        self.cache_url = cache_url
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir = tempfile.TemporaryDirectory(prefix="registry-bench-")
        self.log_path = Path(self._log_dir.name) / "gunicorn.log"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
                "DJANGO_ENV": "development",
                "DEBUG": "false",
                "DATABASE_URL": self.database_url,
                "CACHE_URL": self.cache_url,
                "GUNICORN_WORKERS": str(self.workers),
                "GUNICORN_BIND": f"{HOST}:{self.port}",
                **self.extra_env,
            }
        )
        return env

    def __enter__(self) -> GunicornServer:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                command, cwd=settings.BASE_DIR, env=self.environment(), stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready(timeout=90)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
        self._log_dir.cleanup()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(line for line in text.splitlines() if '"GET ' not in line and '"POST ' not in line)[-4000:]

    def worker_restarts(self) -> int:
        """Workers gunicorn replaced so far (``max_requests``), from its log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return text.count("Autorestarting worker")
