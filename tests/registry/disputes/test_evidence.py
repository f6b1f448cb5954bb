"""Evidence files (``disputes.md``): PDF, JPEG or PNG up to 10 MiB, the type checked by
content; stored under a random name; fetched only by the parties and the operator."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from registry.models import DisputeEvidence
from registry.services.evidence_files import MAX_EVIDENCE_BYTES, clean_name
from tests.factories import MemberFactory
from tests.registry.disputes.helpers import answer, file
from tests.registry.helpers import error_of, subject, submit

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def dispute(member, filer):  # type: ignore[no-untyped-def]
    h = subject("evidence")
    submit(member, h)
    return file(filer, h)


def _send(client, dispute, content: bytes, name: str = "receipt.pdf", content_type: str = "application/pdf"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/disputes/{dispute.pk}/evidence",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_a_pdf_is_stored_under_a_random_name_and_fetched_by_the_parties(
    region, member, filer, dispute, disputes_api, key_client
):
    response = _send(disputes_api(filer), dispute, PDF, name="../../还款凭证 March.pdf")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["party"], body["name"], body["content_type"], body["size"]) == (
        "FILER",
        "还款凭证 March.pdf",
        "application/pdf",
        len(PDF),
    )
    stored = str(DisputeEvidence.objects.get().file.name)
    assert "还款凭证" not in stored and stored.startswith("disputes/evidence/")
    assert len(stored.rsplit("/", 1)[1]) > 60
    assert AuditEvent.objects.filter(action="dispute.evidence_add").exists()

    listed = disputes_api(member).get(f"/api/v1/disputes/{dispute.pk}").json()["evidence"]
    assert [(e["id"], e["party"], e["name"], e["url"]) for e in listed] == [
        (body["id"], "FILER", "还款凭证 March.pdf", body["url"])
    ]
    for client in (disputes_api(filer), disputes_api(member), key_client(region.operator, role="REGULATOR")):
        download = client.get(body["url"])
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment;")
        assert download["Cache-Control"] == "private, no-store"


def test_a_file_renamed_to_pdf_but_not_a_pdf_is_refused(filer, dispute, disputes_api):
    response = _send(disputes_api(filer), dispute, b"MZ\x90\x00 this is a Windows program", name="receipt.pdf")

    error_of(response, 415, "unsupported_media_type")
    assert not DisputeEvidence.objects.exists()


def test_a_png_is_taken_whatever_its_name(member, dispute, disputes_api):
    response = _send(disputes_api(member), dispute, PNG, name="scan.pdf", content_type="application/pdf")

    assert response.status_code == 201
    assert (response.json()["content_type"], response.json()["party"]) == ("image/png", "RESPONDENT")
    assert str(DisputeEvidence.objects.get().file.name).endswith(".png")


def test_a_file_over_10_mib_is_413(filer, dispute, disputes_api):
    big = b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES

    error_of(_send(disputes_api(filer), dispute, big), 413, "too_large")
    assert not DisputeEvidence.objects.exists()


def test_another_member_cannot_fetch_evidence_by_guessing_its_url(region, filer, dispute, disputes_api):
    url = _send(disputes_api(filer), dispute, PDF).json()["url"]
    stranger = MemberFactory(region=region)

    error_of(disputes_api(stranger).get(url), 404, "not_found")
    error_of(
        disputes_api(stranger).post(f"/api/v1/disputes/{dispute.pk}/evidence", {}, format="multipart"), 404, "not_found"
    )


def test_a_missing_file_is_400(filer, dispute, disputes_api):
    error_of(
        disputes_api(filer).post(f"/api/v1/disputes/{dispute.pk}/evidence", {}, format="multipart"),
        400,
        "validation_error",
    )


def test_no_evidence_after_the_dispute_is_resolved(member, filer, dispute, disputes_api):
    answer(dispute, member, "CONFIRM")

    error_of(_send(disputes_api(filer), dispute, PDF), 409, "dispute_closed")


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("C:\\Users\\me\\scan.jpg", "scan.jpg"),
        ("a\x00b<script>.pdf", "ab_script_.pdf"),
        ("", "evidence"),
        ("....", "evidence"),
    ],
)
def test_names_are_cleaned_for_display(sent, shown):
    assert clean_name(sent) == shown
