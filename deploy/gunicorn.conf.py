"""Gunicorn settings for the registry's web process (production)."""

import multiprocessing
import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Load the project once in the master: a replaced worker then starts in milliseconds, not
# the 1.25 s of CPU a fresh import costs. Workers are still recycled now and then.
preload_app = True
max_requests = 100000
max_requests_jitter = 10000
# Uploads are streamed to disk; keep header limits tight.
limit_request_line = 8190
limit_request_fields = 100
# No access log: the application writes one JSON line per request (core/request_context.py)
# with the request id, the route and the path with subject hashes masked. Gunicorn's own
# access line would print the raw path, hashes included.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
    },
}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multiprocess mode (core/metrics.py): every worker writes its counters to its own
# file in this folder and /metrics adds them up. Set before the project (and prometheus_client)
# is loaded; emptied when the server starts, so counters restart from zero with it.
_var = Path(os.environ.get("REGISTRY_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus"))


def on_starting(server):  # type: ignore[no-untyped-def]
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
