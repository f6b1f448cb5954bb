"""The lookup result card links to filing a dispute on the subject, once the disputes pages
exist, and the page carries what the batch mode needs."""

from __future__ import annotations

import pytest

from registry.views import lookups
from tests.registry.helpers import subject, submit

pytestmark = pytest.mark.django_db


def test_the_dispute_link_is_made_only_when_the_disputes_page_exists(monkeypatch):
    h = subject(1)
    monkeypatch.setattr(lookups, "DISPUTE_NEW_URL_NAMES", ("no-such-page",))
    assert lookups.dispute_new_url("RIC", h) == ""
    monkeypatch.setattr(lookups, "DISPUTE_NEW_URL_NAMES", ("no-such-page", "lookup"))
    assert lookups.dispute_new_url("RIC", h) == f"/lookups/?id_type=RIC&subject_hash={h}"


def test_the_result_card_offers_to_file_a_dispute(client, member, other_member, user_with):
    h = subject("card")
    submit(other_member, h)
    client.force_login(user_with(member, "ANALYST"))
    page = client.post(
        "/lookups/", {"id_type": "RIC", "subject_hash": h, "purpose": "UNDERWRITING"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'id="lookup-result"' in page
    expected = lookups.dispute_new_url("RIC", h)
    if expected:  # the disputes pages are installed
        assert f'href="{expected.replace("&", "&amp;")}" data-dispute-link' in page
    else:
        assert "data-dispute-link" not in page


def test_the_lookup_page_carries_the_batch_form_and_its_labels(client, member, user_with):
    client.force_login(user_with(member, "ANALYST"))
    page = client.get("/lookups/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-batch-url="/api/v1/lookups/batch"' in page and 'data-batch-max="1000"' in page
    assert 'id="lookup-batch-labels"' in page
    # The numbers' fields have no name: a number is never part of a form submission.
    assert '<textarea id="batch-numbers"' in page and 'name="batch-numbers"' not in page
