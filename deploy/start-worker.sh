#!/usr/bin/env bash
# Production Celery worker. Tasks are acks_late and idempotent: a killed worker's task is redelivered.
# --quiet: no start-up banner, so the log stays one JSON object per line.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
exec .venv/bin/celery -A config --quiet worker --loglevel INFO -n "${WORKER_NAME:-worker}@%h" --concurrency "${WORKER_CONCURRENCY:-2}" --max-memory-per-child 400000
