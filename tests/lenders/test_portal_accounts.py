from __future__ import annotations

import re

from django.test import Client

from core.models import AuditEvent
from lenders.choices import Role
from tests.factories import PASSWORD
from tests.lenders.test_portal_support import page_text, signed_in

NEW_PASSWORD = "Another-solid-passphrase-42"


def _sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_sign_in_page_renders_in_chinese_by_default(db, client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    html = page_text(response)
    assert "登录" in html
    assert 'action="/i18n/setlang/"' in html


def test_sign_in_with_the_right_password_opens_the_dashboard(member, user_with):
    user = user_with(member, Role.ANALYST)
    client = Client()
    response = _sign_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get("/").status_code == 200


def test_sign_in_goes_back_to_the_page_asked_for(member, user_with):
    user = user_with(member, Role.MEMBER_ADMIN)
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD, "next": "/staff/"})
    assert response["Location"] == "/staff/"


def test_sign_in_with_a_wrong_password_is_refused(member, user_with):
    user = user_with(member, Role.ANALYST)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = _sign_in(client, user.username, "wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct" in page_text(response)
    assert "_auth_user_id" not in client.session


def test_deactivated_user_cannot_sign_in(member, user_with):
    user = user_with(member, Role.ANALYST)
    user.is_active = False
    user.save()
    client = Client()
    response = _sign_in(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(member, user_with):
    user = user_with(member, Role.ANALYST)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _attempt in range(4):
        assert _sign_in(client, user.username, "wrong-password").status_code == 200
    fifth = _sign_in(client, user.username, "wrong-password")
    assert fifth.status_code == 429

    sixth = _sign_in(client, user.username, PASSWORD)
    assert sixth.status_code == 429
    html = page_text(sixth)
    assert "Signing in is blocked for now" in html
    assert "There were 5 failed sign-in attempts" in html
    assert re.search(r"Try again in 15 minutes, after \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Asia/Shanghai time\)", html)
    assert "_auth_user_id" not in client.session


def test_lock_out_page_is_in_chinese_by_default(member, user_with):
    user = user_with(member, Role.ANALYST)
    client = Client()
    for _attempt in range(5):
        response = _sign_in(client, user.username, "wrong-password")
    assert response.status_code == 429
    assert "15 分钟后" in response.content.decode()


def test_sign_out_needs_a_post_and_ends_the_session(member, user_with):
    user = user_with(member, Role.ANALYST)
    client = signed_in(user, language="en")
    confirm = client.get("/accounts/logout/")
    assert confirm.status_code == 200
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_password_change_is_audited_and_the_new_password_works(member, user_with):
    user = user_with(member, Role.VIEWER)
    client = signed_in(user)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session stays signed in
    event = AuditEvent.objects.get(action="staff.password_change")
    assert event.object_id == str(user.pk)
    assert event.user_id == user.pk
    assert _sign_in(Client(), user.username, NEW_PASSWORD).status_code == 302


def test_password_change_with_a_wrong_current_password_shows_the_error(member, user_with):
    user = user_with(member, Role.VIEWER)
    client = signed_in(user, language="en")
    response = client.post(
        "/accounts/password/",
        {"old_password": "not-it-at-all", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "The current password is wrong." in page_text(response)
    assert not AuditEvent.objects.filter(action="staff.password_change").exists()


def test_password_change_refuses_a_weak_password_on_its_field(member, user_with):
    user = user_with(member, Role.VIEWER)
    client = signed_in(user, language="en")
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password": "12345", "new_password_again": "12345"}
    )
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="id_new_password_error"' in html
    assert "too short" in html


def test_language_switch_is_remembered_on_the_account(member, user_with):
    user = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(user)
    chinese = client.get("/")
    assert chinese["Content-Language"] == "zh-hans"
    assert "工作台" in chinese.content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    user.refresh_from_db()
    assert user.language == "en"
    english = client.get("/")
    assert english["Content-Language"] == "en"
    assert "Dashboard" in english.content.decode()

    # Another browser, without the cookie, still gets the person's language.
    elsewhere = signed_in(user).get("/")
    assert elsewhere["Content-Language"] == "en"
    assert "Your organisation" in elsewhere.content.decode()


def test_switching_back_to_chinese_is_remembered_too(member, user_with):
    user = user_with(member, Role.VIEWER)
    client = signed_in(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert signed_in(user).get("/")["Content-Language"] == "zh-hans"


def test_an_unknown_language_is_not_stored(member, user_with):
    user = user_with(member, Role.VIEWER)
    signed_in(user).post("/i18n/setlang/", {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == ""
