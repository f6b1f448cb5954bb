from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.celery import app as celery_app
from registry.services import lookups


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks queued with ``transaction.on_commit`` run at once, in the test, and raise on failure."""
    before = {name: celery_app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    celery_app.conf.update(before)


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    """The lookup service caches each region's hash keys per process; a test starts without them
    (on SQLite the ids of a rolled-back test's region and keys are used again by the next test)."""
    lookups._key_cache.clear()
    yield
    lookups._key_cache.clear()
