"""``manage.py benchmark import``: a member's nightly file through the whole pipeline, against
the bare-SQL import baseline of ``quality.md``, each run on a fresh copy of the generated region.

A round, on copies of the benchmark database made from it as a template (``database.copy_of``):

- **project**: a real gunicorn and a real Celery worker (Redis broker, a queue of their own)
  on the copy; the delta file is sent with ``POST /api/v1/uploads`` (multipart, streamed) under
  an API key of the member with the ``upload`` scope, and the clock stops when the upload is
  ``SUCCEEDED`` (the consensus is then updated: it is in the same transaction); then the
  nightly snapshot (the member's whole list after the delta, about 2% of rows changed) the
  same way, each upload with a worker of its own so that its peak memory is that job's;
- **baseline**: on another fresh copy, the same two files through the three bare statements
  (``baselines.import_run``).

Rounds alternate which goes first. The files are made once, by SQL, from the generated data:
the delta holds ``rows`` rows for the member with the most entries, half of them changing its
existing entries (a new reference on each, another reason on a quarter) and half new entries
(half on subjects other members list, half on subjects nobody lists), in a shuffled order.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import http.client
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.utils import timezone

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.models import Region
from lenders.services.api_keys import api_key_create
from registry.benchmark import baselines, database
from registry.benchmark.generate import Dataset
from registry.benchmark.server import HOST, GunicornServer
from registry.benchmark.stats import median, ratio
from registry.benchmark.worker import CeleryWorker, queue_environment
from registry.choices import UPLOAD_TERMINAL_STATES, BlackReason, UploadState, WhiteReason
from registry.models import Upload

Progress = Callable[[str], None]

# quality.md, "Performance".
TARGETS = {
    "import_ratio_max": 1.0,
    "import_seconds_max": 60.0,
    "snapshot_seconds_max": 10.0,
    "worker_peak_mb_max": 300.0,
}
BROKER_URL = "redis://127.0.0.1:6379/10"
_UPLOAD_TIMEOUT = 3600.0
_POLL_SECONDS = 0.1
_SEND_BLOCK = 1 << 20
# Of the snapshot's rows, those whose subject hash's eighth byte is below this get a new
# reference: 5/256, about 2%.
_SNAPSHOT_CHANGED_BELOW = 5


@dataclass(frozen=True)
class ImportOptions:
    rows: int
    repeat: int
    cache_url: str
    snapshot: bool = True
    # The three bare statements on the snapshot file too (slow: they rewrite every row).
    snapshot_baseline: bool = False


@dataclass(frozen=True)
class Files:
    delta: Path
    snapshot: Path | None
    member_id: int
    delta_rows: int
    delta_changing: int
    delta_new: int


# -- the files ------------------------------------------------------------------------------------

_BLACK_SWAP = {
    BlackReason.SEVERE_OVERDUE.value: BlackReason.WRITE_OFF.value,
    BlackReason.WRITE_OFF.value: BlackReason.SEVERE_OVERDUE.value,
    BlackReason.OTHER_BLACK.value: BlackReason.SEVERE_OVERDUE.value,
    BlackReason.FRAUD.value: BlackReason.COURT_ENFORCED.value,
    BlackReason.COURT_ENFORCED.value: BlackReason.FRAUD.value,
}
_WHITE_SWAP = {
    WhiteReason.GOOD_REPAYMENT.value: WhiteReason.LONG_TERM_CLIENT.value,
    WhiteReason.LONG_TERM_CLIENT.value: WhiteReason.GOOD_REPAYMENT.value,
    WhiteReason.VERIFIED_BUSINESS.value: WhiteReason.GOOD_REPAYMENT.value,
}


def _case(column: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    return f"CASE {column} {whens} ELSE {column} END"


_NEW_REASON = (
    "CASE WHEN get_byte(n.subject_hash, 3) < 218 THEN"
    " (ARRAY['SEVERE_OVERDUE','SEVERE_OVERDUE','WRITE_OFF','OTHER_BLACK','FRAUD','COURT_ENFORCED'])"
    "[1 + get_byte(n.subject_hash, 4) %% 6]"
    " ELSE (ARRAY['GOOD_REPAYMENT','GOOD_REPAYMENT','LONG_TERM_CLIENT','VERIFIED_BUSINESS'])"
    "[1 + get_byte(n.subject_hash, 4) %% 4] END"
)


def delta_sql() -> str:
    """The delta file as ``COPY … TO STDOUT`` (CSV with a header), from the generated data."""
    changed_reason = (
        f"CASE WHEN get_byte(e.subject_hash, 2) < 64 THEN CASE e.list WHEN 'BLACK' THEN"
        f" {_case('e.reason', _BLACK_SWAP)} ELSE {_case('e.reason', _WHITE_SWAP)} END ELSE e.reason END"
    )
    return f"""COPY (
        WITH changing AS (
            SELECT e.id_type, e.subject_hash, e.list, {changed_reason} AS reason, e.event_date, e.expires_on,
                   'CHG-' || e.id AS reference
            FROM registry_entry e WHERE e.member_id = %(member)s AND e.hash_key_id = %(key)s
            ORDER BY e.subject_hash LIMIT %(changing)s
        ),
        listed_by_others AS (
            SELECT DISTINCT ON (e.subject_hash, e.id_type) e.id_type, e.subject_hash
            FROM registry_entry e
            WHERE e.hash_key_id = %(key)s AND e.member_id <> %(member)s AND NOT EXISTS (
                SELECT 1 FROM registry_entry x WHERE x.member_id = %(member)s AND x.hash_key_id = e.hash_key_id
                AND x.id_type = e.id_type AND x.subject_hash = e.subject_hash)
            ORDER BY e.subject_hash, e.id_type LIMIT %(from_others)s
        ),
        new_subjects AS (
            SELECT * FROM listed_by_others
            UNION ALL
            SELECT CASE WHEN i %% 20 < 17 THEN 'RIC' WHEN i %% 20 < 19 THEN 'USCC' ELSE 'MOBILE' END,
                   decode(md5('bench-new:a:' || i) || md5('bench-new:b:' || i), 'hex')
            FROM generate_series(1, %(new)s - (SELECT count(*) FROM listed_by_others)) AS i
        ),
        rows AS (
            SELECT * FROM changing
            UNION ALL
            SELECT n.id_type, n.subject_hash,
                   CASE WHEN get_byte(n.subject_hash, 3) < 218 THEN 'BLACK' ELSE 'WHITE' END,
                   {_NEW_REASON},
                   %(today)s::date - (1 + get_byte(n.subject_hash, 5) * 4 + get_byte(n.subject_hash, 6) %% 4),
                   NULL::date, 'NEW-' || encode(substr(n.subject_hash, 1, 6), 'hex')
            FROM new_subjects n
        )
        SELECT id_type, encode(subject_hash, 'hex') AS subject_hash, list, reason, event_date, expires_on, reference
        FROM rows ORDER BY md5(subject_hash)
    ) TO STDOUT WITH (FORMAT csv, HEADER)"""  # noqa: S608 (constant fragments; every value is a bound parameter)


def snapshot_sql() -> str:
    """The member's whole active list as a snapshot file, about 2% of rows with a new reference."""
    return f"""COPY (
        SELECT e.id_type, encode(e.subject_hash, 'hex') AS subject_hash, e.list, e.reason, e.event_date,
               e.expires_on,
               CASE WHEN get_byte(e.subject_hash, 7) < {_SNAPSHOT_CHANGED_BELOW}
                    THEN 'SNAP-' || substr(encode(e.subject_hash, 'hex'), 1, 12) ELSE e.reference END AS reference
        FROM registry_entry e WHERE e.member_id = %(member)s AND e.hash_key_id = %(key)s AND e.state = 'ACTIVE'
        ORDER BY md5(e.subject_hash)
    ) TO STDOUT WITH (FORMAT csv, HEADER)"""  # noqa: S608


