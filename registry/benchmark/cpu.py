"""CPU time spent by processes, read from ``/proc`` (Linux): on a shared, noisy machine the
CPU a request costs is steadier than the wall-clock time it takes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it are plain numbers.
    return text[text.rindex(")") + 2 :].split()


def process_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU seconds of ``pid`` (and of its children it has waited for)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # Fields 14-17 of proc(5): utime, stime, cutime, cstime; here shifted by the two removed.
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and all its children, live or already exited (a pre-forking
    server such as gunicorn: its workers, including the ones it replaced)."""
    return process_seconds(pid, with_reaped_children=True) + sum(process_seconds(child) for child in children(pid))


def processes_seconds(pids: Iterable[int]) -> dict[int, float]:
    return {pid: process_seconds(pid) for pid in pids}
