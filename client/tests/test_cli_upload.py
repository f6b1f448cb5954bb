"""``registry-client upload`` and ``status`` (``commands.md``, ``api.md``) against a fake of the
registry's API: the multipart body, ``--wait`` to each terminal state and its exit code, the
error report saved beside the file, the API's error shape in plain words, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry_client import api as api_module

HASHED = (
    "id_type,subject_hash,list,reason,event_date\n"
    "RIC,8c19b712869e769ab137d07aaf8da3cc4134e9a0a1064298da5d71f8c83f91d7,BLACK,SEVERE_OVERDUE,2026-03-01\n"
)


@pytest.fixture
def hashed(tmp_path: Path) -> Path:
    path = tmp_path / "hashed.csv"
    path.write_text(HASHED, encoding="utf-8")
    return path


@pytest.fixture
def upload(cli: Any, registry: Any) -> Any:
    """``registry-client upload`` with the fake's URL and key and a short poll interval."""

    def run(*args: Any) -> Any:
        return cli("upload", "--url", registry.url, "--api-key", registry.api_key, "--poll-interval", "0.01", *args)

    return run


def progress_to(state: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        {"state": "VALIDATING", "rows_total": 1000, "rows_processed": 0},
        {"state": "VALIDATING", "rows_total": 1000, "rows_processed": 500},
        {"state": "APPLYING", "rows_total": 1000, "rows_processed": 1000},
        {"state": state, "rows_total": 1000, "rows_processed": 1000, **fields},
    ]


def test_the_file_is_sent_as_multipart_with_every_parameter(upload: Any, registry: Any, hashed: Path) -> None:
    result = upload(
        hashed,
        "--mode",
        "snapshot",
        "--error-policy",
        "skip_invalid_rows",
        "--key-id",
        "test-1",
        "--encoding",
        "gb18030",
        "--idempotency-key",
        "nightly-2026-11-26",
    )

    assert result.code == 0, result.err
    [request] = registry.requests_to("POST", "uploads")
    assert request.path == "/api/v1/uploads"
    assert request.headers["Authorization"] == f"Api-Key {registry.api_key}"
    assert request.headers["Idempotency-Key"] == "nightly-2026-11-26"
    assert request.headers["Content-Length"] == str(len(request.body))
    parts = request.multipart()
    assert set(parts) == {"mode", "error_policy", "key_id", "encoding", "file"}
    assert parts["mode"].content == b"snapshot"
    assert parts["error_policy"].content == b"skip_invalid_rows"
    assert parts["key_id"].content == b"test-1"
    assert parts["encoding"].content == b"gb18030"
    assert parts["file"].content == hashed.read_bytes()
    assert parts["file"].filename == "hashed.csv"
    assert parts["file"].content_type == "text/csv"
    assert result.json["id"] == 41
    assert result.json["state"] == "QUEUED"


def test_mode_and_error_policy_default_to_delta_and_reject_file(upload: Any, registry: Any, hashed: Path) -> None:
    assert upload(hashed).code == 0

    parts = registry.requests_to("POST", "uploads")[0].multipart()
    assert set(parts) == {"mode", "error_policy", "file"}
    assert (parts["mode"].content, parts["error_policy"].content) == (b"delta", b"reject_file")


