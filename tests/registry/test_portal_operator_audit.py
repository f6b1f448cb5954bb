"""The audit page: the operator reads its region's log, a member admin its own member's."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.choices import Role
from lenders.models import Member
from lenders.services.members import member_update
from tests.factories import MemberFactory, RegionFactory
from tests.lenders.test_portal_support import page_text, signed_in
from tests.registry.helpers import entry_of, subject, submit


def _count(html: str) -> int:
    match = re.search(r'class="result-count" role="status">(\d+) events?</p>', html)
    assert match, "no event count on the page"
    return int(match.group(1))


def _rows(html: str) -> str:
    return html.split("<tbody>", 1)[1] if "<tbody>" in html else ""


@pytest.fixture
def activity(operator, member, other_member, user_with):
    """Events of both members and of the operator in this region, and one in another region."""
    admin = user_with(operator, Role.OPERATOR_ADMIN)
    member_update(member=member, trust_weight="0.5", actor=Actor.for_user(admin))
    submit(member, subject("audit-1"))
    submit(other_member, subject("audit-2"))
    elsewhere: Member = MemberFactory(region=RegionFactory(), name="Elsewhere lender")  # type: ignore[assignment]
    submit(elsewhere, subject("audit-3"))
    return admin


def test_operator_filters_by_action(operator, member, activity):
    client = signed_in(activity, language="en")
    response = client.get("/audit/", {"action": "member.update"})
    assert response.status_code == 200
    html = page_text(response)
    rows = _rows(html)
    assert _count(html) == 1
    assert "Member changed" in rows
    assert "trust_weight" in rows and "1.000 → 0.500" in rows
    assert f'href="/members/{member.pk}/"' in rows
    assert "Entry created" not in rows


def test_operator_sees_the_whole_region_and_no_other(operator, member, other_member, activity):
    html = page_text(signed_in(activity, language="en").get("/audit/", {"action": "entry.create"}))
    rows = _rows(html)
    assert f"Entry {entry_of(member, subject('audit-1')).pk}" in rows
    assert f"Entry {entry_of(other_member, subject('audit-2')).pk}" in rows
    assert _count(html) == 2
    visible = AuditEvent.objects.filter(region_id=operator.region_id).count()
    assert _count(page_text(signed_in(activity, language="en").get("/audit/"))) == visible
    assert "Elsewhere lender" not in page_text(signed_in(activity, language="en").get("/audit/"))


def test_member_admin_sees_only_its_own_members_events(member, other_member, activity, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    response = client.get("/audit/")
    assert response.status_code == 200
    rows = _rows(page_text(response))
    assert f"Entry {entry_of(member, subject('audit-1')).pk}" in rows
    assert f"Entry {entry_of(other_member, subject('audit-2')).pk}" not in rows
    assert "Member changed" not in rows  # the operator's change is the operator's event
    assert 'name="member"' not in page_text(response)  # no member filter for a member


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.UPLOADER])
def test_other_member_roles_are_refused(member, user_with, role):
    assert signed_in(user_with(member, role), language="en").get("/audit/").status_code == 403


def test_regulator_reads_the_audit_log(operator, activity, user_with):
    response = signed_in(user_with(operator, Role.REGULATOR), language="en").get("/audit/")
    assert response.status_code == 200
    assert "Member changed" in page_text(response)


def test_date_range_and_request_id_filter(operator, activity):
    client = signed_in(activity, language="en")
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    assert _count(page_text(client.get("/audit/", {"since": tomorrow.isoformat()}))) == 0
    html = page_text(client.get("/audit/", {"since": today.isoformat(), "until": today.isoformat()}))
    assert "Member changed" in _rows(html)
    html = page_text(client.get("/audit/", {"request_id": "no-such-request"}))
    assert _count(html) == 0


def test_request_id_filter_finds_the_events_of_one_request(operator, member, activity):
    client = signed_in(activity, language="en")
    response = client.post(
        f"/members/{member.pk}/", {"trust_weight": "0.25", "status": "ACTIVE"}, HTTP_X_REQUEST_ID="req-audit-0001"
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(request_id="req-audit-0001").action == "member.update"
    html = page_text(client.get("/audit/", {"request_id": "req-audit-0001"}))
    assert _count(html) == 1
    assert "0.500 → 0.250" in _rows(html)


def test_an_unreadable_date_is_shown_and_lists_nothing(activity):
    html = page_text(signed_in(activity, language="en").get("/audit/", {"since": "2026-13-45"}))
    assert "field-invalid" in html
    assert _count(html) == 0


def test_end_before_start_is_refused(activity):
    html = page_text(signed_in(activity, language="en").get("/audit/", {"since": "2026-05-02", "until": "2026-05-01"}))
    assert "The end date is before the start date." in html


def test_audit_page_links_the_operator_to_subject_history(activity):
    assert 'href="/subjects/"' in page_text(signed_in(activity, language="en").get("/audit/"))


def test_navigation_shows_region_and_audit_to_the_operator_only(operator, member, user_with):
    operator_html = page_text(signed_in(user_with(operator, Role.REGULATOR), language="en").get("/"))
    assert 'href="/region/"' in operator_html
    assert 'href="/audit/"' in operator_html
    admin_html = page_text(signed_in(user_with(member, Role.MEMBER_ADMIN), language="en").get("/"))
    assert 'href="/region/"' not in admin_html
    assert 'href="/audit/"' in admin_html
    viewer_html = page_text(signed_in(user_with(member, Role.VIEWER), language="en").get("/"))
    assert 'href="/audit/"' not in viewer_html


def test_operator_filters_by_acting_member(member, other_member, activity):
    html = page_text(signed_in(activity, language="en").get("/audit/", {"member": other_member.pk}))
    rows = _rows(html)
    assert _count(html) == 1
    assert f"Entry {entry_of(other_member, subject('audit-2')).pk}" in rows
    assert f"Entry {entry_of(member, subject('audit-1')).pk}" not in rows
