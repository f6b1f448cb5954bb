"""The lookup page: /lookups/."""

from __future__ import annotations

import pytest

from lenders.choices import Role
from registry.models import LookupRecord
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import days_ago, set_policy, subject, submit
from tests.registry.test_portal_member_support import (
    current_key_id,
    elements,
    lookup_records,
    raw_number_inputs,
    subject_form_field_names,
)


def _form(subject_hash: str, **changes: str) -> dict[str, str]:
    data = {"id_type": "RIC", "subject_hash": subject_hash, "key_id": "", "purpose": "UNDERWRITING"}
    data.update(changes)
    return data


def test_a_lookup_shows_the_status_in_words_and_the_score(region, member, other_member, user_with):
    subject_hash = subject("black")
    submit(member, subject_hash)
    submit(other_member, subject_hash)
    analyst = user_with(member, Role.ANALYST)
    response = signed_in(analyst, language="en").post("/lookups/", _form(subject_hash, consent_reference="C-1"))
    assert response.status_code == 200
    html = page_text(response)
    assert "status-black" in html
    assert "Black list" in html
    assert '<span class="stat-value">84</span>' in html
    assert '<span class="stat-value">2</span>' in html
    assert "Over 90 days overdue" in html
    assert "(2 members)" in html
    [record] = lookup_records(region)
    assert (record.user_id, record.member_id, record.purpose, record.consent_reference) == (
        analyst.pk,
        member.pk,
        "UNDERWRITING",
        "C-1",
    )
    assert (record.status, record.black_score, bytes(record.subject_hash).hex()) == ("BLACK", 84, subject_hash)
    assert str(record.id) in html


@pytest.mark.parametrize(
    ("entries", "status_class", "words"),
    [
        ([("BLACK", "FRAUD")], "status-watch", "Watch (grey list)"),
        ([("WHITE", "GOOD_REPAYMENT")], "status-white", "White list"),
        ([], "status-clear", "No record"),
    ],
)
def test_each_status_has_its_colour_and_words(region, other_member, member, user_with, entries, status_class, words):
    subject_hash = subject(f"status-{status_class}")
    for list_kind, reason in entries:
        submit(other_member, subject_hash, list_kind, reason)
    html = page_text(signed_in(user_with(member, Role.ANALYST), language="en").post("/lookups/", _form(subject_hash)))
    assert f'class="status-badge {status_class}"' in html
    assert words in html
    assert LookupRecord.objects.filter(region=region).count() == 1


def test_an_unseen_subject_is_clear_with_no_time(member, user_with):
    html = page_text(signed_in(user_with(member, Role.ANALYST), language="en").post("/lookups/", _form(subject("new"))))
    assert "No record" in html
    assert "Never: the registry has no entry on this subject" in html
    assert "You have no entry on this subject." in html


def test_the_result_shows_own_entry_flags_and_dates(member, other_member, user_with):
    subject_hash = subject("conflict")
    black_day = days_ago(40)
    own = submit(member, subject_hash, "WHITE", "GOOD_REPAYMENT", event_date=days_ago(90)).entry
    submit(other_member, subject_hash, reason="WRITE_OFF", event_date=black_day)
    assert own is not None
    html = page_text(
        signed_in(user_with(member, Role.MEMBER_ADMIN), language="en").post(
            "/lookups/", _form(subject_hash, purpose="POST_LOAN")
        )
    )
    assert "Conflict: black and white entries from different members" in html
    assert "Repaid on time" in html
    assert "Written off" in html
    assert black_day in html
    assert f'href="/entries/{own.pk}/"' in html
    assert "Status computed at" in html


def test_the_lookup_page_never_submits_a_raw_number(member, user_with):
    html = page_text(signed_in(user_with(member, Role.ANALYST), language="en").get("/lookups/"))
    assert subject_form_field_names(html) == {
        "csrfmiddlewaretoken",
        "id_type",
        "subject_hash",
        "key_id",
        "purpose",
        "consent_reference",
    }
    [raw] = raw_number_inputs(html)
    assert "name" not in raw.attrs
    assert 'data-hash-key-url="/api/v1/region/hash-key"' in html
    assert "needs JavaScript" in html


