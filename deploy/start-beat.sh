#!/usr/bin/env bash
# Production Celery beat: exactly one per deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
exec .venv/bin/celery -A config --quiet beat --loglevel INFO --schedule "${REGISTRY_VAR_DIR:-var}/celerybeat-schedule"
