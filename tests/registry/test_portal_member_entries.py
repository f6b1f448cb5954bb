"""The member's entries pages: /entries/, /entries/new/, /entries/<id>/."""

from __future__ import annotations

import datetime
import re

import pytest

from core.models import AuditEvent
from lenders.choices import Role
from registry.choices import EntryState
from registry.models import Entry, RelistBlock
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import (
    current_key,
    days_ago,
    entry_of,
    local_today,
    record_of,
    subject,
    submit,
)
from tests.registry.test_portal_member_support import (
    current_key_id,
    elements,
    raw_number_inputs,
    subject_form_field_names,
)


def _form(subject_hash: str, **changes: str) -> dict[str, str]:
    data = {
        "id_type": "RIC",
        "subject_hash": subject_hash,
        "key_id": "",
        "list": "BLACK",
        "reason": "SEVERE_OVERDUE",
        "event_date": days_ago(20, local_today()),
        "expires_on": "",
        "reference": "CASE-2026-001",
    }
    data.update(changes)
    return data


# -- the list -----------------------------------------------------------------------------------


def test_entries_list_shows_own_entries_only(member, other_member, user_with):
    mine = [subject("mine-1"), subject("mine-2")]
    for subject_hash in mine:
        submit(member, subject_hash)
    theirs = subject("theirs")
    submit(other_member, theirs, reference="THEIR-SECRET-REF")
    response = signed_in(user_with(member, Role.VIEWER), language="en").get("/entries/")
    assert response.status_code == 200
    html = page_text(response)
    for subject_hash in mine:
        assert subject_hash in html
    assert theirs[:12] not in html
    assert "THEIR-SECRET-REF" not in html
    assert "2 entries" in html


def test_entries_list_filters_by_list_reason_state_and_id_type(member, user_with):
    black, white, withdrawn, mobile = (subject(n) for n in ("black", "white", "withdrawn", "mobile"))
    submit(member, black, reason="FRAUD")
    submit(member, white, "WHITE", "GOOD_REPAYMENT")
    submit(member, withdrawn)
    submit(member, withdrawn, action="WITHDRAW")
    submit(member, mobile, id_type="MOBILE")
    client = signed_in(user_with(member, Role.VIEWER), language="en")

    def shown(query: str) -> set[str]:
        html = page_text(client.get(f"/entries/?{query}"))
        return {
            name
            for name, h in (("black", black), ("white", white), ("withdrawn", withdrawn), ("mobile", mobile))
            if h in html
        }

    assert shown("list=WHITE") == {"white"}
    assert shown("list=BLACK") == {"black", "withdrawn", "mobile"}
    assert shown("reason=FRAUD") == {"black"}
    assert shown("state=WITHDRAWN") == {"withdrawn"}
    assert shown("state=ACTIVE&list=BLACK") == {"black", "mobile"}
    assert shown("id_type=MOBILE") == {"mobile"}
    assert shown("") == {"black", "white", "withdrawn", "mobile"}


def test_entries_list_finds_one_subject_by_its_hash_in_either_case(member, user_with):
    wanted, other = subject("wanted"), subject("other")
    submit(member, wanted)
    submit(member, other)
    client = signed_in(user_with(member, Role.VIEWER), language="en")
    for typed in (wanted, f"  {wanted.upper()} "):
        html = page_text(client.get("/entries/", {"subject_hash": typed}))
        assert wanted in html
        assert other not in html
        assert "1 entry" in html


def test_a_malformed_hash_filter_is_named_and_shows_no_entries(member, user_with):
    submit(member, subject("any"))
    response = signed_in(user_with(member, Role.VIEWER), language="en").get("/entries/", {"subject_hash": "12ab"})
    html = page_text(response)
    assert response.status_code == 200
    assert "64 hexadecimal characters" in html
    assert subject("any") not in html
    assert "0 entries" in html


def test_entries_list_pages_by_50(member, user_with):
    for n in range(53):
        submit(member, subject(f"paged-{n}"))
    client = signed_in(user_with(member, Role.VIEWER), language="en")
    first = page_text(client.get("/entries/"))
    second = page_text(client.get("/entries/?page=2"))
    assert len(re.findall(r'href="/entries/\d+/"', first)) == 50
    assert len(re.findall(r'href="/entries/\d+/"', second)) == 3
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert subject("paged-0") in second
    assert subject("paged-52") in first


