"""API keys on the wire (``api.md``, Authentication): scopes, expiry, revocation, wrong or
malformed keys, the record of use, and keys stored only hashed."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.models import ApiKey
from lenders.services.api_keys import api_key_revoke
from tests.core.error_shape import assert_error
from tests.factories import make_api_key


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


@pytest.mark.parametrize(
    ("scopes", "endpoint", "status"),
    [
        (["lookup"], "/api/v1/region/hash-key", 200),
        (["upload"], "/api/v1/region/hash-key", 200),
        (["entries"], "/api/v1/region/hash-key", 403),
        (["disputes"], "/api/v1/region/hash-key", 403),
        (["entries", "disputes"], "/api/v1/region/hash-key", 403),
        (["entries", "lookup"], "/api/v1/region/hash-key", 200),
        (["lookup", "upload", "entries", "disputes"], "/api/v1/members", 403),
        (["lookup", "upload", "entries", "disputes"], "/api/v1/audit-events", 403),
    ],
)
def test_member_key_is_allowed_what_its_scopes_allow(member, scopes, endpoint, status):
    _key, secret = make_api_key(member, scopes=scopes)
    response = _client(secret).get(endpoint)
    assert response.status_code == status


def test_expired_key_is_refused_with_key_expired(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    ApiKey.objects.filter(pk=key.pk).update(expiry_date=timezone.now() - datetime.timedelta(seconds=1))
    assert_error(_client(secret).get("/api/v1/region"), 401, "key_expired")


def test_key_expired_yesterday_is_refused(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ApiKey.objects.filter(pk=key.pk).update(expiry_date=_end_of(yesterday))
    assert_error(_client(secret).get("/api/v1/region"), 401, "key_expired")


def test_key_expiring_today_still_works(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    ApiKey.objects.filter(pk=key.pk).update(expiry_date=_end_of(timezone.localdate()))
    assert _client(secret).get("/api/v1/region").status_code == 200


def test_key_expiry_date_means_through_the_end_of_that_day_in_the_region_time(member):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    key, _secret = make_api_key(member, scopes=["lookup"], expires_on=tomorrow)
    expiry = timezone.localtime(key.expiry_date)
    assert expiry.date() == tomorrow
    assert (expiry.hour, expiry.minute, expiry.second) == (23, 59, 59)
    assert expiry.utcoffset() == datetime.timedelta(hours=8)


def test_revoked_key_is_refused_with_key_revoked(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    api_key_revoke(api_key=key, actor=Actor.system("tests"))
    assert_error(_client(secret).get("/api/v1/region"), 401, "key_revoked")


def test_wrong_secret_is_refused_with_invalid_api_key(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    prefix, _dot, rest = secret.partition(".")
    wrong = f"{prefix}.{rest[::-1]}"
    error = assert_error(_client(wrong).get("/api/v1/region"), 401, "invalid_api_key", rest)
    assert error["details"] == {}


def test_unknown_prefix_is_refused_with_invalid_api_key(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    _prefix, _dot, rest = secret.partition(".")
    assert_error(_client(f"zzzzzzzz.{rest}").get("/api/v1/region"), 401, "invalid_api_key")


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key",
        "Api-Key ",
        "Api-Key no-dot-in-this-key",
        "Api-Key .only-a-secret",
        "Api-Key " + "a" * 100 + "." + "b" * 150,
        "Api-Key abcdefgh.geheimnis-mit-ümlaut",
    ],
)
def test_malformed_api_key_header_is_refused_with_invalid_api_key(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/region")
    assert_error(response, 401, "invalid_api_key")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_other_authorization_scheme_counts_as_no_credentials(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer abcdefgh.secret")
    response = client.get("/api/v1/region")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_first_use_records_last_used_at(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    assert key.last_used_at is None
    before = timezone.now()
    _client(secret).get("/api/v1/region")
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= before


def test_last_used_at_is_not_rewritten_within_a_minute(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    recent = timezone.now() - datetime.timedelta(seconds=30)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=recent)
    _client(secret).get("/api/v1/region")
    key.refresh_from_db()
    assert key.last_used_at == recent


def test_last_used_at_is_rewritten_after_a_minute(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    old = timezone.now() - datetime.timedelta(seconds=61)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=old)
    _client(secret).get("/api/v1/region")
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at > old


def test_refused_key_does_not_record_use(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    api_key_revoke(api_key=key, actor=Actor.system("tests"))
    _client(secret).get("/api/v1/region")
    key.refresh_from_db()
    assert key.last_used_at is None


def test_key_is_stored_hashed_and_its_secret_is_nowhere_in_the_database(member):
    key, secret = make_api_key(member, scopes=["lookup"])
    _prefix, _dot, rest = secret.partition(".")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM lenders_apikey")
        key_rows = cursor.fetchall()
        cursor.execute("SELECT * FROM core_auditevent")
        audit_rows = cursor.fetchall()
    assert key_rows, "the key row exists"
    assert rest not in repr(key_rows)
    assert rest not in repr(audit_rows)
    assert key.hashed_key.startswith("sha512$$")


def test_key_secret_is_long_and_random(member):
    _key1, secret1 = make_api_key(member, scopes=["lookup"])
    _key2, secret2 = make_api_key(member, scopes=["lookup"])
    assert secret1 != secret2
    assert len(secret1.partition(".")[2]) >= 32


def test_operator_key_of_role_operator_admin_may_patch_members(region, member):
    _key, secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    response = _client(secret).patch(f"/api/v1/members/{member.pk}", {"trust_weight": "0.5"}, format="json")
    assert response.status_code == 200
    assert response.json()["trust_weight"] == 0.5


def test_operator_key_of_role_regulator_may_read_members(region, member):
    _key, secret = make_api_key(region.operator, role="REGULATOR")
    response = _client(secret).get(f"/api/v1/members/{member.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == member.pk


def test_operator_key_of_role_regulator_may_not_patch_members(region, member):
    _key, secret = make_api_key(region.operator, role="REGULATOR")
    response = _client(secret).patch(f"/api/v1/members/{member.pk}", {"trust_weight": "0.5"}, format="json")
    assert_error(response, 403, "permission_denied")
    member.refresh_from_db()
    assert str(member.trust_weight) == "1.000"
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_operator_key_may_not_fetch_the_hash_key(region):
    _key, secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    assert_error(_client(secret).get("/api/v1/region/hash-key"), 403, "permission_denied")


def test_key_answers_for_its_own_region_only(member):
    _key, secret = make_api_key(member, scopes=["lookup"])
    response = _client(secret).get("/api/v1/region")
    assert response.json()["code"] == member.region.code
