#!/usr/bin/env bash
# Production Celery worker. Tasks are acks_late and idempotent: a killed worker's task is redelivered.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
exec .venv/bin/celery -A config worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}" --max-memory-per-child 400000
