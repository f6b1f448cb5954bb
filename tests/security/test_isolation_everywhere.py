"""Another member's ids in every endpoint and page (``quality.md``, Security; ``concepts.md``):
table-driven over the URL conf, so a route added without a row here fails
``test_every_route_with_an_id_is_in_the_table``.

"Mine" is a member of the region with every role and every key scope; "theirs" is another
member of the same region, whose entry, upload, staff, API key, dispute, evidence and
notification are asked for by id. Operator pages are asked for by another region's operator.
Every answer is a refusal (403/404, or 405 for a method the route does not take), never shows
a marker of theirs, and changes nothing of theirs."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from lenders.actors import Actor
from lenders.models import ApiKey, Member, User
from registry.choices import NotificationKind
from registry.models import Dispute, Entry, Notification, RecomputeJob, Upload
from registry.services.disputes import dispute_evidence_add, dispute_file
from tests.factories import make_api_key, make_user
from tests.registry.helpers import current_key, new_member, new_region, subject, submit
from tests.registry.uploads.helpers import csv_bytes, row
from tests.security.urlconf import routes

MEMBER_ROLES = ["MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER"]
MARKER = "THEIRS-PRIVATE-7731"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class World:
    mine: Member
    theirs: Member
    entry: Entry
    upload: Upload
    staff: User
    key: ApiKey
    dispute: Dispute
    item_id: int
    evidence_id: int
    notification: Notification
    job: RecomputeJob
    subject_hash: str


@pytest.fixture
def world(region, member, other_member, eager_celery) -> World:  # type: ignore[no-untyped-def]
    third = new_member(region)
    other_member.name = f"{other_member.name} {MARKER}"
    other_member.save(update_fields=["name"])
    h = subject("isolation-everywhere")
    entry = submit(other_member, h, "BLACK", "FRAUD", reference=MARKER).entry
    submit(third, h, "BLACK", "FRAUD")
    _key, secret = make_api_key(other_member, scopes=["upload"], name=MARKER)
    sender = APIClient()
    sender.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    sent = sender.post(
        "/api/v1/uploads", {"file": SimpleUploadedFile(f"{MARKER}.csv", csv_bytes([row("x")]))}, format="multipart"
    )
    assert sent.status_code == 202, sent.content
    staff = make_user(other_member, ["MEMBER_ADMIN"], username=f"theirs-{MARKER.lower()}")
    dispute = dispute_file(
        actor=Actor.for_user(staff),
        id_type="RIC",
        subject_hash=h,
        grounds="REPAID",
        statement=MARKER,
        today=datetime.date.today(),
    )
    evidence = dispute_evidence_add(
        actor=Actor.for_user(staff), dispute_id=dispute.pk, file=SimpleUploadedFile("e.png", PNG)
    )
    holder = make_user(third, ["MEMBER_ADMIN"])
    notification = Notification.objects.filter(recipient__in=[holder, staff]).first() or Notification.objects.create(
        recipient=staff, kind=NotificationKind.values[0], dispute=dispute
    )
    elsewhere = new_region()
    job = RecomputeJob.objects.create(region=elsewhere)
    assert entry is not None and current_key(region)
    return World(
        mine=member,
        theirs=other_member,
        entry=entry,
        upload=Upload.objects.get(pk=sent.json()["id"]),
        staff=staff,
        key=ApiKey.objects.get(name=MARKER),
        dispute=dispute,
        item_id=dispute.items.first().pk,  # type: ignore[union-attr]
        evidence_id=evidence.pk,
        notification=notification,
        job=job,
        subject_hash=h,
    )


# route name -> (method, path from the world). Routes whose parameters are not another
# member's object (a subject hash any member may look up) name the test that covers them.
Path = Callable[[World], str]
TABLE: dict[str, tuple[str, Path]] = {
    # API
    "api-member": ("GET", lambda w: f"/api/v1/members/{w.theirs.pk}"),
    "api-entry": ("GET", lambda w: f"/api/v1/entries/{w.entry.pk}"),
    "api-entry-withdraw": ("POST", lambda w: f"/api/v1/entries/{w.entry.pk}/withdraw"),
    "api-upload": ("GET", lambda w: f"/api/v1/uploads/{w.upload.pk}"),
    "api-upload-errors": ("GET", lambda w: f"/api/v1/uploads/{w.upload.pk}/errors"),
    "api-upload-confirm": ("POST", lambda w: f"/api/v1/uploads/{w.upload.pk}/confirm"),
    "api-upload-cancel": ("POST", lambda w: f"/api/v1/uploads/{w.upload.pk}/cancel"),
    "api-dispute": ("GET", lambda w: f"/api/v1/disputes/{w.dispute.pk}"),
    "api-dispute-item-respond": ("POST", lambda w: f"/api/v1/disputes/{w.dispute.pk}/items/{w.item_id}/respond"),
    "api-dispute-escalate": ("POST", lambda w: f"/api/v1/disputes/{w.dispute.pk}/escalate"),
    "api-dispute-arbitrate": ("POST", lambda w: f"/api/v1/disputes/{w.dispute.pk}/arbitrate"),
    "api-dispute-evidence": ("POST", lambda w: f"/api/v1/disputes/{w.dispute.pk}/evidence"),
    "api-dispute-evidence-file": ("GET", lambda w: f"/api/v1/disputes/{w.dispute.pk}/evidence/{w.evidence_id}"),
    "api-subject-history": ("GET", lambda w: f"/api/v1/subjects/RIC/{w.subject_hash}/history"),
    # portal
    "member-detail": ("GET", lambda w: f"/members/{w.theirs.pk}/"),
    "staff-detail": ("GET", lambda w: f"/staff/{w.staff.pk}/"),
    "staff-active": ("POST", lambda w: f"/staff/{w.staff.pk}/active/"),
    "api-key-revoke": ("POST", lambda w: f"/api-keys/{w.key.prefix}/revoke/"),
    "entry-detail": ("GET", lambda w: f"/entries/{w.entry.pk}/"),
    "upload-detail": ("GET", lambda w: f"/uploads/{w.upload.pk}/"),
    "upload-status": ("GET", lambda w: f"/uploads/{w.upload.pk}/status"),
    "upload-errors": ("GET", lambda w: f"/uploads/{w.upload.pk}/errors.csv"),
    "upload-confirm": ("POST", lambda w: f"/uploads/{w.upload.pk}/confirm"),
    "upload-cancel": ("POST", lambda w: f"/uploads/{w.upload.pk}/cancel"),
    "subject-detail": ("GET", lambda w: f"/subjects/RIC/{w.subject_hash}/"),
    "region-recompute": ("GET", lambda w: f"/region/recompute/{w.job.pk}/"),
    "region-recompute-status": ("GET", lambda w: f"/region/recompute/{w.job.pk}/status"),
    "dispute-detail": ("GET", lambda w: f"/disputes/{w.dispute.pk}/"),
    "dispute-item-answer": ("POST", lambda w: f"/disputes/{w.dispute.pk}/items/{w.item_id}/answer/"),
    "dispute-evidence-add": ("POST", lambda w: f"/disputes/{w.dispute.pk}/evidence/"),
    "dispute-evidence-file": ("GET", lambda w: f"/disputes/{w.dispute.pk}/evidence/{w.evidence_id}/"),
    "dispute-escalate": ("POST", lambda w: f"/disputes/{w.dispute.pk}/escalate/"),
    "dispute-arbitrate": ("POST", lambda w: f"/disputes/{w.dispute.pk}/items/{w.item_id}/arbitrate/"),
    "notification-read": ("POST", lambda w: f"/notifications/{w.notification.pk}/read/"),
}
SUBJECT_ROUTES = {"api-subject-history", "subject-detail"}
# Parameters that are not an object of another member.
NOT_AN_OBJECT = {
    "api-lookup": "a subject hash: any member may look any subject up (tests/registry/api/test_isolation.py)",
    "password-reset-confirm": "a signed one-time token, not an id: Django's PasswordResetConfirmView checks it",
}


def test_every_route_with_an_id_is_in_the_table():
    with_ids = {str(route.name) for route in routes() if route.has_parameters}
    missing = with_ids - set(TABLE) - set(NOT_AN_OBJECT)
    assert missing == set(), f"add these routes to TABLE in {__file__}: {sorted(missing)}"
    assert set(TABLE) <= with_ids, f"no longer routes: {sorted(set(TABLE) - with_ids)}"


def _snapshot(world: World) -> tuple[Any, ...]:
    world.entry.refresh_from_db()
    world.upload.refresh_from_db()
    world.staff.refresh_from_db()
    world.key.refresh_from_db()
    world.dispute.refresh_from_db()
    world.notification.refresh_from_db()
    return (
        world.entry.state,
        world.entry.updated_at,
        world.upload.state,
        world.staff.is_active,
        world.key.revoked,
        world.dispute.state,
        world.dispute.updated_at,
        world.notification.read_at,
    )


def _ghost(world: World) -> Any:
    """The same world with ids nobody has: what a stranger's answer must look like."""
    far = 10**6
    return SimpleNamespace(
        mine=world.mine,
        theirs=SimpleNamespace(pk=world.theirs.pk + far),
        entry=SimpleNamespace(pk=world.entry.pk + far),
        upload=SimpleNamespace(pk=world.upload.pk + far),
        staff=SimpleNamespace(pk=world.staff.pk + far),
        key=SimpleNamespace(prefix="nokey000"),
        dispute=SimpleNamespace(pk=world.dispute.pk + far),
        item_id=world.item_id + far,
        evidence_id=world.evidence_id + far,
        notification=SimpleNamespace(pk=world.notification.pk + far),
        job=SimpleNamespace(pk=world.job.pk + far),
        subject_hash=subject("nobody"),
    )


