"""Hostile input (``quality.md``, Security: every input bounded and validated, a 4xx in the
error shape, never a 500): oversized bodies and batches, gzip bombs, hostile file names,
formula injection in every exported CSV, SQL and filter injection in query parameters."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from lenders.models import Region
from registry.choices import UploadState
from registry.models import Entry, Upload
from registry.uploads.report import spreadsheet_safe
from tests.registry.helpers import error_of, subject, submit
from tests.registry.uploads.helpers import HEADER, csv_bytes, row
from tests.security.urlconf import routes

BATCH = "/api/v1/lookups/batch"


@pytest.fixture
def analyst(member, key_client):  # type: ignore[no-untyped-def]
    return key_client(member, scopes=["lookup", "entries", "upload", "disputes"])


# -- oversized bodies and batches ----------------------------------------------------------------


def test_a_json_body_over_the_request_limit_is_a_413_in_the_error_shape(analyst):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({"purpose": "UNDERWRITING", "subjects": [], "consent_reference": padding})

    error_of(analyst.post(BATCH, body, content_type="application/json"), 413, "too_large")


def test_a_batch_over_ten_thousand_subjects_is_a_400(analyst):
    subjects = [{"id_type": "RIC", "subject_hash": f"{n:064x}"} for n in range(10_001)]
    body = {"purpose": "UNDERWRITING", "subjects": subjects}

    response = analyst.post(BATCH, body, format="json")

    assert response.status_code in (400, 413), response.status_code
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "null",
        '"text"',
        '{"purpose": "UNDERWRITING", "subjects": {"id_type": "RIC"}}',
        '{"purpose": "UNDERWRITING", "subjects": [1, 2, 3]}',
        '{"purpose": "UNDERWRITING", "subjects": [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}',
        '{"purpose": ["UNDERWRITING"], "subjects": []}',
        '{"purpose": "UNDERWRITING", "subjects": [{"id_type": "RIC", "subject_hash": {"$gt": ""}}]}',
        '{"purpose": "UNDERWRITING", "subjects": [], "purpose": "x"}',
        "{" * 5000,
        '{"purpose": "UNDERWRITING", "subjects": [{"id_type": "RIC", "subject_hash": "' + "\\u0000" * 64 + '"}]}',
    ],
    ids=lambda body: body[:40],
)
def test_malformed_batch_bodies_are_400s(analyst, body):
    response = analyst.post(BATCH, body, content_type="application/json")

    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert set(response.json()) == {"error"}


def test_an_entry_body_over_the_request_limit_is_a_413(analyst):
    body = json.dumps({"id_type": "RIC", "subject_hash": subject(1), "reference": "r" * 3_000_000})

    error_of(analyst.post("/api/v1/entries", body, content_type="application/json"), 413, "too_large")


# -- gzip bombs ---------------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_by_its_uncompressed_size_while_streaming(
    member, region, analyst, eager_celery, django_capture_on_commit_callbacks
):
    """A few hundred kilobytes that inflate to 200 MB: the job stops reading at the region's
    limit (``registry/uploads/reading.py`` counts inflated bytes as it streams) instead of
    inflating it all. See also tests/registry/uploads/test_reading.py."""
    Region.objects.filter(pk=region.pk).update(upload_max_bytes=1_000_000)
    line = ",".join(row("bomb").values()).encode() + b"\n"
    inflated = 200_000_000
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb", compresslevel=9) as out:
        out.write(",".join(HEADER).encode() + b"\n")
        block = line * (1_000_000 // len(line))
        for _ in range(inflated // len(block)):
            out.write(block)
    assert len(bomb.getvalue()) < 1_000_000 < inflated

    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(
            "/api/v1/uploads", {"file": SimpleUploadedFile("bomb.csv.gz", bomb.getvalue())}, format="multipart"
        )

    assert response.status_code == 202, response.content
    upload = Upload.objects.get(pk=response.json()["id"])
    assert upload.state == UploadState.REJECTED
    assert upload.errors.filter(code="file_too_large").exists()
    assert upload.bytes_read <= 1_000_000 + 64 * 1024, "it stopped reading at the limit"
    assert not Entry.objects.filter(member=member).exists()


# -- hostile file names -------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "/var/lib/registry/settings.py",
    "uploads/1/../../2/stolen.csv",
    "nul\x00.csv",
    "CON",
    ".htaccess",
    "\u202egpj.csv",
    "a" * 5000 + ".csv",
    "<script>alert(1)</script>.csv",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_the_stored_name_never_comes_from_the_client(name, member, analyst, tmp_path):
    response = analyst.post(
        "/api/v1/uploads",
        {"file": SimpleUploadedFile(name, csv_bytes([row(f"name-{len(name)}")]))},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    upload = Upload.objects.get(pk=response.json()["id"])
    stored = upload.file_path
    assert stored.startswith(f"uploads/{member.pk}/") and stored.endswith(".upload")
    assert len(stored.rsplit("/", 1)[1]) == len("0" * 32 + ".upload")
    assert ".." not in stored and "\\" not in stored
    shown = upload.file_name
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown and "\u202e" not in shown
    assert len(shown) <= 200
    media = tmp_path / "media"
    assert [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()] == [stored]


# -- formula injection in exported CSV ----------------------------------------------------------

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)"]
# Every view that answers text/csv, by route name; a new export must be added here.
CSV_EXPORTS = {"api-upload-errors": "/api/v1/uploads/{id}/errors", "upload-errors": "/uploads/{id}/errors.csv"}


def test_every_csv_export_is_in_the_table():
    exports = {route.name for route in routes() if "csv" in route.pattern or route.pattern.endswith("errors")}
    assert exports <= set(CSV_EXPORTS), exports - set(CSV_EXPORTS)


@pytest.mark.parametrize("value", FORMULAS, ids=range(len(FORMULAS)))
def test_a_formula_is_never_a_formula_in_a_spreadsheet(value):
    assert spreadsheet_safe(value).startswith("'")


def test_every_exported_csv_escapes_formulas_in_every_cell(
    member, analyst, user_with, eager_celery, django_capture_on_commit_callbacks
):
    rows = [row(f"f-{n}", subject_hash=formula, reference=formula) for n, formula in enumerate(FORMULAS)]
    header = [*HEADER, *FORMULAS[:2]]
    content = csv_bytes([[*r.values(), "x", "y"] for r in rows], header)
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(
            "/api/v1/uploads",
            {"file": SimpleUploadedFile("f.csv", content), "error_policy": "skip_invalid_rows"},
            format="multipart",
        )
    upload = Upload.objects.get(pk=response.json()["id"])
    assert upload.errors.exists()
    portal = Client()
    portal.force_login(user_with(member, "UPLOADER"))

    for name, path in CSV_EXPORTS.items():
        client: Any = portal if not name.startswith("api-") else analyst
        answer = client.get(path.format(id=upload.pk))
        assert answer.status_code == 200, (name, answer.status_code)
        assert answer["Content-Type"].startswith("text/csv")
        text = b"".join(answer.streaming_content).decode("utf-8-sig")
        cells = [cell for record in csv.reader(io.StringIO(text)) for cell in record]
        assert any(cell.startswith("'") for cell in cells), (name, text[:500])
        dangerous = [cell for cell in cells if cell[:1] in "=+-@\t\r＝＋－＠"]
        assert dangerous == [], (name, dangerous)


# -- SQL and filter injection -------------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "1 OR 1=1",
    "1; DROP TABLE registry_entry; --",
    "1' UNION SELECT password FROM lenders_user --",
    "%' --",
    "\x00",
    "0x" + "f" * 200,
    "𝕏" * 300,
    "9" * 400,
    "-1",
    "[]",
    '{"$ne": null}',
]
LIST_QUERIES = {
    "/api/v1/entries": ["subject_hash", "id_type", "list", "reason", "state", "cursor", "page_size"],
    "/api/v1/uploads": ["state", "mode", "cursor", "page_size"],
    "/api/v1/audit-events": ["action", "object_type", "object_id", "member_id", "request_id", "since", "cursor"],
    "/api/v1/members": ["status", "excluded_from_consensus", "cursor"],
}


@pytest.mark.parametrize("value", INJECTIONS, ids=range(len(INJECTIONS)))
def test_injection_in_query_parameters_is_a_4xx_or_only_own_data(value, member, other_member, operator, key_client):
    submit(member, subject("mine"))
    submit(other_member, subject("theirs"), reference="THEIRS-SECRET")
    clients = {
        "/api/v1/entries": key_client(member, scopes=["entries"]),
        "/api/v1/uploads": key_client(member, scopes=["upload"]),
        "/api/v1/audit-events": key_client(operator, role="OPERATOR_ADMIN"),
        "/api/v1/members": key_client(operator, role="OPERATOR_ADMIN"),
    }
    for path, parameters in LIST_QUERIES.items():
        for parameter in [*parameters, "ordering", "id__in", "member", "member__id", "format"]:
            response = clients[path].get(path, {parameter: value})
            assert response.status_code in (200, 400, 404), (path, parameter, response.status_code)
            assert set(response.json()) <= {"error", "results", "next", "previous", "count"}
            if path == "/api/v1/entries" and response.status_code == 200:
                assert "THEIRS-SECRET" not in response.content.decode()
    lookup = key_client(member, scopes=["lookup"]).get(f"/api/v1/lookups/RIC/{value}", {"purpose": value})
    assert lookup.status_code in (400, 404), lookup.status_code
    assert Entry.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM registry_entry")
        assert cursor.fetchone()[0] == 2


PORTAL_PARAMETERS = ["q", "page", "state", "list", "reason", "action", "member", "since", "until", "cursor", "sort"]


@pytest.mark.parametrize("value", INJECTIONS[:6], ids=range(6))
def test_injection_in_portal_query_parameters_never_breaks_a_page(value, member, operator, user_with):
    submit(member, subject("mine"))
    pages = sorted(
        "/" + route.pattern
        for route in routes()
        if not route.is_api and not route.has_parameters and route.name not in {"logout", "set_language", "metrics"}
    )
    for org, roles in ((member, ["MEMBER_ADMIN", "ANALYST", "UPLOADER"]), (operator, ["OPERATOR_ADMIN"])):
        client = Client()
        client.force_login(user_with(org, *roles))
        for path in pages:
            response = client.get(path, dict.fromkeys(PORTAL_PARAMETERS, value))
            assert response.status_code in (200, 302, 400, 403, 404, 405), (path, response.status_code)
    assert Entry.objects.count() == 1