def test_a_posted_number_field_is_ignored(member, user_with):
    """Even a hand-made request with a raw number only looks up the hash it carries."""
    subject_hash = subject("only-hash")
    response = signed_in(user_with(member, Role.ANALYST)).post(
        "/lookups/", {**_form(subject_hash), "number": "360426199101010071", "raw": "360426199101010071"}
    )
    assert response.status_code == 200
    assert "360426199101010071" not in response.content.decode()
    assert bytes(LookupRecord.objects.get().subject_hash) == bytes.fromhex(subject_hash)


def test_the_key_used_in_the_browser_is_the_one_looked_up(region, member, user_with):
    response = signed_in(user_with(member, Role.ANALYST)).post(
        "/lookups/", _form(subject("keyed"), key_id=current_key_id(region))
    )
    assert response.status_code == 200
    assert LookupRecord.objects.get().hash_key.key_id == current_key_id(region)


def test_a_malformed_hash_is_named_and_not_recorded(member, user_with):
    response = signed_in(user_with(member, Role.ANALYST), language="en").post("/lookups/", _form("12345"))
    assert response.status_code == 200
    assert "subject_hash" in response.context["form"].errors
    assert 'id="id_subject_hash_error"' in page_text(response)
    assert not LookupRecord.objects.exists()


def test_the_purpose_is_required(member, user_with):
    response = signed_in(user_with(member, Role.ANALYST)).post("/lookups/", _form(subject("p"), purpose=""))
    assert "purpose" in response.context["form"].errors
    assert not LookupRecord.objects.exists()


def test_consent_is_required_when_the_region_says_so(region, member, user_with):
    set_policy(region, consent_reference_required=True)
    client = signed_in(user_with(member, Role.ANALYST), language="en")
    html = page_text(client.get("/lookups/"))
    assert 'name="consent_reference"' in html
    assert "required" in html
    response = client.post("/lookups/", _form(subject("consent")))
    assert "consent_reference" in response.context["form"].errors
    assert not LookupRecord.objects.exists()
    assert client.post("/lookups/", _form(subject("consent"), consent_reference="SIGNED-42")).status_code == 200
    assert LookupRecord.objects.get().consent_reference == "SIGNED-42"


def test_an_unknown_key_is_a_form_error(member, user_with):
    response = signed_in(user_with(member, Role.ANALYST)).post("/lookups/", _form(subject("k"), key_id="nope"))
    assert "nope" in " ".join(response.context["form"].non_field_errors())
    assert not LookupRecord.objects.exists()


def test_a_viewer_may_not_look_up(member, user_with):
    client = signed_in(user_with(member, Role.VIEWER))
    assert client.get("/lookups/").status_code == 403
    assert client.post("/lookups/", _form(subject("viewer"))).status_code == 403
    assert not LookupRecord.objects.exists()


def test_the_operator_may_not_look_up(operator, user_with):
    assert (
        signed_in(user_with(operator, Role.OPERATOR_ADMIN)).post("/lookups/", _form(subject("op"))).status_code == 403
    )
    assert not LookupRecord.objects.exists()


def test_the_page_can_be_opened_with_a_hash_filled_in(member, user_with):
    subject_hash = subject("prefill")
    html = page_text(
        signed_in(user_with(member, Role.ANALYST)).get(f"/lookups/?id_type=MOBILE&subject_hash={subject_hash}")
    )
    assert f'value="{subject_hash}"' in html
    [mobile] = [
        e for e in elements(html, "input") if e.attrs.get("name") == "id_type" and e.attrs.get("value") == "MOBILE"
    ]
    assert "checked" in mobile.attrs
    assert not LookupRecord.objects.exists()


def test_the_lookup_page_is_in_simplified_chinese_by_default(member, user_with):
    response = signed_in(user_with(member, Role.ANALYST)).get("/lookups/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