def _assert_refused(response: Any, name: str, ghost: Any = None) -> None:
    if response.status_code in (400, 415) and ghost is not None:
        # Input checked before the object is looked for: fine while an unknown id gets the same answer.
        assert (ghost.status_code, ghost.content) == (response.status_code, response.content), name
        return
    assert response.status_code in (403, 404, 405), (name, response.status_code, response.content[:300])
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert MARKER.encode() not in content, name
    assert MARKER.lower().encode() not in content, name


@pytest.mark.parametrize("name", sorted(TABLE))
def test_another_members_id_is_refused_to_a_member_with_every_role(name, world, key_client):
    method, path_of = TABLE[name]
    path = path_of(world)
    before = _snapshot(world)
    if path.startswith("/api/"):
        client: Any = key_client(world.mine, scopes=["lookup", "upload", "entries", "disputes"])
        response = client.generic(method, path, "{}", content_type="application/json")
        ghost = client.generic(method, path_of(_ghost(world)), "{}", content_type="application/json")
    else:
        client = Client()  # the test client skips the CSRF check: the view itself must refuse
        client.force_login(make_user(world.mine, MEMBER_ROLES))
        response = client.generic(method, path)
        ghost = client.generic(method, path_of(_ghost(world)))
    _assert_refused(response, name, ghost)
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", sorted(TABLE))
def test_another_regions_operator_is_refused_every_id(name, world, key_client):
    method, path_of = TABLE[name]
    if name in ("region-recompute", "region-recompute-status"):
        stranger = world.mine.region.operator  # the job belongs to the other region
    else:
        stranger = new_region().operator
    before = _snapshot(world)
    if name in SUBJECT_ROUTES:
        # A subject hash is not this region's id: another region's operator sees its own
        # region's (empty) view of that hash, never this region's.
        path = path_of(world)
        client_: Any = key_client(stranger, role="OPERATOR_ADMIN") if path.startswith("/api/") else Client()
        if not path.startswith("/api/"):
            client_.force_login(make_user(stranger, ["OPERATOR_ADMIN", "REGULATOR"]))
        response = client_.get(path)
        assert response.status_code in (200, 403, 404)
        assert MARKER.encode() not in response.content
        if path.startswith("/api/") and response.status_code == 200:
            assert response.json()["history"] == [] and response.json()["lookups"] == []
        return
    if path_of(world).startswith("/api/"):
        client: Any = key_client(stranger, role="OPERATOR_ADMIN")
        response = client.generic(method, path_of(world), "{}", content_type="application/json")
        ghost = client.generic(method, path_of(_ghost(world)), "{}", content_type="application/json")
    else:
        client = Client()
        client.force_login(make_user(stranger, ["OPERATOR_ADMIN", "REGULATOR"]))
        response = client.generic(method, path_of(world))
        ghost = client.generic(method, path_of(_ghost(world)))
    _assert_refused(response, name, ghost)
    assert _snapshot(world) == before


LIST_PAGES = sorted(
    "/" + route.pattern
    for route in routes()
    if not route.has_parameters and not route.is_api and route.name not in {"logout", "set_language", "metrics"}
)
LIST_ENDPOINTS = sorted(
    "/" + r.pattern for r in routes() if not r.has_parameters and r.is_api and "schema" not in r.pattern
)


def test_no_page_or_list_of_mine_shows_anything_of_theirs(world, key_client):
    client = Client()
    client.force_login(make_user(world.mine, MEMBER_ROLES))
    for path in LIST_PAGES:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert MARKER.encode() not in response.content, path
    api = key_client(world.mine, scopes=["lookup", "upload", "entries", "disputes"])
    for path in LIST_ENDPOINTS:
        response = api.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert MARKER.encode() not in response.content, path