def _copy_out(sql_connection: Any, statement: str, params: dict[str, Any], path: Path) -> int:
    """Run a ``COPY … TO STDOUT`` into ``path``; returns the data rows written."""
    with sql_connection.cursor() as cursor:
        query = cursor.mogrify(statement, params).decode()
        with open(path, "w", encoding="utf-8", newline="") as out:
            cursor.copy_expert(query, out)
    with open(path, encoding="utf-8") as written:
        return sum(1 for _line in written) - 1


def busiest_member(sql_connection: Any, region: Region, member_ids: list[int]) -> tuple[int, int]:
    """The member with the most entries (the one whose nightly file is measured) and their count."""
    with sql_connection.cursor() as cursor:
        cursor.execute(
            "SELECT member_id, count(*) FROM registry_entry WHERE member_id = ANY(%s)"
            " GROUP BY member_id ORDER BY 2 DESC, 1 LIMIT 1",
            [member_ids],
        )
        member_id, entries = cursor.fetchone()
    return int(member_id), int(entries)


def write_delta(sql_connection: Any, dataset: Dataset, rows: int, folder: Path) -> Files:
    member_id, entries = busiest_member(sql_connection, dataset.region, [m.pk for m in dataset.members])
    changing = min(rows // 2, entries)
    new = rows - changing
    params = {
        "member": member_id,
        "key": dataset.hash_key.pk,
        "changing": changing,
        "new": new,
        "from_others": new // 2,
        "today": timezone.localdate(),
    }
    path = folder / "delta.csv"
    written = _copy_out(sql_connection, delta_sql(), params, path)
    return Files(
        delta=path,
        snapshot=None,
        member_id=member_id,
        delta_rows=written,
        delta_changing=changing,
        delta_new=new,
    )


def write_snapshot(sql_connection: Any, files: Files, hash_key_id: int, folder: Path) -> Files:
    path = folder / "snapshot.csv"
    _copy_out(sql_connection, snapshot_sql(), {"member": files.member_id, "key": hash_key_id}, path)
    return dataclasses.replace(files, snapshot=path)


def count_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as file:
        return sum(1 for _row in csv.reader(file)) - 1


# -- sending a file over HTTP -------------------------------------------------------------------


def post_file(
    port: int, path: str, headers: dict[str, str], fields: dict[str, str], file_path: Path
) -> tuple[int, bytes]:
    """``POST`` a multipart form with ``fields`` and the file, streamed from disk as a browser
    or the command-line client sends it. Returns (status, body)."""
    boundary = "bench" + uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + file_path.stat().st_size + len(tail)
    client = http.client.HTTPConnection(HOST, port, timeout=600)
    try:
        client.putrequest("POST", path)
        for name, value in {
            **headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        }.items():
            client.putheader(name, value)
        client.endheaders()
        client.send(head)
        with open(file_path, "rb") as file:
            _send_blocks(client, file)
        client.send(tail)
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


def _send_blocks(client: http.client.HTTPConnection, file: IO[bytes]) -> None:
    while block := file.read(_SEND_BLOCK):
        client.send(block)


# -- the project's run --------------------------------------------------------------------------


@contextmanager
def pointed_at(name: str) -> Iterator[None]:
    """Django's connection in this process works in database ``name`` meanwhile (as Django's
    own test runner switches to the test database)."""
    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


# The job's phases in the order they run (``registry.uploads.services``).
WORKER_PHASES = ("parse_validate", "stage_copy", "whole_file_checks", "classify", "merge", "consensus")


def _phase_order(name: str) -> int:
    return WORKER_PHASES.index(name) if name in WORKER_PHASES else len(WORKER_PHASES)


def _wait_terminal(upload_id: int, worker: CeleryWorker) -> Upload:
    deadline = time.monotonic() + _UPLOAD_TIMEOUT
    while time.monotonic() < deadline:
        upload = Upload.objects.filter(pk=upload_id).first()
        if upload is not None and upload.state in UPLOAD_TERMINAL_STATES | {UploadState.NEEDS_CONFIRMATION}:
            return upload
        if not worker.alive():
            raise RuntimeError(f"The Celery worker died during upload {upload_id}:\n{worker.log_tail()}")
        time.sleep(_POLL_SECONDS)
    raise RuntimeError(f"Upload {upload_id} did not finish within {_UPLOAD_TIMEOUT:.0f} s.")


def _seconds_between(start: datetime.datetime | None, end: datetime.datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def send_and_wait(
    *, server: GunicornServer, worker_env: dict[str, str], secret: str, file_path: Path, mode: str, progress: Progress
) -> dict[str, Any]:
    """Send one file through the API, wait for its job's end; the figures of that upload."""
    with CeleryWorker(worker_env) as worker:
        started = time.perf_counter()
        status, body = post_file(
            server.port, "/api/v1/uploads", {"Authorization": f"Api-Key {secret}"}, {"mode": mode}, file_path
        )
        received = time.perf_counter()
        if status != 202:
            raise RuntimeError(f"POST /api/v1/uploads answered {status}: {body[:500]!r}")
        upload_id = int(json.loads(body)["id"])
        upload = _wait_terminal(upload_id, worker)
        finished = time.perf_counter()
        peak = worker.peak_rss_mb()
    if upload.state != UploadState.SUCCEEDED:
        raise RuntimeError(f"Upload {upload_id} ended {upload.state}: {upload.message}")
    audit = AuditEvent.objects.filter(action="upload.apply", object_id=str(upload_id)).first()
    stored = dict((audit.details if audit else {}).get("phase_seconds") or {})
    worker_phases = {name: stored[name] for name in sorted(stored, key=_phase_order)}
    end_to_end = finished - started
    queue_wait = _seconds_between(upload.queued_at, upload.validating_at) or 0.0
    accounted = (received - started) + queue_wait + sum(worker_phases.values())
    figures = {
        "upload_id": upload_id,
        "mode": mode,
        "rows": upload.rows_total,
        "bytes": upload.size,
        "created": upload.created,
        "updated": upload.updated,
        "unchanged": upload.unchanged,
        "withdrawn": upload.withdrawn,
        "invalid": upload.invalid,
        "state": upload.state,
        "end_to_end_seconds": round(end_to_end, 3),
        "rows_per_second": round((upload.rows_total or 0) / end_to_end, 1),
        "worker_peak_rss_mb": peak,
        "phases_seconds": {
            "receive": round(received - started, 3),
            "queue_wait": queue_wait,
            **worker_phases,
            # The audit record, the state, the commit, and noticing it (polled every 0.1 s).
            "finish_commit_notice": round(max(end_to_end - accounted, 0.0), 3),
        },
        "states_seconds": {
            "validating": _seconds_between(upload.validating_at, upload.applying_at),
            "applying": _seconds_between(upload.applying_at, upload.finished_at),
        },
        "subjects_recomputed": (audit.details if audit else {}).get("subjects_recomputed"),
        "consensus_changed": (audit.details if audit else {}).get("consensus_changed"),
    }
    progress(
        f"    {mode}: {figures['rows']:,} rows in {end_to_end:.1f} s ({figures['rows_per_second']:,.0f} rows/s), "
        f"created {upload.created:,}, updated {upload.updated:,}, unchanged {upload.unchanged:,}; "
        f"worker peak {peak} MiB; phases {figures['phases_seconds']}"
    )
    return figures


def project_run(
    *, dataset: Dataset, files: Files, server_url: str, options: ImportOptions, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any] | None, Files]:
    """The delta (and the snapshot) through the API and a worker, on the copy ``copy_name``."""
    region = Region.objects.get(pk=dataset.region.pk)
    member = next(m for m in dataset.members if m.pk == files.member_id)
    _key, secret = api_key_create(
        org=member, name="benchmark import", scopes=["upload"], actor=Actor.system("benchmark", region)
    )
    media = tempfile.TemporaryDirectory(prefix="registry-bench-media-")
    env = queue_environment(
        database_url=server_url,
        broker_url=BROKER_URL,
        queue=f"bench-import-{uuid.uuid4().hex[:8]}",
        media_root=media.name,
    )
    try:
        with GunicornServer(
            database_url=server_url, cache_url=options.cache_url, extra_env={**env, "GUNICORN_TIMEOUT": "600"}
        ) as server:
            delta = send_and_wait(
                server=server, worker_env=env, secret=secret, file_path=files.delta, mode="delta", progress=progress
            )
            snapshot = None
            if options.snapshot:
                if files.snapshot is None:
                    sql = baselines.connect(connection.settings_dict)
                    try:
                        files = write_snapshot(sql, files, dataset.hash_key.pk, files.delta.parent)
                    finally:
                        sql.close()
                assert files.snapshot is not None
                snapshot = send_and_wait(
                    server=server,
                    worker_env=env,
                    secret=secret,
                    file_path=files.snapshot,
                    mode="snapshot",
                    progress=progress,
                )
    finally:
        media.cleanup()
    return delta, snapshot, files


def baseline_run(
    *, dataset: Dataset, files: Files, snapshot: bool, progress: Progress
) -> tuple[dict[str, float], dict[str, float]]:
    """The bare statements on the same files, on a fresh copy (the snapshot after the delta)."""
    region = Region.objects.get(pk=dataset.region.pk)
    sql = baselines.connect(connection.settings_dict)
    runs: list[dict[str, float]] = []
    try:
        for path in (files.delta, files.snapshot if snapshot else None):
            if path is None:
                runs.append({})
                continue
            seconds = baselines.import_run(
                sql,
                path=str(path),
                region=region,
                member_id=files.member_id,
                hash_key_id=dataset.hash_key.pk,
                today=timezone.localdate(),
                now=timezone.now(),
            )
            progress(f"    bare SQL on {path.name}: {seconds}")
            runs.append(seconds)
    finally:
        sql.close()
    return runs[0], runs[1]


# -- the rounds -----------------------------------------------------------------------------------


def _median_of(runs: list[dict[str, Any]], name: str) -> float:
    return round(median([float(run[name]) for run in runs]), 3)


def _median_phases(runs: list[dict[str, Any]], key: str = "phases_seconds") -> dict[str, float]:
    names: list[str] = []
    for run in runs:
        names += [name for name in run[key] if name not in names]
    return {name: round(median([float(run[key].get(name) or 0.0) for run in runs]), 3) for name in names}


def run_import(dataset: Dataset, options: ImportOptions, server: database.Server, progress: Progress) -> dict[str, Any]:
    template = str(connection.settings_dict["NAME"])
    copy_name = f"{template}_copy"[:63]
    folder = tempfile.TemporaryDirectory(prefix="registry-bench-import-")
    deltas: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    bare_deltas: list[dict[str, float]] = []
    bare_snapshots: list[dict[str, float]] = []
    copies: list[float] = []
    files: Files | None = None
    connection.close()  # nobody may use the template while it is copied
    try:
        for round_number in range(options.repeat):
            steps = ["project", "baseline"] if round_number % 2 == 0 else ["baseline", "project"]
            for step in steps:
                copies.append(database.copy_of(server=server, template=template, name=copy_name))
                progress(f"  round {round_number + 1} {step}: fresh copy {copy_name!r} in {copies[-1]:.1f} s")
                with pointed_at(copy_name):
                    if files is None:
                        sql = baselines.connect(connection.settings_dict)
                        try:
                            files = write_delta(sql, dataset, options.rows, Path(folder.name))
                        finally:
                            sql.close()
                        progress(
                            f"  delta file: {files.delta_rows:,} rows for member {files.member_id} "
                            f"({files.delta_changing:,} changing its entries, {files.delta_new:,} new)"
                        )
                    if step == "project":
                        delta, snapshot, files = project_run(
                            dataset=dataset,
                            files=files,
                            server_url=server.url(copy_name),
                            options=options,
                            progress=progress,
                        )
                        deltas.append(delta)
                        if snapshot is not None:
                            snapshots.append(snapshot)
                    else:
                        if options.snapshot and files.snapshot is None:
                            raise RuntimeError("the snapshot file is made by the first project run")
                        bare_delta, bare_snapshot = baseline_run(
                            dataset=dataset, files=files, snapshot=options.snapshot_baseline, progress=progress
                        )
                        bare_deltas.append(bare_delta)
                        if bare_snapshot:
                            bare_snapshots.append(bare_snapshot)
                database.drop_copy(server=server, name=copy_name)
        assert files is not None
        return summarise(files, deltas, snapshots, bare_deltas, bare_snapshots, copies)
    finally:
        connection.close()
        try:
            database.drop_copy(server=server, name=copy_name)
        finally:
            folder.cleanup()


def summarise(
    files: Files,
    deltas: list[dict[str, Any]],
    snapshots: list[dict[str, Any]],
    bare_deltas: list[dict[str, float]],
    bare_snapshots: list[dict[str, float]],
    copies: list[float],
) -> dict[str, Any]:
    delta_seconds = _median_of(deltas, "end_to_end_seconds")
    bare_seconds = _median_of(bare_deltas, "total")
    peaks = [float(run["worker_peak_rss_mb"] or 0) for run in deltas + snapshots]
    report: dict[str, Any] = {
        "file": {
            "member_id": files.member_id,
            "delta_rows": files.delta_rows,
            "delta_changing_existing": files.delta_changing,
            "delta_new": files.delta_new,
            "delta_bytes": files.delta.stat().st_size if files.delta.exists() else None,
            "snapshot_rows": count_rows(files.snapshot) if files.snapshot and files.snapshot.exists() else None,
        },
        "delta": {
            "median_end_to_end_seconds": delta_seconds,
            "median_rows_per_second": _median_of(deltas, "rows_per_second"),
            "median_phases_seconds": _median_phases(deltas),
            "worker_peak_rss_mb": max(float(run["worker_peak_rss_mb"] or 0) for run in deltas),
            "runs": deltas,
        },
        "delta_bare_sql": {
            "median_seconds": bare_seconds,
            "median_statements_seconds": _median_phases([{"s": run} for run in bare_deltas], "s"),
            "runs": bare_deltas,
        },
        "copy_seconds": [round(value, 1) for value in copies],
    }
    report["ratios"] = {"delta_vs_bare_sql": ratio(delta_seconds, bare_seconds)}
    snapshot_seconds = None
    if snapshots:
        snapshot_seconds = _median_of(snapshots, "end_to_end_seconds")
        report["snapshot"] = {
            "median_end_to_end_seconds": snapshot_seconds,
            "median_rows_per_second": _median_of(snapshots, "rows_per_second"),
            "median_phases_seconds": _median_phases(snapshots),
            "worker_peak_rss_mb": max(float(run["worker_peak_rss_mb"] or 0) for run in snapshots),
            "runs": snapshots,
        }
    if bare_snapshots:
        bare_snapshot_seconds = _median_of(bare_snapshots, "total")
        report["snapshot_bare_sql"] = {
            "median_seconds": bare_snapshot_seconds,
            "median_statements_seconds": _median_phases([{"s": run} for run in bare_snapshots], "s"),
            "runs": bare_snapshots,
        }
        if snapshot_seconds is not None:
            report["ratios"]["snapshot_vs_bare_sql"] = ratio(snapshot_seconds, bare_snapshot_seconds)
    peak = max(peaks) if peaks else None
    report["targets"] = {
        "import_ratio": {
            "target": f"<= {TARGETS['import_ratio_max']}",
            "value": report["ratios"]["delta_vs_bare_sql"],
            "met": report["ratios"]["delta_vs_bare_sql"] <= TARGETS["import_ratio_max"],
        },
        "import_seconds": {
            "target": f"<= {TARGETS['import_seconds_max']}",
            "value": delta_seconds,
            "met": delta_seconds <= TARGETS["import_seconds_max"],
        },
        "worker_peak_mb": {
            "target": f"<= {TARGETS['worker_peak_mb_max']}",
            "value": peak,
            "met": peak is not None and peak <= TARGETS["worker_peak_mb_max"],
        },
    }
    if snapshot_seconds is not None:
        report["targets"]["snapshot_seconds"] = {
            "target": f"<= {TARGETS['snapshot_seconds_max']}",
            "value": snapshot_seconds,
            "met": snapshot_seconds <= TARGETS["snapshot_seconds_max"],
        }
    return report


def environment_note() -> dict[str, Any]:
    """What else ran on the machine: the load average when the run ended."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return {}
    return {"load_average_1_5_15": [round(one, 2), round(five, 2), round(fifteen, 2)]}
