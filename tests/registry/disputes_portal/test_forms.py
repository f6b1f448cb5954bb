"""The dispute forms keep what was typed and show each refusal next to its field."""

from __future__ import annotations

import datetime
import re

from django.core.files.uploadedfile import SimpleUploadedFile

from lenders.choices import Role
from registry.choices import DisputeItemState
from registry.models import Dispute, Entry
from tests.registry.disputes_portal.helpers import answer_item, file_dispute, item_of
from tests.registry.disputes_portal.html import field_errors, named, parse, selected_option
from tests.registry.helpers import days_ago, local_today, subject


def _filing(subject_hash: str, **changes: str) -> dict[str, str]:
    data = {"id_type": "RIC", "subject_hash": subject_hash, "key_id": "", "grounds": "NOT_ME", "statement": "Not me."}
    data.update(changes)
    return data


def test_filing_refusals_sit_next_to_their_fields_and_keep_the_input(filer, listed, client_of):
    response = client_of(filer, Role.ANALYST).post(
        "/disputes/new/", _filing("not-a-hash", grounds="", statement="Kept statement")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "grounds") == ["This field is required."]
    assert field_errors(html, "subject_hash")
    assert "Kept statement" in html
    assert 'value="not-a-hash"' in html
    assert not Dispute.objects.exists()


def test_a_subject_without_black_entries_is_refused_on_the_form(filer, client_of):
    response = client_of(filer, Role.ANALYST).post("/disputes/new/", _filing(subject("never-listed")))
    assert response.status_code == 400
    assert "nothing to dispute" in response.content.decode()


def test_a_second_filing_links_to_the_open_dispute(filer, listed, client_of):
    first = file_dispute(filer, listed)
    response = client_of(filer, Role.ANALYST).post("/disputes/new/", _filing(listed))
    assert response.status_code == 400
    html = response.content.decode()
    assert f"#{first.pk}" in html
    assert f'href="/disputes/{first.pk}/" data-open-dispute' in html
    assert Dispute.objects.count() == 1


def test_the_filing_form_hashes_in_the_browser_and_prefills_from_a_lookup(filer, listed, client_of):
    html = client_of(filer, Role.ANALYST).get(f"/disputes/new/?id_type=USCC&subject_hash={listed}").content.decode()
    root = parse(html)
    raw = root.find_all(lambda n: "data-raw-number" in n.attrs)
    assert len(raw) == 1 and "name" not in raw[0].attrs  # the number itself is never sent
    assert named(root, "subject_hash").attrs["value"] == listed
    assert "checked" in named(root, "id_type", "USCC").attrs
    assert "/static/registry/hashing.js" in html