def test_entries_list_query_count_does_not_grow_with_rows(member, user_with, django_assert_max_num_queries):
    client = signed_in(user_with(member, Role.VIEWER))
    submit(member, subject("q-0"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/entries/")
    for n in range(1, 12):
        submit(member, subject(f"q-{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/entries/").status_code == 200


def test_entries_pages_hash_numbers_in_the_browser_only(member, user_with):
    client = signed_in(user_with(member, Role.UPLOADER), language="en")
    for url in ("/entries/", "/entries/new/"):
        html = page_text(client.get(url))
        raw = raw_number_inputs(html)
        assert len(raw) == 1
        assert "name" not in raw[0].attrs
        assert 'data-hash-key-url="/api/v1/region/hash-key"' in html
        assert "/static/registry/hashing.js" in html
        assert "needs JavaScript" in html


def test_a_viewer_cannot_hash_so_the_page_offers_the_hash_only(member, user_with):
    html = page_text(signed_in(user_with(member, Role.VIEWER), language="en").get("/entries/"))
    assert "data-hash-key-url" not in html
    assert "may not read the region's hash key" in html


# -- adding -------------------------------------------------------------------------------------


def test_add_a_black_entry_through_the_form(region, member, other_member, user_with):
    subject_hash = subject("new-black")
    submit(other_member, subject_hash)
    uploader = user_with(member, Role.UPLOADER)
    client = signed_in(uploader, language="en")
    response = client.post("/entries/new/", _form(subject_hash, key_id=current_key_id(region)))
    entry = entry_of(member, subject_hash)
    assert response.status_code == 302
    assert response["Location"] == f"/entries/{entry.pk}/"
    assert (entry.list, entry.reason, entry.state, entry.reference) == (
        "BLACK",
        "SEVERE_OVERDUE",
        "ACTIVE",
        "CASE-2026-001",
    )
    assert entry.hash_key == current_key(region)
    record = record_of(region, subject_hash)
    assert record is not None
    assert (record.status, record.black_score, record.black_members) == ("BLACK", 84, 2)
    event = AuditEvent.objects.get(action="entry.create", member_id=member.pk)
    assert (event.user_id, event.object_id) == (uploader.pk, str(entry.pk))
    html = page_text(client.get(response["Location"]))
    assert "The entry was added." in html
    assert subject_hash in html


def test_adding_again_replaces_the_members_entry(member, user_with):
    subject_hash = subject("replace")
    submit(member, subject_hash)
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    response = client.post("/entries/new/", _form(subject_hash, reason="WRITE_OFF"))
    assert response.status_code == 302
    assert entry_of(member, subject_hash).reason == "WRITE_OFF"
    assert Entry.objects.filter(member=member).count() == 1
    assert "was replaced" in page_text(client.get(response["Location"]))


def test_a_future_event_date_is_refused_on_its_field(member, user_with):
    tomorrow = (local_today() + datetime.timedelta(days=1)).isoformat()
    response = signed_in(user_with(member, Role.UPLOADER), language="en").post(
        "/entries/new/", _form(subject("future"), event_date=tomorrow)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["event_date"]
    html = page_text(response)
    assert 'id="id_event_date_error"' in html
    assert "The event date must not be in the future." in html
    assert not Entry.objects.exists()


def test_a_reason_of_the_other_list_is_refused_on_the_reason_field(member, user_with):
    response = signed_in(user_with(member, Role.UPLOADER), language="en").post(
        "/entries/new/", _form(subject("white-fraud"), list="WHITE", reason="FRAUD")
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["reason"]
    html = page_text(response)
    assert 'id="id_reason_error"' in html
    assert "does not belong to the White list" in html
    assert "Repaid on time" in html
    assert not Entry.objects.exists()


def test_several_refusals_each_land_on_their_field(member, user_with):
    response = signed_in(user_with(member, Role.UPLOADER), language="en").post(
        "/entries/new/", _form("not-a-hash", event_date="2020-02-30", reference="x" * 64, expires_on="2001-01-01")
    )
    errors = response.context["form"].errors
    assert set(errors) == {"subject_hash", "event_date", "expires_on"}
    assert "64 hexadecimal characters" in errors["subject_hash"][0]
    assert "real date" in errors["event_date"][0]


def test_a_relisting_block_shows_as_a_form_error(region, member, user_with):
    subject_hash = subject("blocked")
    RelistBlock.objects.create(
        member=member,
        hash_key=current_key(region),
        id_type="RIC",
        subject_hash=bytes.fromhex(subject_hash),
        until=local_today() + datetime.timedelta(days=90),
    )
    response = signed_in(user_with(member, Role.UPLOADER), language="en").post("/entries/new/", _form(subject_hash))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    html = page_text(response)
    assert "cannot be listed as BLACK again" in html
    assert not Entry.objects.exists()


def test_an_unknown_key_id_is_a_form_error(member, user_with):
    response = signed_in(user_with(member, Role.UPLOADER), language="en").post(
        "/entries/new/", _form(subject("key"), key_id="no-such-key")
    )
    assert response.status_code == 200
    assert "no-such-key" in " ".join(response.context["form"].non_field_errors())
    assert not Entry.objects.exists()


def test_the_add_form_never_takes_a_raw_number(member, user_with):
    html = page_text(signed_in(user_with(member, Role.UPLOADER)).get("/entries/new/"))
    assert subject_form_field_names(html) == {
        "csrfmiddlewaretoken",
        "id_type",
        "subject_hash",
        "key_id",
        "list",
        "reason",
        "event_date",
        "expires_on",
        "reference",
    }


def test_a_viewer_sees_the_list_but_may_not_add(member, user_with):
    client = signed_in(user_with(member, Role.VIEWER))
    assert client.get("/entries/").status_code == 200
    assert 'href="/entries/new/"' not in page_text(client.get("/entries/"))
    assert client.get("/entries/new/").status_code == 403
    assert client.post("/entries/new/", _form(subject("viewer"))).status_code == 403
    assert not Entry.objects.exists()


def test_an_analyst_and_the_operator_may_not_read_entries(operator, member, user_with):
    assert signed_in(user_with(member, Role.ANALYST)).get("/entries/").status_code == 403
    assert signed_in(user_with(operator, Role.OPERATOR_ADMIN)).get("/entries/").status_code == 403


def test_signing_in_is_required(client):
    response = client.get("/entries/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/entries/")


# -- detail and withdrawal ------------------------------------------------------------------------


def test_entry_detail_shows_the_entry(member, user_with):
    entry = submit(member, subject("detail"), "WHITE", "LONG_TERM_CLIENT", reference="R-77").entry
    assert entry is not None
    html = page_text(signed_in(user_with(member, Role.VIEWER), language="en").get(f"/entries/{entry.pk}/"))
    for shown in (subject("detail"), "Long-term client in good standing", "R-77", "White list", "Active"):
        assert shown in html
    assert "Read-only" in html
    assert "Withdraw the entry" not in html


def test_withdraw_an_entry(region, member, user_with):
    subject_hash = subject("withdraw")
    entry = submit(member, subject_hash, reason="COURT_ENFORCED").entry
    assert entry is not None
    assert record_of(region, subject_hash).status == "BLACK"  # type: ignore[union-attr]
    client = signed_in(user_with(member, Role.UPLOADER), language="en")
    response = client.post(f"/entries/{entry.pk}/", {"note": "repaid in full"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.WITHDRAWN
    assert record_of(region, subject_hash).status == "CLEAR"  # type: ignore[union-attr]
    assert AuditEvent.objects.get(action="entry.withdraw").details == {"note": "repaid in full"}
    html = page_text(client.get(response["Location"]))
    assert "was withdrawn" in html
    assert "Withdrawn" in html


def test_withdrawing_a_withdrawn_entry_says_why_not(member, user_with):
    subject_hash = subject("twice")
    entry = submit(member, subject_hash).entry
    assert entry is not None
    client = signed_in(user_with(member, Role.UPLOADER), language="en")
    assert client.post(f"/entries/{entry.pk}/", {"note": ""}).status_code == 302
    response = client.post(f"/entries/{entry.pk}/", {"note": ""})
    assert response.status_code == 200
    assert "Only an active entry can be withdrawn" in page_text(response)


def test_another_members_entry_is_not_found(member, other_member, user_with):
    theirs = submit(other_member, subject("theirs")).entry
    assert theirs is not None
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    assert client.get(f"/entries/{theirs.pk}/").status_code == 404
    assert client.post(f"/entries/{theirs.pk}/", {"note": "not mine"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == EntryState.ACTIVE


def test_a_viewer_may_not_withdraw(member, user_with):
    entry = submit(member, subject("viewer-withdraw")).entry
    assert entry is not None
    response = signed_in(user_with(member, Role.VIEWER)).post(f"/entries/{entry.pk}/", {"note": ""})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.state == EntryState.ACTIVE


def test_the_member_admin_sees_the_entrys_history_and_a_lookup_link(member, user_with):
    subject_hash = subject("history")
    admin = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    client.post("/entries/new/", _form(subject_hash))
    entry = entry_of(member, subject_hash)
    client.post(f"/entries/{entry.pk}/", {"note": "sold the loan"})
    html = page_text(client.get(f"/entries/{entry.pk}/"))
    assert "History" in html
    assert f"user:{admin.username}" in html
    assert "sold the loan" in html
    assert f"/lookups/?id_type=RIC&amp;subject_hash={subject_hash}" in html


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.VIEWER, "/entries/", "/lookups/"),
        (Role.ANALYST, "/lookups/", "/entries/"),
    ],
)
def test_navigation_shows_the_pages_the_role_may_open(member, user_with, role, shown, hidden):
    html = page_text(signed_in(user_with(member, role)).get("/"))
    links = {e.attrs.get("href") for e in elements(html, "a")}
    assert shown in links
    assert hidden not in links