def test_a_large_file_arrives_whole_with_the_length_announced(
    upload: Any, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv.gz"
    content = bytes(range(256)) * 12_000  # about 3 MB, many chunks
    path.write_bytes(b"\x1f\x8b" + content)

    assert upload(path).code == 0

    parts = registry.requests_to("POST", "uploads")[0].multipart()
    assert parts["file"].content == b"\x1f\x8b" + content
    assert parts["file"].content_type == "application/gzip"


def test_the_url_may_carry_a_path_prefix(cli: Any, registry: Any, hashed: Path) -> None:
    result = cli("upload", "--url", f"{registry.url}/registry/", "--api-key", registry.api_key, hashed)

    assert result.code == 0, result.err
    assert registry.requests[0].path == "/registry/api/v1/uploads"


def test_wait_follows_the_upload_and_exits_0_when_it_succeeded(upload: Any, registry: Any, hashed: Path) -> None:
    counts = {"created": 990, "updated": 5, "unchanged": 3, "withdrawn": 2, "invalid": 0}
    registry.progress = progress_to("SUCCEEDED", counts=counts)

    result = upload(hashed, "--wait")

    assert result.code == 0, result.err
    assert result.json["state"] == "SUCCEEDED"
    assert "VALIDATING" in result.err and "APPLYING" in result.err
    assert "500/1,000 rows" in result.err
    assert "Upload 41 SUCCEEDED (created 990, updated 5, unchanged 3, withdrawn 2, invalid 0)" in result.err
    assert len(registry.requests_to("GET", "uploads/41")) == 4
    assert not (hashed.parent / "hashed.csv.errors.csv").exists()


def test_wait_on_a_rejected_upload_saves_the_error_report_and_exits_1(upload: Any, registry: Any, hashed: Path) -> None:
    registry.progress = progress_to("REJECTED", message="1 invalid row; error_policy is reject_file")

    result = upload(hashed, "--wait")

    assert result.code == 1
    report = hashed.parent / "hashed.csv.errors.csv"
    assert report.read_bytes() == registry.errors_csv
    assert f"saved as {report}" in result.err
    assert "Upload 41 was REJECTED: 1 invalid row; error_policy is reject_file" in result.err
    assert result.json["state"] == "REJECTED"
    assert registry.requests_to("GET", "uploads/41/errors")


def test_wait_on_a_skip_invalid_rows_success_also_saves_the_report(upload: Any, registry: Any, hashed: Path) -> None:
    registry.progress = progress_to("SUCCEEDED", counts={"created": 998, "invalid": 2})

    result = upload(hashed, "--error-policy", "skip_invalid_rows", "--wait")

    assert result.code == 0
    assert (hashed.parent / "hashed.csv.errors.csv").exists()


def test_wait_on_a_snapshot_needing_confirmation_says_who_must_confirm(
    upload: Any, registry: Any, hashed: Path
) -> None:
    registry.progress = progress_to("NEEDS_CONFIRMATION")

    result = upload(hashed, "--mode", "snapshot", "--wait")

    assert result.code == 1
    assert "MEMBER_ADMIN must confirm it in the portal" in result.err


@pytest.mark.parametrize("state", ["CANCELLED", "FAILED"])
def test_wait_exits_1_on_the_other_terminal_states(upload: Any, registry: Any, hashed: Path, state: str) -> None:
    registry.progress = progress_to(state, message="the worker was stopped")

    result = upload(hashed, "--wait")

    assert result.code == 1
    assert f"Upload 41 {'was CANCELLED' if state == 'CANCELLED' else 'FAILED'}" in result.err


def test_wait_gives_up_after_its_timeout_but_says_how_to_follow(upload: Any, registry: Any, hashed: Path) -> None:
    registry.progress = [{"state": "VALIDATING", "rows_total": None, "rows_processed": 10}]

    result = upload(hashed, "--wait", "--wait-timeout", "0.05")

    assert result.code == 1
    assert "registry-client status 41" in result.err


def test_the_same_file_again_returns_the_existing_upload(upload: Any, registry: Any, hashed: Path) -> None:
    registry.upload_status = 200

    result = upload(hashed)

    assert result.code == 0
    assert "already had this file" in result.err


def test_an_api_error_is_shown_in_plain_words_with_exit_1(upload: Any, registry: Any, hashed: Path) -> None:
    registry.script(
        "POST",
        "uploads",
        403,
        {"error": {"code": "member_suspended", "message": "This member is suspended.", "details": {}}},
    )

    result = upload(hashed)

    assert result.code == 1
    assert "HTTP 403, member_suspended): This member is suspended." in result.err
    assert result.out == ""


def test_the_details_of_an_api_error_are_listed(upload: Any, registry: Any, hashed: Path) -> None:
    details = {"key_id": ["unknown key_id k9 for this region"], "file": {"3": ["bad"]}}
    registry.script(
        "POST", "uploads", 400, {"error": {"code": "validation_error", "message": "Invalid.", "details": details}}
    )

    result = upload(hashed)

    assert result.code == 1
    assert "key_id: unknown key_id k9 for this region" in result.err
    assert "file.3: bad" in result.err


def test_a_wrong_api_key_points_at_registry_api_key(cli: Any, registry: Any, hashed: Path) -> None:
    result = cli("upload", "--url", registry.url, "--api-key", "wrong.key", hashed)

    assert result.code == 1
    assert "HTTP 401" in result.err and "REGISTRY_API_KEY" in result.err


def test_a_file_over_the_limit_is_reported(upload: Any, registry: Any, hashed: Path) -> None:
    registry.script(
        "POST", "uploads", 413, {"error": {"code": "too_large", "message": "The file is over 1 GiB.", "details": {}}}
    )

    result = upload(hashed)

    assert result.code == 1
    assert "too_large" in result.err


def test_an_answer_that_is_not_the_registry_s_is_explained(upload: Any, registry: Any, hashed: Path) -> None:
    registry.script("POST", "uploads", 502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})

    result = upload(hashed)

    assert result.code == 1
    assert "HTTP 502" in result.err and "REGISTRY_URL" in result.err
    assert "<html>" not in result.err


