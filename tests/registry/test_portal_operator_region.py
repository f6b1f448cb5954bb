"""The region settings page: policy, hash keys and the recompute a consensus change starts."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from core.models import AuditEvent
from lenders.choices import BlackReason, Role
from lenders.key_encryption import decrypt_key
from lenders.models import HashKey, Region
from registry.models import RecomputeJob
from registry.tasks import recompute_region
from tests.factories import RegionFactory
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import record_of, subject, submit


def policy_form(region: Region, **changes: Any) -> dict[str, Any]:
    """The form as the page fills it, with ``changes`` (a checkbox left out is off)."""
    region.refresh_from_db()
    data: dict[str, Any] = {}
    for name in (
        "black_score_threshold",
        "min_black_members",
        "black_retention_years",
        "white_retention_years",
        "response_days",
        "reminder_days_before",
        "escalation_days",
        "relist_block_days",
        "upload_max_rows",
        "upload_max_bytes",
        "upload_max_line_bytes",
        "lookup_rate_per_minute",
        "upload_rate_per_hour",
        "api_rate_per_minute",
        "entry_purge_grace_days",
        "lookup_retention_days",
    ):
        data[name] = str(getattr(region, name))
    for name in ("suspend_disputed_entries", "count_suspended_members", "consent_reference_required"):
        if getattr(region, name):
            data[name] = "on"
    for code in BlackReason.values:
        data[f"severity_{code}"] = str(region.severity_weights[code])
    data["decisive_reasons"] = list(region.decisive_reasons)
    data["snapshot_max_withdraw_ratio"] = str(region.snapshot_max_withdraw_ratio)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _status(region: Region, subject_hash: str) -> str:
    record = record_of(region, subject_hash)
    assert record is not None
    return record.status


@pytest.fixture
def admin_client(operator, user_with):
    return signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")


def test_operator_admin_sees_the_policy_form_and_keys(region, admin_client):
    response = admin_client.get("/region/")
    assert response.status_code == 200
    html = page_text(response)
    assert 'name="black_score_threshold"' in html
    assert 'value="80"' in html
    for code in BlackReason.values:
        assert f'name="severity_{code}"' in html
    assert 'type="checkbox" name="decisive_reasons" value="COURT_ENFORCED"' in html
    assert region.current_hash_key.key_id in html
    assert "Rotate the hash key" in html


def test_threshold_change_starts_a_recompute_that_finishes(
    region, member, other_member, admin_client, eager_celery, django_capture_on_commit_callbacks
):
    h = subject("threshold")
    submit(member, h, reason="OTHER_BLACK")
    submit(other_member, h, reason="OTHER_BLACK")
    assert _status(region, h) == "WATCH"  # 51 < 80

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/region/", policy_form(region, black_score_threshold="50"))
    job = RecomputeJob.objects.get(region=region)
    assert response.status_code == 302
    assert response["Location"] == f"/region/recompute/{job.pk}/"
    region.refresh_from_db()
    assert region.black_score_threshold == 50
    job.refresh_from_db()
    assert job.state == RecomputeJob.State.SUCCEEDED
    assert _status(region, h) == "BLACK"

    html = page_text(admin_client.get(response["Location"]))
    assert "Succeeded" in html
    assert "<progress" in html
    assert 'http-equiv="refresh"' not in html  # finished: nothing left to follow
    status = admin_client.get(f"/region/recompute/{job.pk}/status").json()
    assert status["state"] == "SUCCEEDED"
    assert status["finished"] is True
    assert status["chunks_done"] == status["chunks_total"] > 0
    assert status["subjects"] >= 1
    assert status["changed"] == 1


def test_a_queued_recompute_page_refreshes_without_javascript(region, admin_client):
    admin_client.post("/region/", policy_form(region, min_black_members="3"))
    job = RecomputeJob.objects.get(region=region)
    html = page_text(admin_client.get(f"/region/recompute/{job.pk}/"))
    assert "Waiting for a worker" in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert f'data-recompute-status="/region/recompute/{job.pk}/status"' in html
    assert "/static/registry/operator.js" in html
    assert admin_client.get(f"/region/recompute/{job.pk}/status").json()["finished"] is False

    recompute_region(job.pk)
    status = admin_client.get(f"/region/recompute/{job.pk}/status").json()
    assert status["state"] == "SUCCEEDED"
    assert status["chunks_done"] == status["chunks_total"]


def test_region_page_lists_the_recompute_in_progress(region, admin_client):
    admin_client.post("/region/", policy_form(region, min_black_members="3"))
    job = RecomputeJob.objects.get(region=region)
    html = page_text(admin_client.get("/region/"))
    assert f"Recompute no. {job.pk} of the region is in progress." in html
    assert f'href="/region/recompute/{job.pk}/"' in html


def test_out_of_range_threshold_is_shown_on_its_field_and_changes_nothing(region, admin_client):
    events = AuditEvent.objects.count()
    response = admin_client.post("/region/", policy_form(region, black_score_threshold="150"))
    assert response.status_code == 200
    html = page_text(response)
    assert "field-invalid" in html
    field = html.split('for="id_black_score_threshold"', 1)[1].split("</div>", 1)[0]
    assert "less than or equal to 100" in field
    region.refresh_from_db()
    assert region.black_score_threshold == 80
    assert not RecomputeJob.objects.exists()
    assert AuditEvent.objects.count() == events


def test_severity_weight_and_decisive_reasons_change_through_the_form(region, admin_client):
    data = policy_form(region, severity_SEVERE_OVERDUE="0.7", decisive_reasons=["FRAUD", "COURT_ENFORCED"])
    assert admin_client.post("/region/", data).status_code == 302
    region.refresh_from_db()
    assert Decimal(region.severity_weights["SEVERE_OVERDUE"]) == Decimal("0.7")
    assert region.decisive_reasons == ["COURT_ENFORCED", "FRAUD"]
    assert RecomputeJob.objects.filter(region=region).count() == 1


def test_no_decisive_reason_is_a_valid_policy(region, admin_client):
    assert admin_client.post("/region/", policy_form(region, decisive_reasons=None)).status_code == 302
    region.refresh_from_db()
    assert region.decisive_reasons == []


def test_weight_above_one_is_refused_on_its_field(region, admin_client):
    response = admin_client.post("/region/", policy_form(region, severity_FRAUD="1.5"))
    assert response.status_code == 200
    field = page_text(response).split('for="id_severity_FRAUD"', 1)[1].split("</div>", 1)[0]
    assert "less than or equal to 1" in field
    region.refresh_from_db()
    assert region.severity_weights["FRAUD"] == "1.0"


def test_saving_an_unchanged_form_changes_nothing(region, admin_client):
    response = admin_client.post("/region/", policy_form(region), follow=True)
    assert "Nothing was changed." in page_text(response)
    assert not RecomputeJob.objects.exists()
    assert not AuditEvent.objects.filter(action="region.policy_update").exists()


def test_a_deadline_change_is_saved_without_a_recompute(region, admin_client):
    response = admin_client.post("/region/", policy_form(region, response_days="25", consent_reference_required="on"))
    assert response.status_code == 302
    assert response["Location"] == "/region/"
    region.refresh_from_db()
    assert region.response_days == 25
    assert region.consent_reference_required is True
    assert not RecomputeJob.objects.exists()
    event = AuditEvent.objects.get(action="region.policy_update")
    assert event.details["response_days"] == {"from": 20, "to": 25}


def test_regulator_reads_the_policy_without_a_form(region, operator, user_with):
    client = signed_in(user_with(operator, Role.REGULATOR), language="en")
    response = client.get("/region/")
    assert response.status_code == 200
    html = page_text(response)
    assert "Read-only" in html
    assert '<form method="post" novalidate>' not in html
    assert "Black score threshold" in html
    assert "Court-enforced dishonest debtor" in html  # the decisive reason in words
    assert region.current_hash_key.key_id in html
    assert "Rotate the hash key" not in html


def test_regulator_cannot_change_the_policy_or_rotate_the_key(region, operator, user_with):
    client = signed_in(user_with(operator, Role.REGULATOR), language="en")
    assert client.post("/region/", policy_form(region, black_score_threshold="50")).status_code == 403
    assert client.get("/region/hash-key/rotate/").status_code == 403
    assert client.post("/region/hash-key/rotate/").status_code == 403
    region.refresh_from_db()
    assert region.black_score_threshold == 80
    assert HashKey.objects.filter(region=region).count() == 1


@pytest.mark.parametrize("role", [Role.MEMBER_ADMIN, Role.VIEWER])
def test_members_users_are_refused(region, member, user_with, role):
    client = signed_in(user_with(member, role), language="en")
    assert client.get("/region/").status_code == 403
    assert client.post("/region/", policy_form(region, black_score_threshold="50")).status_code == 403


def test_rotation_makes_a_new_current_key_and_never_shows_key_material(region, admin_client):
    old = region.current_hash_key
    page = page_text(admin_client.get("/region/hash-key/rotate/"))
    assert old.key_id in page
    response = admin_client.post("/region/hash-key/rotate/")
    assert response.status_code == 302
    new = HashKey.objects.get(region=region, is_current=True)
    assert new.key_id != old.key_id
    old.refresh_from_db()
    assert old.is_current is False and old.retired_at is not None
    assert AuditEvent.objects.filter(action="hash_key.rotate", object_id=str(new.pk)).exists()

    html = page_text(admin_client.get("/region/"))
    assert f"The new hash key {new.key_id} is now current." in html
    assert new.key_id in html and old.key_id in html
    for key in (new, old):
        material = decrypt_key(key.encrypted_key)
        assert base64.b64encode(material).decode() not in html
        assert base64.urlsafe_b64encode(material).decode() not in html
        assert material.hex() not in html
        assert key.encrypted_key not in html


def test_a_recompute_of_another_region_is_not_found(admin_client):
    elsewhere: Region = RegionFactory()  # type: ignore[assignment]
    job = RecomputeJob.objects.create(region=elsewhere)
    assert admin_client.get(f"/region/recompute/{job.pk}/").status_code == 404
    assert admin_client.get(f"/region/recompute/{job.pk}/status").status_code == 404


def test_members_users_cannot_read_recompute_status(region, member, user_with):
    job = RecomputeJob.objects.create(region=region)
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    assert client.get(f"/region/recompute/{job.pk}/status").status_code == 403


def test_operator_pages_render_in_the_default_language(region, operator, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN))
    for url in ("/region/", "/audit/", "/subjects/", f"/subjects/RIC/{subject('zh')}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in page_text(response)


def test_operator_script_references_no_other_host():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "static" / "registry" / "operator.js").read_text()
    assert "http://" not in text and "https://" not in text
