"""Settings of the benchmark's gunicorn: the project's own, plus the ceiling view's URLconf.

``config.settings`` knows nothing of the benchmark; the benchmark points
``DJANGO_SETTINGS_MODULE`` here instead.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