def test_throttling_is_retried_after_the_time_the_registry_asks(
    upload: Any, registry: Any, hashed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(api_module.time, "sleep", waits.append)
    too_many = {"error": {"code": "throttled", "message": "Slow down.", "details": {}}}
    registry.script("POST", "uploads", 429, too_many, {"Retry-After": "7"})
    registry.script("POST", "uploads", 503, too_many, {"Retry-After": "2"})

    result = upload(hashed)

    assert result.code == 0, result.err
    assert waits == [7.0, 2.0]
    sent = registry.requests_to("POST", "uploads")
    assert len(sent) == 3
    assert sent[-1].multipart()["file"].content == hashed.read_bytes()


def test_retries_are_bounded(upload: Any, registry: Any, hashed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_module.time, "sleep", lambda seconds: None)
    for _ in range(api_module.MAX_RETRIES + 5):
        registry.script("POST", "uploads", 503, {"error": {"code": "unavailable", "message": "Down.", "details": {}}})

    result = upload(hashed)

    assert result.code == 1
    assert "HTTP 503, unavailable" in result.err
    assert len(registry.requests_to("POST", "uploads")) == api_module.MAX_RETRIES + 1


@pytest.mark.parametrize(
    ("header", "attempt", "expected"),
    [("12", 0, 12.0), (None, 0, 1.0), (None, 3, 8.0), ("100000", 0, api_module.MAX_RETRY_WAIT), ("soon", 1, 2.0)],
)
def test_retry_after_is_honoured_within_bounds(header: str | None, attempt: int, expected: float) -> None:
    assert api_module.retry_after(header, attempt) == expected


def test_an_unreachable_registry_says_to_check_registry_url(cli: Any, hashed: Path) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = cli("upload", "--url", f"http://127.0.0.1:{port}", "--api-key", "k", hashed)

    assert result.code == 1
    assert "Cannot reach the registry" in result.err and "REGISTRY_URL" in result.err


def test_configuration_comes_from_the_environment(
    cli: Any, registry: Any, hashed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_URL", registry.url)
    monkeypatch.setenv("REGISTRY_API_KEY", registry.api_key)

    assert cli("upload", hashed).code == 0


@pytest.mark.parametrize("missing", ["url", "key"])
def test_missing_configuration_exits_2(cli: Any, hashed: Path, missing: str) -> None:
    args = ["--api-key", "k"] if missing == "url" else ["--url", "http://127.0.0.1:9"]

    result = cli("upload", *args, hashed)

    assert result.code == 2
    assert ("REGISTRY_URL" if missing == "url" else "REGISTRY_API_KEY") in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["--mode", "replace"],
        ["--error-policy", "ignore"],
        ["--poll-interval", "0"],
    ],
)
def test_bad_arguments_exit_2(cli: Any, hashed: Path, args: list[str]) -> None:
    assert cli("upload", "--url", "http://127.0.0.1:9", "--api-key", "k", hashed, *args).code == 2


def test_a_missing_file_exits_2(cli: Any, tmp_path: Path) -> None:
    assert cli("upload", "--url", "http://127.0.0.1:9", "--api-key", "k", tmp_path / "none.csv").code == 2


def test_status_prints_the_upload(cli: Any, registry: Any, upload: Any, hashed: Path) -> None:
    upload(hashed)
    registry.progress = [{"state": "APPLYING", "rows_total": 10, "rows_processed": 4}]

    result = cli("status", "41", "--url", registry.url, "--api-key", registry.api_key)

    assert result.code == 0
    assert result.json["id"] == 41
    assert result.json["state"] == "APPLYING"


def test_status_of_an_unknown_upload_exits_1(cli: Any, registry: Any) -> None:
    result = cli("--url", registry.url, "--api-key", registry.api_key, "status", "999")

    assert result.code == 1
    assert "HTTP 404, not_found" in result.err
