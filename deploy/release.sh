#!/usr/bin/env bash
# Run once per release, before the new processes start: install, check, migrate, collect static.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ENV=production
[ -x .venv/bin/python ] || python3.11 -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python manage.py check --deploy --fail-level WARNING
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput
