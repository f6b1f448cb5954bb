from __future__ import annotations

# The registry's fixtures: eager Celery tasks, a fresh hash-key cache per test.
from tests.registry.conftest import _fresh_key_cache, eager_celery

__all__ = ["_fresh_key_cache", "eager_celery"]
