"""The corpus of bad files: each gets its specific error (code, line, column) and changes
nothing: no entry, no consensus record, no history row; the upload ends ``REJECTED`` with a
message, and its stored file is gone."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from core.models import AuditEvent
from lenders.models import Region
from registry.choices import UploadState
from registry.models import ConsensusHistory, ConsensusRecord, Entry
from registry.uploads.selectors import upload_errors
from tests.registry.helpers import subject, submit
from tests.registry.uploads.corpus import ANY_LINE, CORPUS, KEPT, BadFile


@pytest.fixture
def kept(member):  # type: ignore[no-untyped-def]
    """The member's existing entry, which every corpus file tries to change."""
    return submit(member, subject(KEPT)).entry


def _registry_state() -> tuple[Any, ...]:
    return (
        list(Entry.objects.order_by("id").values_list("id", "state", "list", "reason", "updated_at")),
        list(ConsensusRecord.objects.order_by("id").values_list("id", "status", "black_score", "updated_at")),
        ConsensusHistory.objects.count(),
    )


def _stored_files(media: Path) -> list[Path]:
    uploads = media / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_a_bad_file_gets_its_specific_error_and_changes_nothing(case: BadFile, send, region, kept, _media_root):
    if case.region:
        Region.objects.filter(pk=region.pk).update(**case.region)
    before = _registry_state()

    response = send(case.build(), **case.fields)

    assert response.status_code == 202, response.content
    upload = response.upload
    assert upload.state == UploadState.REJECTED, (upload.state, upload.message)
    errors = list(upload_errors(upload))
    found = [e for e in errors if e.code == case.code]
    assert found, [(e.line, e.column, e.code) for e in errors]
    if case.line != ANY_LINE:
        assert found[0].line == case.line, (found[0].line, found[0].message)
    if case.column:
        assert found[0].column == case.column
    assert found[0].message
    assert upload.message
    assert (upload.created, upload.updated, upload.withdrawn) == (0, 0, 0)
    assert _registry_state() == before
    assert AuditEvent.objects.filter(action="upload.reject", object_id=str(upload.pk)).count() == 1
    assert not upload.file_path and _stored_files(_media_root) == []


@pytest.mark.parametrize("case", [c for c in CORPUS if c.escaped_value], ids=lambda case: case.name)
def test_the_error_report_escapes_formulas(case: BadFile, send, uploader, kept):
    upload = send(case.build(), **case.fields).upload

    response = uploader.get(f"/api/v1/uploads/{upload.pk}/errors")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    cells = [cell for report_row in rows for cell in report_row.values()]
    assert "'" + case.escaped_value in cells
    assert case.escaped_value not in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