def test_an_answer_without_a_note_is_refused_next_to_the_note(member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    url = f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/"
    response = client_of(member, Role.ANALYST).post(url, {"decision": "CONFIRM", "note": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "note") == ["This field is required."]
    assert item_of(dispute, member).state == DisputeItemState.OPEN


def test_a_correction_with_a_future_date_is_refused_next_to_that_date(member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    url = f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/"
    future = (local_today() + datetime.timedelta(days=1)).isoformat()
    response = client_of(member, Role.ANALYST).post(
        url,
        {
            "decision": "CORRECT",
            "note": "Wrong date in our file.",
            "corrected_reason": "WRITE_OFF",
            "corrected_event_date": future,
            "corrected_expires_on": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "corrected_event_date") == ["The event date must not be in the future."]
    assert "Wrong date in our file." in html
    assert item_of(dispute, member).state == DisputeItemState.OPEN


def test_a_correction_changes_the_entry_and_is_shown_to_the_filer(member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    url = f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/"
    form = client_of(member, Role.ANALYST).get(url).content.decode()
    assert selected_option(parse(form), "corrected_reason") == "SEVERE_OVERDUE"
    response = client_of(member, Role.ANALYST).post(
        url,
        {
            "decision": "CORRECT",
            "note": "It was written off.",
            "corrected_reason": "WRITE_OFF",
            "corrected_event_date": days_ago(30, local_today()),
            "corrected_expires_on": "",
        },
    )
    assert response.status_code == 302
    entry = Entry.objects.get(member=member, subject_hash=bytes.fromhex(listed))
    assert entry.reason == "WRITE_OFF"
    filer_page = client_of(filer, Role.ANALYST).get(f"/disputes/{dispute.pk}/").content.decode()
    assert re.search(r"Reason: Over 90 days overdue → Written off", filer_page)


def test_an_answered_item_shows_no_form_any_more(member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "CONFIRM")
    url = f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/"
    html = client_of(member, Role.ANALYST).get(url).content.decode()
    assert "data-not-answerable" in html
    assert "data-answer-form" not in html
    posted = client_of(member, Role.ANALYST).post(url, {"decision": "WITHDRAW", "note": "changed my mind"})
    assert posted.status_code == 400
    assert "already answered" in posted.content.decode()


def test_an_escalation_without_a_reason_is_refused_next_to_the_reason(member, other_member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "WITHDRAW")
    response = client_of(filer, Role.ANALYST).post(f"/disputes/{dispute.pk}/escalate/", {"reason": "  "})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "reason") == ["This field is required."]
    assert Dispute.objects.get(pk=dispute.pk).state == "RESOLVED"


def test_a_file_that_is_not_a_pdf_is_refused_next_to_the_file_field(filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    fake = SimpleUploadedFile("statement.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = client_of(filer, Role.ANALYST).post(f"/disputes/{dispute.pk}/evidence/", {"file": fake})
    assert response.status_code == 400
    errors = field_errors(response.content.decode(), "file")
    assert errors == ["Not a PDF, JPEG or PNG file (checked by content, not by name)."]
    assert not dispute.evidence.exists()


def test_an_evidence_file_is_added_and_listed(filer, member, listed, client_of):
    dispute = file_dispute(filer, listed)
    png = SimpleUploadedFile("photo of receipt.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    response = client_of(filer, Role.ANALYST).post(f"/disputes/{dispute.pk}/evidence/", {"file": png})
    assert response.status_code == 302
    evidence = dispute.evidence.get()
    html = client_of(member, Role.VIEWER).get(f"/disputes/{dispute.pk}/").content.decode()
    assert f"/disputes/{dispute.pk}/evidence/{evidence.pk}/" in html
    assert "photo of receipt.png" in html


def test_an_arbitration_without_a_reason_comes_back_with_the_error(
    operator, member, other_member, filer, listed, client_of
):
    from registry.services.disputes import dispute_escalate
    from tests.registry.helpers import member_actor

    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "WITHDRAW")
    dispute_escalate(actor=member_actor(filer), dispute_id=dispute.pk, reason="Court ruling.")
    item = item_of(dispute, member)
    response = client_of(operator, Role.OPERATOR_ADMIN).post(
        f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/", {f"item-{item.pk}-decision": "REMOVE"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, f"item-{item.pk}-reason") == ["This field is required."]
    assert "checked" in named(parse(html), f"item-{item.pk}-decision", "REMOVE").attrs
    assert item_of(dispute, member).state == DisputeItemState.CONFIRMED


def test_a_refusal_of_a_form_the_page_no_longer_shows_is_said_at_the_top(
    member, other_member, filer, listed, client_of
):
    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "WITHDRAW")
    answer_item(dispute, other_member, "WITHDRAW")  # nothing confirmed: no escalation possible
    response = client_of(filer, Role.ANALYST).post(f"/disputes/{dispute.pk}/escalate/", {"reason": "Please decide."})
    assert response.status_code == 400
    html = response.content.decode()
    assert "data-escalate-form" not in html
    refusals = parse(html).find_all(lambda n: "data-refusals" in n.attrs)
    assert len(refusals) == 1
    assert "nothing to escalate" in refusals[0].text()
    closed = client_of(filer, Role.ANALYST).post(
        f"/disputes/{dispute.pk}/evidence/",
        {"file": SimpleUploadedFile("late.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")},
    )
    assert closed.status_code == 400
    assert "Evidence can be added while a dispute is open or escalated" in closed.content.decode()
