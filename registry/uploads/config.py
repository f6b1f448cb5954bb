"""The pipeline's operating knobs. Each may be set in Django settings under the same name;
these defaults suit production. The per-region limits (rows, bytes, line length, snapshot
ratio) are region policy, not settings."""

from __future__ import annotations

from django.conf import settings

# How many times an upload is tried (a worker killed mid-job counts as a try) before FAILED.
UPLOAD_MAX_ATTEMPTS = "UPLOAD_MAX_ATTEMPTS"
# A job in VALIDATING or APPLYING whose heartbeat is older than this is stuck.
UPLOAD_STALL_SECONDS = "UPLOAD_STALL_SECONDS"
# How often a running job proves it is alive (from a thread with its own connection).
UPLOAD_HEARTBEAT_SECONDS = "UPLOAD_HEARTBEAT_SECONDS"
# Rows parsed between two loads of the staging table and two progress updates.
UPLOAD_CHUNK_ROWS = "UPLOAD_CHUNK_ROWS"
# Error rows kept per upload; the counts stay exact beyond it.
UPLOAD_MAX_ERRORS = "UPLOAD_MAX_ERRORS"
# How long an Idempotency-Key is remembered.
UPLOAD_IDEMPOTENCY_HOURS = "UPLOAD_IDEMPOTENCY_HOURS"

_DEFAULTS: dict[str, int] = {
    UPLOAD_MAX_ATTEMPTS: 3,
    UPLOAD_STALL_SECONDS: 600,
    UPLOAD_HEARTBEAT_SECONDS: 15,
    UPLOAD_CHUNK_ROWS: 20_000,
    UPLOAD_MAX_ERRORS: 100_000,
    UPLOAD_IDEMPOTENCY_HOURS: 24,
}


def knob(name: str) -> int:
    return int(getattr(settings, name, _DEFAULTS[name]))
