"""Settings of the benchmark's gunicorn: the project's own, plus the ceiling view's URLconf.

``config.settings`` knows nothing of the benchmark; the benchmark points
``DJANGO_SETTINGS_MODULE`` here instead.
"""

import os as _os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"

# The import benchmark's web server and worker meet on a queue of their own (see
# ``registry.benchmark.worker``), so that other workers on the same Redis never take its jobs.
CELERY_TASK_DEFAULT_QUEUE = _os.environ.get("BENCH_CELERY_QUEUE", "celery")
