from __future__ import annotations

import pytest

from lenders.actors import Actor
from lenders.choices import MEMBER_ROLES, MemberStatus, Role
from lenders.services.members import member_update
from tests.factories import make_api_key
from tests.lenders.test_portal_support import page_text, signed_in


@pytest.mark.parametrize("role", MEMBER_ROLES)
def test_dashboard_of_each_member_role_shows_the_organisation_and_roles(member, user_with, role):
    user = user_with(member, role)
    response = signed_in(user, language="en").get("/")
    assert response.status_code == 200
    html = page_text(response)
    assert member.name in html
    assert member.uscc in html
    assert member.region.name in html
    assert str(Role(role).label) in html


def test_member_admin_dashboard_counts_staff_and_usable_keys(member, other_member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    user_with(member, Role.VIEWER)
    user_with(other_member, Role.VIEWER)
    make_api_key(member, scopes=["lookup"])
    make_api_key(other_member, scopes=["lookup"])
    html = page_text(signed_in(admin, language="en").get("/"))
    assert "active staff users (of 2)" in html
    assert "usable API keys (of 1)" in html
    assert 'href="/staff/"' in html
    assert 'href="/api-keys/"' in html


def test_member_navigation_shows_only_what_the_role_allows(member, user_with):
    viewer_html = page_text(signed_in(user_with(member, Role.VIEWER), language="en").get("/"))
    assert 'href="/staff/"' not in viewer_html
    assert 'href="/api-keys/"' not in viewer_html
    assert 'href="/members/"' not in viewer_html
    admin_html = page_text(signed_in(user_with(member, Role.MEMBER_ADMIN), language="en").get("/"))
    assert 'href="/staff/"' in admin_html
    assert 'href="/api-keys/"' in admin_html
    assert 'href="/members/"' not in admin_html


@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.REGULATOR])
def test_operator_dashboard_lists_the_members_with_status_and_weight(operator, member, other_member, user_with, role):
    member_update(member=other_member, status=MemberStatus.SUSPENDED, trust_weight="0.25", actor=Actor.system("tests"))
    user = user_with(operator, role)
    response = signed_in(user, language="en").get("/")
    assert response.status_code == 200
    html = page_text(response)
    assert operator.name in html
    assert member.name in html and other_member.name in html
    assert "0.250" in html
    assert "Suspended" in html
    assert 'href="/members/"' in html


def test_operator_dashboard_counts_members_by_status(operator, member, other_member, user_with):
    member_update(member=other_member, status=MemberStatus.SUSPENDED, actor=Actor.system("tests"))
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get("/"))
    assert '<span class="stat-value">2</span> <span class="stat-label">members in all</span>' in html
    assert '<span class="stat-value">1</span> <span class="stat-label">suspended</span>' in html


def test_regulator_sees_no_administration_links(operator, user_with):
    html = page_text(signed_in(user_with(operator, Role.REGULATOR), language="en").get("/"))
    assert 'href="/staff/"' not in html
    assert 'href="/api-keys/"' not in html
