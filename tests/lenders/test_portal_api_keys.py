from __future__ import annotations

import datetime

from django.utils import timezone

from core.models import AuditEvent
from lenders.choices import Role
from lenders.models import ApiKey
from tests.factories import make_api_key
from tests.lenders.test_portal_support import page_text, signed_in


def test_member_admin_creates_a_key_and_sees_it_only_once(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    form_html = page_text(client.get("/api-keys/new/"))
    assert 'value="lookup"' in form_html
    assert 'name="role"' not in form_html
    response = client.post("/api-keys/new/", {"name": "loan system", "scopes": ["lookup", "entries"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = page_text(response)
    key = ApiKey.objects.get(member=member, name="loan system")
    secret = html.split('id="new-key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(key.prefix + ".")
    assert key.is_valid(secret)
    assert "only time the full key is shown" in html
    assert key.scopes == ["entries", "lookup"]
    assert AuditEvent.objects.filter(action="api_key.create", object_id=key.prefix).exists()

    listing = page_text(client.get("/api-keys/"))
    assert key.prefix in listing
    assert secret not in listing
    assert secret.split(".", 1)[1] not in listing


def test_the_key_works_on_the_api(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    html = client.post("/api-keys/new/", {"name": "nightly", "scopes": ["lookup"]}).content.decode()
    secret = html.split('id="new-key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api.get("/api/v1/region").status_code == 200


def test_key_with_expiry_date(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    expires = timezone.localdate() + datetime.timedelta(days=90)
    response = client.post("/api-keys/new/", {"name": "temp", "scopes": ["upload"], "expires_on": expires.isoformat()})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="temp")
    assert timezone.localtime(key.expiry_date).date() == expires
    assert expires.isoformat() in page_text(client.get("/api-keys/"))


def test_key_creation_errors_are_shown_on_the_form(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client.post("/api-keys/new/", {"name": "late", "scopes": ["lookup"], "expires_on": past})
    assert response.status_code == 200
    html = page_text(response)
    assert "The expiry date must be in the future." in html
    no_scope = page_text(client.post("/api-keys/new/", {"name": "nothing"}))
    assert 'id="id_scopes_error"' in no_scope
    assert not ApiKey.objects.filter(member=member).exists()


def test_revoke_asks_first_then_revokes(member, user_with):
    key, _secret = make_api_key(member, scopes=["lookup"], name="old job")
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    confirm = client.get(f"/api-keys/{key.prefix}/revoke/")
    assert confirm.status_code == 200
    assert "Revoke the key" in page_text(confirm)
    key.refresh_from_db()
    assert key.revoked is False
    response = client.post(f"/api-keys/{key.prefix}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked is True
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke", object_id=key.prefix).exists()
    listing = page_text(client.get("/api-keys/"))
    assert "was revoked" in listing
    assert "Revoked" in listing


def test_revoking_twice_says_so(member, user_with):
    key, _secret = make_api_key(member, scopes=["lookup"])
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    client.post(f"/api-keys/{key.prefix}/revoke/")
    again = client.post(f"/api-keys/{key.prefix}/revoke/", follow=True)
    assert "This key is already revoked." in page_text(again)


def test_another_members_key_is_not_found(member, other_member, user_with):
    key, _secret = make_api_key(other_member, scopes=["lookup"])
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    assert key.prefix not in page_text(client.get("/api-keys/"))
    assert client.get(f"/api-keys/{key.prefix}/revoke/").status_code == 404
    assert client.post(f"/api-keys/{key.prefix}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked is False


def test_operator_admin_creates_an_operator_key_with_a_role(operator, member, user_with):
    member_key, _secret = make_api_key(member, scopes=["lookup"])
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    form_html = page_text(client.get("/api-keys/new/"))
    assert 'name="role"' in form_html
    assert 'name="scopes"' not in form_html
    response = client.post("/api-keys/new/", {"name": "regulator export", "role": Role.REGULATOR})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="regulator export")
    assert key.operator == operator
    assert key.role == Role.REGULATOR
    listing = page_text(client.get("/api-keys/"))
    assert "regulator export" in listing
    assert member_key.prefix not in listing
    assert client.get(f"/api-keys/{member_key.prefix}/revoke/").status_code == 404


def test_viewer_and_regulator_are_refused_the_api_key_pages(member, operator, user_with):
    key, _secret = make_api_key(member, scopes=["lookup"])
    for user in (user_with(member, Role.VIEWER), user_with(operator, Role.REGULATOR)):
        client = signed_in(user)
        assert client.get("/api-keys/").status_code == 403
        assert client.get("/api-keys/new/").status_code == 403
        assert client.post("/api-keys/new/", {"name": "x", "scopes": ["lookup"]}).status_code == 403
        assert client.post(f"/api-keys/{key.prefix}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked is False
    assert ApiKey.objects.count() == 1
