#!/usr/bin/env bash
# Production web process: migrations are applied by the release step (deploy/release.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
exec .venv/bin/gunicorn config.wsgi:application -c deploy/gunicorn.conf.py
