"""A real Celery worker for the import benchmark: ``celery -A config worker`` as production runs
it, over a Redis broker, on a queue of its own (so that nothing else on the same Redis takes
its jobs, nor it theirs), with the benchmark's settings module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from django.conf import settings

from config.celery import app
from registry.benchmark.server import SETTINGS_MODULE


def queue_environment(*, database_url: str, broker_url: str, queue: str, media_root: str) -> dict[str, str]:
    """What the web server and the worker of one run share: the database, the broker and its
    queue, and the folder where received files wait for the worker."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "BENCH_CELERY_QUEUE": queue,
        "MEDIA_ROOT": media_root,
    }


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory of a live process (``VmHWM``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class CeleryWorker:
    """``with CeleryWorker(env) as worker:`` starts one worker (solo pool: the task runs in the
    worker process itself, so its peak memory is the job's), waits until it answers a ping,
    and stops it (the process it started, nothing else) on the way out."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.hostname = f"bench-import-{uuid.uuid4().hex[:8]}@localhost"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir = tempfile.TemporaryDirectory(prefix="registry-bench-worker-")
        self.log_path = Path(self._log_dir.name) / "worker.log"

    def __enter__(self) -> CeleryWorker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-n",
            self.hostname,
            "-Q",
            self.environment["BENCH_CELERY_QUEUE"],
            "-l",
            "WARNING",
        ]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 (a fixed command line of the project's own worker)
                command,
                cwd=settings.BASE_DIR,
                env={**os.environ, **self.environment},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(timeout=90)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
        self._log_dir.cleanup()

    def _wait_ready(self, timeout: float) -> None:
        app.conf.broker_url = self.environment["CELERY_BROKER_URL"]  # type: ignore[misc]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"The Celery worker exited with {self._process.returncode}:\n{self.log_tail()}")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        raise RuntimeError(f"The Celery worker did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""
