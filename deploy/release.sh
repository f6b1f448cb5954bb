#!/usr/bin/env bash
# Run once per release, before the new processes start: install, check, migrate, collect static.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
[ -x .venv/bin/python ] || python3.11 -m venv .venv
# SKIP_INSTALL=1 when the virtualenv is known to be current (deploy/run-production-local).
[ "${SKIP_INSTALL:-0}" = 1 ] || .venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python manage.py check --deploy --fail-level "${DEPLOY_CHECK_FAIL_LEVEL:-WARNING}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput
