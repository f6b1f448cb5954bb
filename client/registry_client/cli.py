"""``registry-client``: what a lender's nightly job runs (``commands.md``).

    registry-client hash --type RIC --id-column 身份证号 raw.csv hashed.csv
    registry-client upload hashed.csv --mode snapshot --wait
    registry-client status ID

Configuration by flags or environment: ``--url``/``REGISTRY_URL`` (the site root; the client
adds ``/api/v1/``), ``--api-key``/``REGISTRY_API_KEY``. Every command prints one JSON object as
the last line of standard output; messages and progress go to standard error. Exit 0 on success,
1 when what was asked cannot be done, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from registry_client import __version__
from registry_client.api import RegistryApi
from registry_client.errors import EXIT_FAILED, EXIT_OK, ApiError, ClientError, NetworkError, UsageError
from registry_client.hash_csv import hash_csv
from registry_client.hashing import ID_TYPES, InvalidIdentifier, SubjectHasher
from registry_client.keys import hasher_from_api, hasher_from_key_file
from registry_client.multipart import multipart_body
from registry_client.progress import Progress

TERMINAL_STATES = ("SUCCEEDED", "REJECTED", "CANCELLED", "FAILED", "NEEDS_CONFIRMATION")
COUNTS = ("created", "updated", "unchanged", "withdrawn", "invalid")
POLL_INTERVAL = 2.0
POLL_NETWORK_FAILURES = 3


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_json(result: Any) -> None:
    print(json.dumps(result, ensure_ascii=False), flush=True)


# -- configuration ------------------------------------------------------------------------------
def _api(args: argparse.Namespace) -> RegistryApi:
    url = getattr(args, "url", None) or os.environ.get("REGISTRY_URL", "")
    key = getattr(args, "api_key", None) or os.environ.get("REGISTRY_API_KEY", "")
    if not url:
        raise UsageError(
            "Where is the registry? Set REGISTRY_URL (or pass --url) to its site root, for example "
            "https://registry.example"
        )
    if not key:
        raise UsageError("Set REGISTRY_API_KEY (or pass --api-key) to the API key your member administrator made.")
    return RegistryApi(url, key, timeout=getattr(args, "timeout", None) or 60.0, notify=say)


def _existing_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"{name} does not exist or is not a file.")
    return path


# -- hash ---------------------------------------------------------------------------------------
def run_hash(args: argparse.Namespace) -> int:
    source = _existing_file(args.raw)
    destination = Path(args.hashed)
    if destination.exists() and destination.resolve() == source.resolve():
        raise UsageError("The hashed file must be another file than the raw one.")
    if args.encoding:
        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise UsageError(
                f"Unknown encoding {args.encoding!r} (--encoding); for example utf-8 or gb18030."
            ) from None
    # A key file and the configuration are checked at once; the key is fetched once the file's
    # header is known to be right.
    offline = hasher_from_key_file(Path(args.key_file)) if args.key_file else None
    api = None if offline is not None else _api(args)
    used: list[SubjectHasher] = []

    def get_hasher() -> SubjectHasher:
        if offline is not None:
            hasher = offline
        else:
            assert api is not None
            hasher = hasher_from_api(api)
        # Which key the hashes use: the upload names it (--key-id) if the region rotates its key meanwhile.
        say(f"key_id: {hasher.key_id}")
        used.append(hasher)
        return hasher

    def report_invalid(line: int, refused: InvalidIdentifier) -> None:
        say(f"line {line}: {refused.rule}: {refused.message}")

    counts = hash_csv(
        source=source,
        destination=destination,
        id_type=args.type,
        id_column=args.id_column,
        get_hasher=get_hasher,
        report_invalid=report_invalid,
        notify=say,
        encoding=args.encoding,
        progress=Progress(unit="bytes") if sys.stderr.isatty() else None,
    )
    say(
        f"{counts.rows:,} rows read from {source}: {counts.written:,} hashed into {destination} "
        f"(key_id {used[0].key_id if used else '-'}), {counts.invalid:,} invalid and left out."
    )
    print_json({"rows": counts.rows, "written": counts.written, "invalid": counts.invalid})
    if counts.invalid and not args.skip_invalid:
        say("Some identity numbers are invalid (lines above); pass --skip-invalid to accept the file without them.")
        return EXIT_FAILED
    return EXIT_OK


# -- upload and status --------------------------------------------------------------------------
def _upload_path(upload_id: Any) -> str:
    return "uploads/" + urllib.parse.quote(str(upload_id), safe="")


def _counts(upload: dict[str, Any]) -> dict[str, Any]:
    nested = upload.get("counts")
    source = nested if isinstance(nested, dict) else upload
    return {name: source[name] for name in COUNTS if source.get(name) is not None}


def _reason(upload: dict[str, Any]) -> str:
    """The registry's explanation of a refusal or failure, whichever field carries it."""
    for name in ("message", "reason", "error", "failure_reason", "state_message", "detail"):
        value = upload.get(name)
        if isinstance(value, dict):
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def run_upload(args: argparse.Namespace) -> int:
    path = _existing_file(args.file)
    api = _api(args)
    fields = {"mode": args.mode, "error_policy": args.error_policy}
    if args.key_id:
        fields["key_id"] = args.key_id
    if args.encoding:
        fields["encoding"] = args.encoding
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}
    sending = Progress(unit="bytes") if sys.stderr.isatty() else None
    status, upload = api.request_json(
        "POST",
        "uploads",
        body=multipart_body(fields, "file", path),
        headers=headers,
        progress=(lambda sent, total: sending.show("sending", sent, total)) if sending else None,
    )
    if sending:
        sending.close()
    if not isinstance(upload, dict) or "id" not in upload:
        raise ClientError("The registry's answer to the upload has no upload id; is REGISTRY_URL right?")
    if status == 200:
        say(
            f"The registry already had this file (same content): upload {upload['id']} ({upload.get('state')}); "
            "it is not applied twice."
        )
    else:
        say(f"Upload {upload['id']} received ({upload.get('state')}).")
    if not args.wait:
        print_json(upload)
        return EXIT_OK
    try:
        upload = _wait(api, upload, interval=args.poll_interval, timeout=args.wait_timeout)
    except KeyboardInterrupt:
        raise ClientError(
            f"Stopped waiting. Upload {upload['id']} goes on without this client: "
            f"check it with `registry-client status {upload['id']}`."
        ) from None
    code = _outcome(api, upload, path)
    print_json(upload)
    return code


def _fraction(upload: dict[str, Any]) -> float | None:
    """The registry's own progress (0 to 1), for the time before it knows how many rows there are."""
    value = upload.get("progress")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _wait(api: RegistryApi, upload: dict[str, Any], *, interval: float, timeout: float | None) -> dict[str, Any]:
    upload_id = upload["id"]
    bar = Progress(unit="rows")
    started = time.monotonic()
    failures = 0
    while True:
        state = str(upload.get("state", ""))
        bar.show(state, upload.get("rows_processed"), upload.get("rows_total"), fraction=_fraction(upload))
        if state in TERMINAL_STATES:
            bar.close()
            return upload
        if timeout and time.monotonic() - started >= timeout:
            bar.close()
            raise ClientError(
                f"Upload {upload_id} is still {state} after {timeout:g} s; it goes on without this client: "
                f"check it with `registry-client status {upload_id}`."
            )
        time.sleep(interval)
        try:
            latest = api.get_json(_upload_path(upload_id))
        except NetworkError as exc:
            failures += 1
            if failures > POLL_NETWORK_FAILURES:
                bar.close()
                raise NetworkError(
                    f"{exc.message} Upload {upload_id} goes on without this client: "
                    f"check it with `registry-client status {upload_id}`."
                ) from None
            bar.close()
            say(f"{exc.message} Trying again.")
            time.sleep(min(interval * 2**failures, 60.0))
            continue
        failures = 0
        if isinstance(latest, dict):
            upload = latest


def _save_errors(api: RegistryApi, upload: dict[str, Any], path: Path) -> None:
    report = path.with_name(path.name + ".errors.csv")
    try:
        api.download(_upload_path(upload["id"]) + "/errors", report)
    except (ClientError, OSError) as exc:
        say(f"The error report could not be saved as {report}: {getattr(exc, 'message', exc)}")
        return
    say(f"The error report is saved as {report}.")


def _outcome(api: RegistryApi, upload: dict[str, Any], path: Path) -> int:
    upload_id, state = upload["id"], upload.get("state")
    reason = _reason(upload)
    because = f": {reason}" if reason else "."
    counts = _counts(upload)
    if state == "SUCCEEDED":
        summary = ", ".join(
            f"{name} {value:,}" if isinstance(value, int) else f"{name} {value}" for name, value in counts.items()
        )
        say(f"Upload {upload_id} SUCCEEDED{f' ({summary})' if summary else ''}.")
        if counts.get("invalid"):
            say(f"{counts['invalid']} invalid rows were skipped (error_policy skip_invalid_rows).")
            _save_errors(api, upload, path)
        return EXIT_OK
    if state == "REJECTED":
        say(
            f"Upload {upload_id} was REJECTED{because}"
            if reason
            else f"Upload {upload_id} was REJECTED; nothing was applied."
        )
        _save_errors(api, upload, path)
    elif state == "NEEDS_CONFIRMATION":
        say(
            f"Upload {upload_id} NEEDS_CONFIRMATION: this snapshot would withdraw more of the member's active "
            "entries than the region allows, so nothing was applied. A MEMBER_ADMIN must confirm it in the "
            "portal (or anyone allowed to upload can cancel it)."
        )
    elif state == "CANCELLED":
        say(f"Upload {upload_id} was CANCELLED; nothing was applied.")
    else:
        say(
            f"Upload {upload_id} FAILED on the registry's side; nothing was applied{because} "
            "Send the file again later, or tell the registry's operator."
        )
    return EXIT_FAILED


