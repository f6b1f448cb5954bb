"""A forgotten password, reset by e-mail: the link works once, sets a password that obeys the
rules, and the reset is audited. The form never tells whether an address has an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from core.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-horse-staple-42"


@pytest.fixture
def person(member, user_with):
    user = user_with(member, "ANALYST")
    user.email = "analyst@lender.example"
    user.save(update_fields=["email"])
    return user


def _link(message) -> str:
    found = re.search(r"https?://[^/]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_the_sign_in_page_offers_the_reset(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/accounts/password/reset/"' in page


def test_a_reset_link_sets_a_new_password_once(client, person):
    response = client.post("/accounts/password/reset/", {"email": "analyst@lender.example"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["analyst@lender.example"]
    assert message.subject == "A new password for the registry"
    assert person.username in message.body

    link = _link(message)
    form_page = client.get(link, follow=True)
    assert b'name="new_password1"' in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"}, HTTP_ACCEPT_LANGUAGE="en")
    assert weak.status_code == 200 and b"errorlist" in weak.content
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"

    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and not person.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="staff.password_reset", object_id=str(person.pk)).count() == 1
    # The link is spent.
    again = client.get(link, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert b"This link is not valid" in again.content
    signed_in = client.post("/accounts/login/", {"username": person.username, "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, person):
    response = client.post("/accounts/password/reset/", {"email": "nobody@lender.example"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_the_reset_pages_speak_chinese_by_default(client, person):
    client.post("/accounts/password/reset/", {"email": "analyst@lender.example"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get("/accounts/password/reset/sent/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
