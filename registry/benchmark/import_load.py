"""The bounded load test of issue 7: a sustained mix of single and batch lookups over HTTP
while a 1,000,000-row upload is validated and applied, on a registry started the way
production runs (``deploy/run-production-local``: gunicorn, two Celery workers, beat,
PostgreSQL, Redis). Loopback only; bounded in time and in requests.

Run it in a shell that has the run's environment::

    deploy/run-production-local start --demo
    eval "$(deploy/run-production-local env)"
    .venv/bin/python -m registry.benchmark.import_load --port 8100 --rows 1000000 --min-seconds 60

It raises the demo region's API limits for the run (and puts them back), writes the file with
``generate_entries_csv`` for the demo member 前海, sends it through ``POST /api/v1/uploads``,
and from that moment drives lookups (single lookups on ``--clients`` - 1 connections and
batches of ``--batch`` subjects on one more, side by side; every subject is one the registry
holds) in 10-second phases until
the upload has ended and at least ``--min-seconds`` have passed. It prints one JSON object:
throughput and latency percentiles of each kind, errors (any status but 200, any connection
failure), and how long the load overlapped the import's validation and application.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

MAX_SECONDS = 1200  # the whole run never lasts longer than this
PHASE_SECONDS = 10.0
DEMO_KEY = "demolend.qianhai-demo-key-0001-lookup-upload"


def _setup_django() -> None:
    if os.environ.get("DJANGO_ENV") != "production":
        sys.exit('Run it with the environment of the run: eval "$(deploy/run-production-local env)"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _multipart_upload(port: int, path: Path) -> int:
    boundary = "import-load-boundary-51c0"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\ndelta\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="load.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/uploads",
        data=body,
        headers={
            "Authorization": f"Api-Key {DEMO_KEY}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Forwarded-Proto": "https",
            "X-Request-ID": "import-load-upload",
        },
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310  # nosec B310
        return int(json.load(response)["id"])


def _requests(port: int, hashes: list[str], batch: int) -> tuple[list[bytes], list[bytes]]:
    from registry.benchmark.http_load import get_request, post_json_request

    headers = {"Authorization": f"Api-Key {DEMO_KEY}", "X-Forwarded-Proto": "https"}
    singles = [
        get_request("127.0.0.1", port, f"/api/v1/lookups/RIC/{h}?purpose=UNDERWRITING", headers) for h in hashes[:2000]
    ]
    rng = random.Random(7)
    batches = [
        post_json_request(
            "127.0.0.1",
            port,
            "/api/v1/lookups/batch",
            headers,
            {
                "purpose": "UNDERWRITING",
                "subjects": [{"id_type": "RIC", "subject_hash": h} for h in rng.sample(hashes, batch)],
            },
        )
        for _ in range(50)
    ]
    return singles, batches


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--min-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100, help="subjects per batch lookup")
    args = parser.parse_args(argv)
    _setup_django()

    from django.core.management import call_command

    from lenders.actors import Actor
    from lenders.models import ApiKey, Region
    from lenders.services.regions import region_update_policy
    from registry.benchmark.http_load import LoadResult, run_load
    from registry.benchmark.stats import latency_summary
    from registry.models import Entry, Upload

    key = ApiKey.objects.select_related("member__region").get(prefix=DEMO_KEY.split(".")[0])
    member = key.member
    assert member is not None
    region: Region = member.region
    actor = Actor.system("import_load benchmark", region=region)
    limits = {
        "lookup_rate_per_minute": region.lookup_rate_per_minute,
        "api_rate_per_minute": region.api_rate_per_minute,
    }
    region_update_policy(
        region=region, actor=actor, changes={"lookup_rate_per_minute": 1_000_000, "api_rate_per_minute": 1_000_000}
    )
    hashes = [
        bytes(h).hex()
        for h in Entry.objects.filter(member__region=region, id_type="RIC").values_list("subject_hash", flat=True)[
            :5000
        ]
    ]
    singles, batches = _requests(args.port, hashes, min(args.batch, len(hashes)))

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "load.csv"
        generated = time.perf_counter()
        call_command("generate_entries_csv", member=member.pk, rows=args.rows, output=str(csv_path), seed=20261126)
        generate_seconds = time.perf_counter() - generated
        size = csv_path.stat().st_size
        sent = time.perf_counter()
        upload_id = _multipart_upload(args.port, csv_path)
        send_seconds = time.perf_counter() - sent

    load_started = time.time()
    began = time.perf_counter()
    kinds = {"single": (singles, max(1, args.clients - 1)), "batch": (batches, 1)}
    phases: dict[str, list[LoadResult]] = {kind: [] for kind in kinds}
    try:
        while True:
            # Single lookups on all clients but one, batches on the last, side by side.
            threads = [
                threading.Thread(
                    target=lambda kind=kind, reqs=reqs, clients=clients: phases[kind].append(
                        run_load(
                            host="127.0.0.1", port=args.port, requests=reqs, clients=clients, seconds=PHASE_SECONDS
                        )
                    )
                )
                for kind, (reqs, clients) in kinds.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
            state = Upload.objects.values_list("state", flat=True).get(pk=upload_id)
            over = state in {"SUCCEEDED", "REJECTED", "FAILED", "CANCELLED", "NEEDS_CONFIRMATION"}
            if (over and elapsed >= args.min_seconds) or elapsed >= MAX_SECONDS:
                break
    finally:
        region_update_policy(region=region, actor=actor, changes=limits)
    load_ended = time.time()
    load_seconds = time.perf_counter() - began

    def summary(kind: str) -> dict[str, Any]:
        total = LoadResult(seconds=load_seconds)
        for phase in phases[kind]:
            total.requests += phase.requests
            total.latencies += phase.latencies
            total.statuses.update(phase.statuses)
            total.failures += phase.failures
        return {
            "clients": kinds[kind][1],
            "requests": total.requests,
            "requests_per_second": round(total.requests_per_second, 1),
            "errors": total.errors,
            "statuses": {str(k): v for k, v in sorted(total.statuses.items())},
            **latency_summary(total.latencies),
        }

    upload = Upload.objects.get(pk=upload_id)

    def overlap(start: Any, end: Any) -> float | None:
        if start is None:
            return None
        finish = end.timestamp() if end is not None else load_ended
        return round(max(0.0, min(finish, load_ended) - max(start.timestamp(), load_started)), 1)

    single, batch = summary("single"), summary("batch")
    report = {
        "rows": args.rows,
        "file_bytes": size,
        "generate_seconds": round(generate_seconds, 1),
        "send_seconds": round(send_seconds, 1),
        "upload": {
            "id": upload_id,
            "state": upload.state,
            "created": upload.created,
            "updated": upload.updated,
            "unchanged": upload.unchanged,
            "invalid": upload.invalid,
            "validating_seconds": _span(upload.validating_at, upload.applying_at),
            "applying_seconds": _span(upload.applying_at, upload.finished_at),
        },
        "load_seconds": round(load_seconds, 1),
        "overlap_validating_seconds": overlap(upload.validating_at, upload.applying_at),
        "overlap_applying_seconds": overlap(upload.applying_at, upload.finished_at),
        "errors": single["errors"] + batch["errors"],
        "single": single,
        "batch": {"subjects_per_request": args.batch, **batch},
    }
    print(json.dumps(report, ensure_ascii=False))
    return report


def _span(start: Any, end: Any) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


if __name__ == "__main__":
    main()
