"""The Celery application: web, worker and beat share this one configuration."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The web request's id travels to the tasks it queues (core.request_context).
from core.request_context import connect_celery_signals  # noqa: E402

connect_celery_signals()
