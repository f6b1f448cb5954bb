"""``manage.py benchmark``: at a tiny size, in a database of its own, it reports every figure of
``quality.md`` with positive ratios. A behaviour test: nothing here is timed."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from registry.benchmark import database, imports

# One database per test process: runs on the same server at the same time do not meet.
BENCH_DATABASE = f"registry_bench_test_{os.getpid()}"
TINY = ["--members", "3", "--entries", "2000", "--subjects", "1500", "--duration", "2", "--repeat", "1"]


@pytest.fixture(scope="module", autouse=True)
def _drop_bench_database() -> Iterator[None]:
    yield
    if connection.vendor == "postgresql":
        database.drop(server=database.Server.from_settings(settings.DATABASES["default"]), name=BENCH_DATABASE)


def run_benchmark(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("benchmark", *args, "--database", BENCH_DATABASE, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def assert_positive(value: Any) -> None:
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    assert value > 0 and math.isfinite(value), value


def test_consensus_reports_project_and_naive_recompute_with_their_ratio(postgres_only):
    result = run_benchmark("consensus", *TINY, "--fresh", "--policy-change")
    assert result["benchmark"] == "consensus"
    assert result["sizes"]["entries"] == 2000 and result["sizes"]["subjects"] == 1500
    assert result["dataset"]["reused"] is False
    assert result["machine"]["cores"] >= 1 and result["machine"]["postgresql"]
    for figure in ("recompute", "recompute_after_policy_change", "recompute_naive_sql"):
        assert_positive(result[figure]["median_seconds"])
    for value in result["ratios"].values():
        assert_positive(value)
    # The ceiling computes exactly what the project stores.
    assert result["recompute_naive_sql"]["differences_from_project"] == 0
    # Nothing changed between the fill and the steady-state recompute.
    assert result["recompute"]["runs"][0]["changed"] == 0
    assert result["recompute_after_policy_change"]["runs"][0]["changed"] > 0
    assert set(result["targets"]) == {"recompute_ratio", "recompute_seconds"}


def test_lookups_report_http_and_bare_sql_figures_with_their_ratios(postgres_only):
    result = run_benchmark("lookups", *TINY)
    assert result["benchmark"] == "lookups"
    for figure in ("single_lookup", "single_lookup_ceiling", "single_lookup_sql"):
        for name in ("requests_per_second", "p50_ms", "p95_ms", "p99_ms"):
            assert_positive(result[figure][name])
    assert result["single_lookup"]["errors"] == 0 and result["single_lookup_ceiling"]["errors"] == 0
    for figure in ("batch_1000", "batch_1000_sql", "batch_10000", "batch_10000_sql"):
        assert_positive(result[figure]["median_ms"])
    assert set(result["ratios"]) >= {
        "single_lookup_rps_vs_ceiling",
        "single_lookup_p99_vs_ceiling",
        "batch_1000_vs_sql",
        "batch_10000_vs_sql",
    }
    for value in result["ratios"].values():
        assert_positive(value)
    # Every lookup, single or batched, was recorded.
    assert result["lookup_records_written"] >= result["single_lookup"]["runs"][0]["requests"] + 11_000
    assert set(result["targets"]) == {
        "single_lookup_rps_ratio",
        "single_lookup_p99_ms",
        "batch_10000_ratio",
        "batch_10000_ms",
    }


def test_import_sends_the_files_through_the_api_and_a_worker_next_to_the_bare_sql_baseline(postgres_only):
    try:
        redis.Redis.from_url(imports.BROKER_URL).ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379 (the worker's broker)")
    result = run_benchmark("import", *TINY, "--rows", "300", "--snapshot-baseline")
    assert result["benchmark"] == "import"
    assert result["file"]["delta_rows"] == 300
    assert result["file"]["delta_changing_existing"] + result["file"]["delta_new"] == 300
    (delta,) = result["delta"]["runs"]
    # The upload went all the way: every row applied, half changing the member's entries.
    assert delta["state"] == "SUCCEEDED" and delta["invalid"] == 0
    assert (delta["rows"], delta["created"], delta["updated"]) == (
        300,
        result["file"]["delta_new"],
        result["file"]["delta_changing_existing"],
    )
    assert delta["subjects_recomputed"] == 300 and delta["consensus_changed"] > 0
    assert set(delta["phases_seconds"]) >= {
        "receive",
        "queue_wait",
        "parse_validate",
        "stage_copy",
        "whole_file_checks",
        "classify",
        "merge",
        "consensus",
        "finish_commit_notice",
    }
    assert_positive(delta["worker_peak_rss_mb"])
    assert_positive(result["delta"]["median_rows_per_second"])
    # The snapshot after it: the member's whole list, about 2% changed, nothing withdrawn.
    (snapshot,) = result["snapshot"]["runs"]
    assert snapshot["state"] == "SUCCEEDED" and snapshot["rows"] == result["file"]["snapshot_rows"]
    assert snapshot["withdrawn"] == 0 and snapshot["created"] == 0
    assert snapshot["updated"] + snapshot["unchanged"] == snapshot["rows"] and snapshot["unchanged"] > 0
    for figure in ("delta_bare_sql", "snapshot_bare_sql"):
        assert set(result[figure]["runs"][0]) == {"copy", "entries", "consensus", "commit", "total"}
        assert_positive(result[figure]["median_seconds"])
    for value in result["ratios"].values():
        assert_positive(value)
    assert set(result["targets"]) == {"import_ratio", "import_seconds", "worker_peak_mb", "snapshot_seconds"}


def test_a_database_not_made_by_the_benchmark_is_refused(postgres_only):
    with pytest.raises(CommandError) as refused:
        call_command("benchmark", "lookups", *TINY, "--database", "postgres", stdout=StringIO(), stderr=StringIO())
    assert refused.value.returncode == 2
    assert "not made by the benchmark" in str(refused.value)


def test_sizes_that_cannot_be_made_exit_2():
    with pytest.raises(CommandError) as refused:
        call_command(
            "benchmark", "consensus", "--entries", "10", "--subjects", "20", stdout=StringIO(), stderr=StringIO()
        )
    assert refused.value.returncode == 2


def test_sqlite_is_refused_with_exit_2():
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is what SQLite gets; this pass runs on PostgreSQL")
    with pytest.raises(CommandError) as refused:
        call_command("benchmark", "lookups", *TINY, stdout=StringIO(), stderr=StringIO())
    assert refused.value.returncode == 2
    assert "PostgreSQL only" in str(refused.value)
