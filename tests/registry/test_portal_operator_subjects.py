"""The operator's subject page: status, every member's entry, history and who looked it up."""

from __future__ import annotations

import pytest

from lenders.actors import Actor
from lenders.choices import Role
from lenders.models import Region
from lenders.services.regions import hash_key_rotate
from registry.services.lookups import lookup_subject
from tests.factories import MemberFactory, RegionFactory
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import lookup, operator_system, subject, submit


def _url(subject_hash: str, id_type: str = "RIC") -> str:
    return f"/subjects/{id_type}/{subject_hash}/"


@pytest.fixture
def listed(member, other_member):
    """A subject two members list BLACK (84, BLACK), each with its own private reference."""
    h = subject("operator-page")
    submit(member, h, reason="SEVERE_OVERDUE", reference="LOAN-0001")
    submit(other_member, h, reason="SEVERE_OVERDUE", reference="CASE-0002")
    return h


def test_operator_sees_status_score_reasons_and_flags(operator, listed, user_with):
    response = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get(_url(listed))
    assert response.status_code == 200
    html = page_text(response)
    assert "■ </span>Black" in html  # a symbol and the word, not colour alone
    assert "84 / 100" in html
    assert "Over 90 days overdue" in html  # the reason in words
    assert "2 members" in html
    assert "Conflict" not in html


def test_operator_sees_every_members_entry_with_name_and_reference(operator, member, other_member, listed, user_with):
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get(_url(listed)))
    for shown in (member.name, other_member.name, "LOAN-0001", "CASE-0002", "Black list", "Active"):
        assert shown in html


def test_history_shows_each_change_with_its_cause_in_words(operator, member, listed, user_with):
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get(_url(listed)))
    assert "2 changes, newest first" in html
    assert "Entry edit" in html
    assert f"Entry of {member.name}" in html
    assert "▲ </span>Watch" in html  # the first entry made it WATCH, the second BLACK
    assert "60 → 84" in html
    assert "— → 60" in html


def test_lookups_show_member_person_purpose_consent_and_result(operator, member, other_member, listed, user_with):
    analyst = user_with(other_member, Role.ANALYST)
    lookup_subject(
        actor=Actor.for_user(analyst),
        id_type="RIC",
        subject_hash=listed,
        purpose="POST_LOAN",
        consent_reference="CONSENT-77",
    )
    lookup(member, listed, purpose="UNDERWRITING")
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get(_url(listed)))
    assert "2 lookups, newest first" in html
    assert analyst.username in html
    assert "Post-loan management" in html
    assert "CONSENT-77" in html
    assert "Underwriting" in html
    lookups_section = html.split('id="lookups"', 1)[1]
    assert other_member.name in lookups_section
    assert member.name in lookups_section


def test_regulator_reads_the_subject_page(operator, member, listed, user_with):
    response = signed_in(user_with(operator, Role.REGULATOR), language="en").get(_url(listed))
    assert response.status_code == 200
    assert member.name in page_text(response)


@pytest.mark.parametrize("role", [Role.MEMBER_ADMIN, Role.ANALYST, Role.VIEWER])
def test_members_users_are_refused(member, listed, user_with, role):
    client = signed_in(user_with(member, role), language="en")
    assert client.get(_url(listed)).status_code == 403
    assert client.get("/subjects/").status_code == 403


def test_search_sends_to_the_subject_page_in_lower_case(operator, listed, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    response = client.get("/subjects/", {"id_type": "RIC", "subject_hash": f"  {listed.upper()} "})
    assert response.status_code == 302
    assert response["Location"] == _url(listed)
    assert client.get(_url(listed.upper()))["Location"] == _url(listed)


def test_search_shows_a_malformed_hash_on_its_field(operator, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    response = client.get("/subjects/", {"id_type": "RIC", "subject_hash": "abc"})
    assert response.status_code == 200
    html = page_text(response)
    assert "subject_hash must be 64 hexadecimal characters" in html
    assert "field-invalid" in html
    assert client.get(_url("zz" * 32)).status_code == 400


def test_a_subject_never_seen_is_clear(operator, user_with):
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get(_url(subject("never"))))
    assert "○ </span>Clear" in html
    assert "No member has an entry on this subject." in html
    assert "Nobody has looked this subject up" in html


def test_another_regions_operator_sees_nothing_of_this_subject(listed, member, user_with):
    elsewhere: Region = RegionFactory()  # type: ignore[assignment]
    MemberFactory(region=elsewhere)
    html = page_text(signed_in(user_with(elsewhere.operator, Role.OPERATOR_ADMIN), language="en").get(_url(listed)))
    assert member.name not in html
    assert "LOAN-0001" not in html
    assert "○ </span>Clear" in html


def test_an_older_key_is_chosen_with_key_id(region, operator, member, listed, user_with):
    old_key = region.current_hash_key.key_id
    hash_key_rotate(region=region, actor=operator_system(region))
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    assert member.name not in page_text(client.get(_url(listed)))  # the new key: nothing under it
    html = page_text(client.get(_url(listed), {"key_id": old_key}))
    assert member.name in html
    assert "Retired" in html
    response = client.get("/subjects/", {"id_type": "RIC", "subject_hash": listed, "key_id": old_key})
    assert response["Location"] == f"{_url(listed)}?key_id={old_key}"


def test_long_lookup_lists_are_paged(operator, member, listed, user_with):
    for _ in range(55):
        lookup(member, listed)
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    html = page_text(client.get(_url(listed)))
    assert "55 lookups, newest first" in html
    assert "Page 1 of 2" in html
    assert "lookups_page=2#lookups" in html
    second = page_text(client.get(_url(listed), {"lookups_page": 2}))
    assert "Page 2 of 2" in second


def test_subject_page_queries_do_not_grow_with_lookups(
    operator, member, other_member, listed, user_with, django_assert_max_num_queries
):
    for _ in range(20):
        lookup(member, listed)
        lookup(other_member, listed)
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    client.get(_url(listed))  # warm the session
    with django_assert_max_num_queries(16):
        assert client.get(_url(listed)).status_code == 200
