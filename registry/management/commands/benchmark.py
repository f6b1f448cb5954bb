"""``manage.py benchmark import|lookups|consensus``: the performance figures of ``quality.md`` as JSON.

The command works in a PostgreSQL database of its own (``--database``, ``registry_bench`` by
default) on the server ``DATABASE_URL`` names, never in the project's database: it creates
and marks that database, then runs the measurement in a child process whose
``DATABASE_URL`` points there (migrate, generate or reuse the dataset, measure). Progress goes
to standard error; the JSON is the last line of standard output.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from core.commands import JsonCommand
from core.errors import InvalidInput
from registry.benchmark import database, imports, scenarios, stats
from registry.benchmark.generate import SEED, load_or_generate, max_entries

MODES = ("import", "lookups", "consensus")
DEFAULT_DATABASE = "registry_bench"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/9"
_RANGES: dict[str, tuple[float, float]] = {
    "members": (1, 1_000),
    "entries": (1, 100_000_000),
    "subjects": (1, 50_000_000),
    "repeat": (1, 20),
    "duration": (1, 600),
    "clients": (1, 64),
    "rows": (2, 5_000_000),
}


class Command(JsonCommand):
    help = "Measure imports, lookups or the consensus recompute against their bare-SQL ceilings (quality.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", choices=MODES, help="what to measure")
        parser.add_argument("--members", type=int, default=50, help="members of the generated region")
        parser.add_argument("--entries", type=int, default=5_000_000, help="entries to generate")
        parser.add_argument("--subjects", type=int, default=3_000_000, help="subjects the entries are about")
        parser.add_argument("--repeat", type=int, default=3, help="runs of each measured operation (medians)")
        parser.add_argument("--duration", type=float, default=20, help="seconds of each lookup load phase")
        parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
        parser.add_argument("--rows", type=int, default=1_000_000, help="import: rows of the delta file")
        parser.add_argument(
            "--no-snapshot", action="store_true", help="import: skip the nightly snapshot after the delta"
        )
        parser.add_argument(
            "--snapshot-baseline",
            action="store_true",
            help="import: also run the bare statements on the snapshot file (slow: they rewrite every row)",
        )
        parser.add_argument(
            "--policy-change",
            action="store_true",
            help="consensus: also time recomputes after a policy change that moves many subjects (slow)",
        )
        parser.add_argument("--fresh", action="store_true", help="drop the benchmark database and generate anew")
        parser.add_argument("--database", default=DEFAULT_DATABASE, help="the benchmark's own database")
        parser.add_argument("--cache-url", default=DEFAULT_CACHE_URL, help="the shared cache of the server")
        parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)

    def run(self, **options: Any) -> dict[str, Any]:
        self._check_options(options)
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark measures PostgreSQL only (quality.md), and DATABASE_URL points to "
                f"{connection.vendor}. Set DATABASE_URL=postgres://…: the benchmark creates a database of its "
                "own on that server and leaves the configured one alone.",
                returncode=2,
            )
        if options["inside"]:
            return self._measure(options)
        return self._in_bench_database(options)

    # -- the parent: the benchmark's own database, and the child that works in it ----------
    def _check_options(self, options: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        for name, (low, high) in _RANGES.items():
            if not low <= options[name] <= high:
                errors[name] = [f"must be between {low:,g} and {high:,g}"]
        if not errors and not options["subjects"] <= options["entries"] <= max_entries(
            options["subjects"], options["members"]
        ):
            errors["entries"] = [
                "must be at least --subjects and at most --subjects × min(5, --members): "
                "each subject has 1 to 5 entries, from different members"
            ]
        if errors:
            raise InvalidInput("The benchmark cannot run with these sizes.", details=errors)

    def _spec(self, options: dict[str, Any]) -> database.DatasetSpec:
        return database.DatasetSpec(
            members=options["members"], entries=options["entries"], subjects=options["subjects"], seed=SEED
        )

    def _in_bench_database(self, options: dict[str, Any]) -> dict[str, Any]:
        name = options["database"]
        server = database.Server.from_settings(settings.DATABASES["default"])
        try:
            database.check_name(name, project_database=str(connection.settings_dict["NAME"]))
            prepared = database.prepare(
                server=server, name=name, spec=self._spec(options), fresh=options["fresh"], today=timezone.localdate()
            )
        except database.BenchDatabaseError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stderr.write(f"Benchmark database {name!r}: {prepared.reason}.")
        env = dict(os.environ)
        env.update({"DATABASE_URL": server.url(name), "DEBUG": "false"})
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        argv = [sys.executable, str(settings.BASE_DIR / "manage.py"), "benchmark", options["mode"], "--inside"]
        flags = ("members", "entries", "subjects", "repeat", "duration", "clients", "rows", "database", "cache_url")
        for flag in flags:
            argv += ["--" + flag.replace("_", "-"), str(options[flag])]
        for switch in ("policy_change", "no_snapshot", "snapshot_baseline"):
            if options[switch]:
                argv.append("--" + switch.replace("_", "-"))
        child = subprocess.run(argv, env=env, stdout=subprocess.PIPE, cwd=settings.BASE_DIR, check=False)  # noqa: S603
        lines = child.stdout.decode(errors="replace").strip().splitlines()
        if child.returncode != 0:
            raise CommandError(f"The benchmark stopped (exit {child.returncode}).", returncode=child.returncode)
        if not lines:
            raise CommandError("The benchmark printed no result.", returncode=1)
        result: dict[str, Any] = json.loads(lines[-1])
        result["dataset"]["database_prepared"] = prepared.reason
        return result

    # -- the child: in the benchmark database ----------------------------------------------
    def _progress(self, started: float) -> scenarios.Progress:
        def report(message: str) -> None:
            self.stderr.write(f"[{time.monotonic() - started:7.1f} s] {message}")
            self.stderr.flush()

        return report

    def _measure(self, options: dict[str, Any]) -> dict[str, Any]:
        name = options["database"]
        if connection.settings_dict["NAME"] != name:
            raise CommandError(f"--inside runs in the benchmark database {name!r} only.", returncode=2)
        connection.ensure_connection()
        if database.read_marker(connection.connection) is None:
            raise CommandError(f"Database {name!r} is not the benchmark's (no marker).", returncode=2)
        progress = self._progress(time.monotonic())
        progress("Migrating the benchmark database")
        call_command("migrate", interactive=False, verbosity=0, stdout=StringIO())
        spec = self._spec(options)
        dataset = load_or_generate(spec, progress)
        run_options = scenarios.RunOptions(
            repeat=options["repeat"],
            duration=options["duration"],
            clients=options["clients"],
            cache_url=options["cache_url"],
            policy_change=options["policy_change"],
        )
        try:
            if options["mode"] == "import":
                import_options = imports.ImportOptions(
                    rows=options["rows"],
                    repeat=options["repeat"],
                    cache_url=options["cache_url"],
                    snapshot=not options["no_snapshot"],
                    snapshot_baseline=options["snapshot_baseline"] and not options["no_snapshot"],
                )
                server = database.Server.from_settings(connection.settings_dict)
                figures = imports.run_import(dataset, import_options, server, progress)
                figures["conditions"] = imports.environment_note()
            elif options["mode"] == "lookups":
                figures = scenarios.run_lookups(dataset, run_options, progress)
            else:
                figures = scenarios.run_consensus(dataset, run_options, progress)
        except RuntimeError as exc:
            raise CommandError(str(exc), returncode=1) from None
        with connection.cursor() as cursor:
            machine = stats.machine(cursor)
        return {
            "benchmark": options["mode"],
            "measured_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine,
            "sizes": {
                "members": spec.members,
                "entries": spec.entries,
                "subjects": spec.subjects,
                "consensus_records": dataset.consensus_records,
            },
            "dataset": {
                "database": name,
                "reused": dataset.reused,
                "generation_seconds": dataset.generation_seconds,
            },
            "settings": {
                "repeat": run_options.repeat,
                "duration_seconds": run_options.duration,
                "clients": run_options.clients,
                "rows": options["rows"],
            },
            **figures,
        }
