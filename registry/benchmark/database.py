"""The benchmark's own PostgreSQL database, beside the developer's on the same server.

The benchmark never writes to the database the project is configured with: it creates
another one (``registry_bench`` by default) and marks it with a one-row table,
``bench_dataset``, that says which dataset it holds. A database without that marker was not
made by the benchmark and is never migrated, filled or dropped by it. A marked database whose
dataset has the asked sizes is reused, so repeated runs skip the generation.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

# Bump when the generator changes what it makes: older datasets are then made anew.
LAYOUT = 1
# Generated entries stay counted for at least this many days after generation (no entry ends
# sooner), so a dataset is reused for that long and then made anew.
REUSE_DAYS = 30
MARKER = "bench_dataset"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class BenchDatabaseError(Exception):
    """The benchmark database cannot be used as asked (a refusal, not a crash)."""


@dataclass(frozen=True)
class Server:
    """Where the project's PostgreSQL runs: the benchmark's database goes on the same server."""

    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any]) -> Server:
        return cls(
            host=str(settings_dict.get("HOST") or "127.0.0.1"),
            port=str(settings_dict.get("PORT") or "5432"),
            user=str(settings_dict.get("USER") or ""),
            password=str(settings_dict.get("PASSWORD") or ""),
        )

    def connect(self, dbname: str) -> Any:
        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user or None, password=self.password or None, dbname=dbname
        )
        connection.autocommit = True
        return connection

    def url(self, dbname: str) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgres://{auth}@{self.host}:{self.port}/{dbname}"


@dataclass(frozen=True)
class DatasetSpec:
    members: int
    entries: int
    subjects: int
    seed: int


@dataclass(frozen=True)
class Prepared:
    """What ``prepare`` did: whether the database was (re)created, and why."""

    created: bool
    reason: str


def check_name(name: str, *, project_database: str) -> None:
    if not _NAME.fullmatch(name):
        raise BenchDatabaseError(
            f"--database {name!r}: use lower-case letters, digits and _ (at most 63, not starting with a digit)."
        )
    if name == project_database:
        raise BenchDatabaseError(
            f"--database {name!r} is the project's own database; the benchmark needs one of its own."
        )


def _exists(admin: Any, name: str) -> bool:
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def read_marker(connection: Any) -> dict[str, Any] | None:
    """The marker row, or None when the database has no marker table (not the benchmark's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT * FROM {MARKER} WHERE id = 1")  # noqa: S608 (a constant table name)
        row = cursor.fetchone()
        names = [column.name for column in cursor.description]
    return dict(zip(names, row, strict=True)) if row else {"state": "empty"}


def reusable(marker: dict[str, Any], spec: DatasetSpec, today: datetime.date) -> str | None:
    """None when the marked dataset can be reused for ``spec``; otherwise why not."""
    if marker.get("state") != "ready":
        return f"the dataset is not complete (state {marker.get('state')!r})"
    wanted = {"members": spec.members, "entries": spec.entries, "subjects": spec.subjects, "seed": spec.seed}
    held = {name: marker.get(name) for name in wanted}
    if held != wanted or marker.get("layout") != LAYOUT:
        return f"it holds another dataset ({held}, layout {marker.get('layout')})"
    generated_on = marker.get("generated_on")
    if generated_on is None or not today - datetime.timedelta(days=REUSE_DAYS) <= generated_on <= today:
        return f"it was generated on {generated_on}, more than {REUSE_DAYS} days ago"
    return None


def _create(server: Server, admin: Any, name: str) -> None:
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection = server.connect(name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""CREATE TABLE {MARKER} (
                    id integer PRIMARY KEY CHECK (id = 1),
                    state text NOT NULL,
                    layout integer,
                    members integer,
                    entries bigint,
                    subjects bigint,
                    seed integer,
                    region_code text,
                    generated_on date,
                    generation_seconds double precision,
                    fill_seconds double precision,
                    details jsonb
                )"""
            )
            cursor.execute(f"INSERT INTO {MARKER} (id, state) VALUES (1, 'empty')")  # noqa: S608
    finally:
        connection.close()


def _drop(admin: Any, name: str) -> None:
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare(*, server: Server, name: str, spec: DatasetSpec, fresh: bool, today: datetime.date) -> Prepared:
    """Make sure database ``name`` exists and is the benchmark's; drop and recreate it when
    ``fresh`` or when it holds another dataset. Refuses a database that is not the benchmark's."""
    admin = server.connect("postgres")
    try:
        if _exists(admin, name):
            connection = server.connect(name)
            try:
                marker = read_marker(connection)
            finally:
                connection.close()
            if marker is None:
                raise BenchDatabaseError(
                    f"Database {name!r} exists and was not made by the benchmark (it has no {MARKER} table); "
                    "it is left alone. Choose another --database."
                )
            why = "--fresh" if fresh else reusable(marker, spec, today)
            if why is None:
                return Prepared(created=False, reason="the dataset of these sizes is reused")
            _drop(admin, name)
            _create(server, admin, name)
            return Prepared(created=True, reason=f"made anew: {why}")
        _create(server, admin, name)
        return Prepared(created=True, reason="created")
    finally:
        admin.close()


def drop(*, server: Server, name: str) -> bool:
    """Drop the benchmark database ``name`` if it exists and is the benchmark's."""
    admin = server.connect("postgres")
    try:
        if not _exists(admin, name):
            return False
        connection = server.connect(name)
        try:
            marker = read_marker(connection)
        finally:
            connection.close()
        if marker is None:
            raise BenchDatabaseError(f"Database {name!r} was not made by the benchmark; it is left alone.")
        _drop(admin, name)
        return True
    finally:
        admin.close()


def copy_of(*, server: Server, template: str, name: str) -> float:
    """Make ``name`` a fresh copy of the benchmark database ``template`` (dropping an older
    ``name`` first), so that a measured import starts from the generated region exactly as it
    was made. Nobody may be connected to ``template`` meanwhile. Returns the seconds it took."""
    started = time.monotonic()
    admin = server.connect("postgres")
    try:
        _drop(admin, name)
        with admin.cursor() as cursor:
            # FILE_COPY copies the files after a checkpoint: much faster for gigabytes than
            # the default WAL_LOG strategy, which writes every block to the WAL.
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    finally:
        admin.close()
    return time.monotonic() - started


def drop_copy(*, server: Server, name: str) -> None:
    """Drop a copy made by ``copy_of`` (it carries the template's marker)."""
    drop(server=server, name=name)