def run_status(args: argparse.Namespace) -> int:
    print_json(_api(args).get_json(_upload_path(args.id)))
    return EXIT_OK


# -- arguments ----------------------------------------------------------------------------------
def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _connection_options() -> argparse.ArgumentParser:
    # SUPPRESS, so the options work before or after the sub-command without one hiding the other.
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("connection")
    group.add_argument("--url", default=argparse.SUPPRESS, help="the registry's site root (default: $REGISTRY_URL)")
    group.add_argument("--api-key", default=argparse.SUPPRESS, help="an API key (default: $REGISTRY_API_KEY)")
    group.add_argument(
        "--timeout", type=_positive, default=argparse.SUPPRESS, help="seconds to wait for each answer (default: 60)"
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    connection = _connection_options()
    parser = argparse.ArgumentParser(
        prog="registry-client",
        description="Hash identity numbers and send nightly uploads to the regional registry.",
        parents=[connection],
    )
    parser.add_argument("--version", action="version", version=f"registry-client {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{hash,upload,status}")

    hashing = commands.add_parser(
        "hash",
        parents=[connection],
        help="turn a raw CSV export into an upload file",
        description="Replace the column of raw identity numbers by id_type and subject_hash (HMAC-SHA256 with "
        "the region's key); every other column is kept in order. Invalid numbers are reported by line and "
        "left out; a raw number is never written anywhere.",
    )
    hashing.add_argument("--type", required=True, choices=ID_TYPES, help="the kind of identity number")
    hashing.add_argument("--id-column", required=True, metavar="NAME", help="the column holding the raw numbers")
    hashing.add_argument(
        "--key-file", metavar="F", help='hash offline with this key: JSON {"key_id", "key_b64"} (default: ask the API)'
    )
    hashing.add_argument("--encoding", help="the raw file's encoding (default: detected: UTF-8, UTF-8 BOM or GB18030)")
    hashing.add_argument(
        "--skip-invalid", action="store_true", help="exit 0 even when some numbers are invalid (they are left out)"
    )
    hashing.add_argument("raw", help="the raw CSV file (with a header row; may be gzip-compressed)")
    hashing.add_argument("hashed", help="the upload file to write (gzip-compressed if its name ends in .gz)")
    hashing.set_defaults(handler=run_hash)

    upload = commands.add_parser(
        "upload",
        parents=[connection],
        help="send an upload file",
        description="Send a hashed CSV file (csv.md) to the registry. With --wait, follow it to the end: exit 0 "
        "only when it SUCCEEDED; when it is REJECTED the error report is saved as FILE.errors.csv.",
    )
    upload.add_argument("file", help="the hashed CSV file (.csv or .csv.gz)")
    upload.add_argument("--mode", choices=("delta", "snapshot"), default="delta", help="default: delta")
    upload.add_argument(
        "--error-policy",
        choices=("reject_file", "skip_invalid_rows"),
        default="reject_file",
        help="default: reject_file",
    )
    upload.add_argument("--key-id", help="the key_id of the file's hashes (default: the region's current key)")
    upload.add_argument("--encoding", help="the file's encoding (default: detected by the registry)")
    upload.add_argument(
        "--idempotency-key", metavar="K", help="the same key again returns the upload first made with it (24 hours)"
    )
    upload.add_argument("--wait", action="store_true", help="follow the upload to its end with a progress bar")
    upload.add_argument(
        "--poll-interval",
        type=_positive,
        default=POLL_INTERVAL,
        metavar="SECONDS",
        help=f"with --wait: seconds between checks (default: {POLL_INTERVAL:g})",
    )
    upload.add_argument(
        "--wait-timeout",
        type=_positive,
        metavar="SECONDS",
        help="with --wait: give up waiting after this long (exit 1; the upload goes on)",
    )
    upload.set_defaults(handler=run_upload)

    status = commands.add_parser(
        "status", parents=[connection], help="show an upload", description="Print an upload's state as JSON."
    )
    status.add_argument("id", help="the upload's id")
    status.set_defaults(handler=run_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a bad argument (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_FAILED
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ApiError as exc:
        say(exc.message)
        return exc.exit_code
    except ClientError as exc:
        say(f"registry-client: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("registry-client: interrupted.")
        return EXIT_FAILED
