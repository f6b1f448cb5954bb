from __future__ import annotations

import base64

from core.models import AuditEvent
from lenders.key_encryption import decrypt_key
from lenders.models import HashKey


def test_region_shows_current_key_and_policy(member, key_client):
    response = key_client(member, scopes=["lookup"]).get("/api/v1/region")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == member.region.code
    assert body["key_id"] == member.region.current_hash_key.key_id
    assert body["policy"]["consensus"]["black_score_threshold"] == 80
    assert body["policy"]["consensus"]["decisive_reasons"] == ["COURT_ENFORCED"]


def test_hash_key_fetch_returns_the_key_and_is_audited(member, key_client):
    response = key_client(member, scopes=["upload"]).get("/api/v1/region/hash-key/")
    assert response.status_code == 200
    body = response.json()
    stored = HashKey.objects.get(key_id=body["key_id"])
    assert base64.b64decode(body["key_b64"]) == decrypt_key(stored.encrypted_key)
    assert body["algorithm"] == "HMAC-SHA256"
    event = AuditEvent.objects.filter(action="hash_key.read").get()
    assert event.member_id == member.pk
    assert body["key_b64"] not in str(event.details)
    assert response["Cache-Control"] == "no-store"


def test_hash_key_is_stored_encrypted(region):
    key = region.current_hash_key
    assert len(decrypt_key(key.encrypted_key)) == 32
    assert base64.b64encode(decrypt_key(key.encrypted_key)).decode() not in key.encrypted_key


def test_hash_key_needs_lookup_or_upload_scope(member, key_client):
    response = key_client(member, scopes=["entries"]).get("/api/v1/region/hash-key")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_no_credentials_is_401_in_the_error_shape(db, client):
    response = client.get("/api/v1/region")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_unknown_api_path_is_404_in_the_error_shape(db, client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"]
    assert body["error"]["details"] == {}
