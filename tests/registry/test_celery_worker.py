"""Celery paths with a real worker process and a real Redis broker (not eager mode).

The worker is a separate process, so it sees only committed data: these tests use
transactional test databases and run on PostgreSQL (the SQLite test database lives in the
test process's memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app
from lenders.actors import Actor
from lenders.services.regions import region_update_policy
from registry.models import RecomputeJob
from registry.services.lookups import lookup_subject
from tests.registry.helpers import member_actor, subject, submit

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/{db}"


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _wait_for(predicate, seconds: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    """Poll a condition that another process makes true (bounded; the worker is asynchronous)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def celery_worker(postgres_only: None, transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process on its own Redis database, and the app pointed at it."""
    broker = REDIS_URL.format(db=11)
    client = redis.Redis.from_url(broker)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "PYTHONPATH": str(ROOT),
    }
    hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
    worker = subprocess.Popen(  # noqa: S603 (a fixed command line of the project's own worker)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", hostname, "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    previous = app.conf.broker_url
    app.conf["broker_url"] = broker
    app._after_fork()  # type: ignore[attr-defined]  # drop the pools made for the previous broker
    try:
        assert _wait_for(lambda: bool(app.control.ping(destination=[hostname], timeout=0.5)), 30), (
            "worker did not start"
        )
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.conf["broker_url"] = previous
        app._after_fork()  # type: ignore[attr-defined]
        client.flushdb()


@pytest.mark.django_db(transaction=True)
def test_a_policy_change_is_recomputed_by_a_real_worker(celery_worker, region, member, other_member):
    h = subject("policy")
    submit(member, h)
    submit(other_member, h)
    before = lookup_subject(actor=member_actor(member), id_type="RIC", subject_hash=h, purpose="UNDERWRITING")
    assert (before["status"], before["black_score"]) == ("BLACK", 84)

    region_update_policy(region=region, actor=Actor.system("tests"), changes={"black_score_threshold": 90})

    job = RecomputeJob.objects.get(region=region)
    assert _wait_for(lambda: RecomputeJob.objects.get(pk=job.pk).state == RecomputeJob.State.SUCCEEDED)
    job.refresh_from_db()
    assert job.chunks_done == job.chunks_total > 0
    after = lookup_subject(actor=member_actor(member), id_type="RIC", subject_hash=h, purpose="UNDERWRITING")
    assert (after["status"], after["black_score"]) == ("WATCH", 84)
