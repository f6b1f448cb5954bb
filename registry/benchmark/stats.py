"""Medians, percentiles, ratios and the description of the machine a run was made on."""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``fraction`` 0.99 for p99)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else math.inf


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1]) if ordered else math.nan,
    }


def medians_of_runs(runs: list[dict[str, Any]], names: Sequence[str]) -> dict[str, float]:
    """The median over the runs of each named figure."""
    return {name: round(median([run[name] for run in runs]), 3) for name in names}


def machine(cursor: Any) -> dict[str, Any]:
    """Cores, memory, Python and PostgreSQL, with the server settings that matter here."""
    cursor.execute("SHOW server_version")
    version = cursor.fetchone()[0]
    cursor.execute(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem',"
        " 'maintenance_work_mem', 'synchronous_commit', 'max_parallel_workers_per_gather', 'jit')"
        " ORDER BY name"
    )
    settings = {name: f"{setting}{' × ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()}
    memory = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
    }
