from __future__ import annotations

from decimal import Decimal

from core.models import AuditEvent
from lenders.actors import Actor
from lenders.choices import MemberStatus, Role
from lenders.models import Member
from lenders.services.members import member_update
from tests.factories import MemberFactory, RegionFactory, valid_uscc
from tests.lenders.test_portal_support import page_text, signed_in


def _form(member: Member, **changes: str) -> dict[str, str]:
    data = {
        "trust_weight": str(member.trust_weight),
        "status": member.status,
    }
    if member.excluded_from_consensus:
        data["excluded_from_consensus"] = "on"
    data.update(changes)
    return data


def test_operator_admin_lists_members_with_their_settings(operator, member, other_member, user_with):
    member_update(member=other_member, excluded_from_consensus=True, actor=Actor.system("tests"))
    response = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en").get("/members/")
    assert response.status_code == 200
    html = page_text(response)
    for shown in (member.name, member.uscc, other_member.name, "1.000", "Excluded"):
        assert shown in html


def test_member_list_filters_by_status(operator, member, other_member, user_with):
    member_update(member=other_member, status=MemberStatus.SUSPENDED, actor=Actor.system("tests"))
    client = signed_in(user_with(operator, Role.REGULATOR), language="en")
    html = page_text(client.get("/members/?status=SUSPENDED"))
    assert other_member.name in html
    assert member.name not in html
    html = page_text(client.get("/members/?status=ACTIVE"))
    assert member.name in html
    assert other_member.name not in html


def test_member_list_does_not_show_other_regions(operator, member, user_with):
    elsewhere: Member = MemberFactory(region=RegionFactory())  # type: ignore[assignment]
    html = page_text(signed_in(user_with(operator, Role.OPERATOR_ADMIN)).get("/members/"))
    assert member.name in html
    assert elsewhere.name not in html


def test_operator_admin_changes_trust_weight_and_it_is_audited(operator, member, user_with):
    admin = user_with(operator, Role.OPERATOR_ADMIN)
    client = signed_in(admin, language="en")
    response = client.post(f"/members/{member.pk}/", _form(member, trust_weight="0.5"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.trust_weight == Decimal("0.500")
    event = AuditEvent.objects.get(action="member.update")
    assert event.user_id == admin.pk
    assert event.details == {"trust_weight": {"from": "1.000", "to": "0.500"}}
    html = page_text(client.get(response["Location"]))
    assert "were saved" in html
    assert "Trust weight: 1.000 → 0.500" in html


def test_operator_admin_suspends_and_excludes_a_member(operator, member, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN))
    data = _form(member, status=MemberStatus.SUSPENDED, excluded_from_consensus="on")
    assert client.post(f"/members/{member.pk}/", data).status_code == 302
    member.refresh_from_db()
    assert member.status == MemberStatus.SUSPENDED
    assert member.excluded_from_consensus is True


def test_trust_weight_out_of_range_is_shown_on_the_field(operator, member, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    response = client.post(f"/members/{member.pk}/", _form(member, trust_weight="1.5"))
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="id_trust_weight_error"' in html
    member.refresh_from_db()
    assert member.trust_weight == Decimal("1.000")
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_regulator_reads_a_member_but_cannot_change_it(operator, member, user_with):
    client = signed_in(user_with(operator, Role.REGULATOR), language="en")
    response = client.get(f"/members/{member.pk}/")
    assert response.status_code == 200
    html = page_text(response)
    assert "Read-only" in html
    assert "Save changes" not in html
    refused = client.post(f"/members/{member.pk}/", _form(member, trust_weight="0.1"))
    assert refused.status_code == 403
    member.refresh_from_db()
    assert member.trust_weight == Decimal("1.000")
    assert client.get("/members/new/").status_code == 403


def test_members_users_are_refused_the_member_pages(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    assert client.get("/members/").status_code == 403
    assert client.get(f"/members/{member.pk}/").status_code == 403
    assert client.post(f"/members/{member.pk}/", _form(member, trust_weight="0.1")).status_code == 403


def test_a_member_of_another_region_is_not_found(operator, user_with):
    elsewhere: Member = MemberFactory(region=RegionFactory())  # type: ignore[assignment]
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN))
    assert client.get(f"/members/{elsewhere.pk}/").status_code == 404
    assert client.post(f"/members/{elsewhere.pk}/", _form(elsewhere, trust_weight="0.1")).status_code == 404


def test_operator_admin_creates_a_member(operator, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    assert client.get("/members/new/").status_code == 200
    uscc = valid_uscc(987654)
    response = client.post("/members/new/", {"name": "新设小额贷款有限公司", "uscc": uscc})
    assert response.status_code == 302
    created = Member.objects.get(uscc=uscc)
    assert created.region == operator.region
    assert response["Location"] == f"/members/{created.pk}/"
    assert AuditEvent.objects.filter(action="member.create", object_id=str(created.pk)).exists()


def test_member_create_shows_the_services_refusal_on_the_field(operator, member, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN), language="en")
    response = client.post("/members/new/", {"name": "Duplicate", "uscc": member.uscc})
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="id_uscc_error"' in html
    assert "A member with this USCC exists in the region." in html
    bad = client.post("/members/new/", {"name": "Typo", "uscc": "91440300000000001X"})
    assert bad.status_code == 200
    assert 'id="id_uscc_error"' in page_text(bad)
