"""Who may open which dispute page: every role its pages, 403 for a role that may not write
or for a member on the operator's pages, 404 for a dispute, item or file of someone else."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lenders.choices import Role
from registry.services.disputes import dispute_evidence_add
from tests.factories import MemberFactory
from tests.lenders.test_portal_support import page_text
from tests.registry.disputes_portal.helpers import answer_item, file_dispute, item_of
from tests.registry.helpers import member_actor

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def dispute(filer, listed):  # type: ignore[no-untyped-def]
    return file_dispute(filer, listed)


@pytest.fixture
def evidence(dispute, filer):  # type: ignore[no-untyped-def]
    return dispute_evidence_add(
        actor=member_actor(filer),
        dispute_id=dispute.pk,
        file=SimpleUploadedFile("loan-receipt.pdf", PDF, content_type="application/pdf"),
    )


@pytest.mark.parametrize("role", [Role.MEMBER_ADMIN, Role.ANALYST, Role.VIEWER])
def test_member_reading_pages_render_for_every_dispute_role(role, member, dispute, client_of):
    client = client_of(member, role)
    for url in ("/disputes/inbox/", "/disputes/filed/", f"/disputes/{dispute.pk}/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page_text(response)


@pytest.mark.parametrize("role", [Role.MEMBER_ADMIN, Role.ANALYST])
def test_member_write_pages_render_for_dispute_staff(role, member, dispute, client_of):
    client = client_of(member, role)
    assert client.get("/disputes/new/").status_code == 200
    assert client.get(f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/").status_code == 200


def test_a_viewer_is_refused_every_write_form(member, filer, dispute, client_of):
    viewer = client_of(member, Role.VIEWER)
    answer_url = f"/disputes/{dispute.pk}/items/{item_of(dispute, member).pk}/answer/"
    assert viewer.get("/disputes/new/").status_code == 403
    assert viewer.get(answer_url).status_code == 403
    assert viewer.post(answer_url, {"decision": "CONFIRM", "note": "x"}).status_code == 403
    assert viewer.post(f"/disputes/{dispute.pk}/evidence/", {}).status_code == 403
    filer_viewer = client_of(filer, Role.VIEWER)
    assert filer_viewer.post(f"/disputes/{dispute.pk}/escalate/", {"reason": "x"}).status_code == 403
    assert item_of(dispute, member).state == "OPEN"


def test_a_viewer_sees_no_answer_button_nor_evidence_form(member, dispute, client_of):
    html = client_of(member, Role.VIEWER).get(f"/disputes/{dispute.pk}/").content.decode()
    assert "/answer/" not in html
    assert "data-evidence-form" not in html


def test_an_uploader_without_dispute_rights_is_refused(member, dispute, client_of):
    client = client_of(member, Role.UPLOADER)
    for url in ("/disputes/", "/disputes/inbox/", f"/disputes/{dispute.pk}/", "/disputes/new/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(
    "url",
    ["/disputes/all/", "/disputes/arbitration/", "/disputes/statistics/"],
)
def test_members_are_refused_the_operator_pages(url, member, client_of):
    assert client_of(member, Role.MEMBER_ADMIN).get(url).status_code == 403


def test_members_are_refused_arbitration_and_block_lifting(member, other_member, filer, dispute, listed, client_of):
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "CONFIRM")
    item = item_of(dispute, member)
    client = client_of(member, Role.MEMBER_ADMIN)
    posted = client.post(
        f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/",
        {f"item-{item.pk}-decision": "REMOVE", f"item-{item.pk}-reason": "mine"},
    )
    assert posted.status_code == 403
    lift = client.post("/relist-blocks/lift/", {"member": member.pk, "id_type": "RIC", "subject_hash": listed})
    assert lift.status_code == 403


@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.REGULATOR])
def test_operator_pages_render_for_the_operator_roles(role, operator, dispute, client_of):
    client = client_of(operator, role)
    for url in ("/disputes/all/", "/disputes/arbitration/", "/disputes/statistics/", f"/disputes/{dispute.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page_text(response)
    assert client.get("/disputes/").status_code == 302


def test_the_regulator_reads_but_may_not_arbitrate(operator, member, other_member, dispute, client_of):
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "CONFIRM")
    item = item_of(dispute, member)
    client = client_of(operator, Role.REGULATOR)
    response = client.post(
        f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/",
        {f"item-{item.pk}-decision": "REMOVE", f"item-{item.pk}-reason": "no"},
    )
    assert response.status_code == 403


def test_another_members_dispute_is_not_found(region, dispute, evidence, client_of):
    stranger = client_of(MemberFactory(region=region), Role.MEMBER_ADMIN)
    assert stranger.get(f"/disputes/{dispute.pk}/").status_code == 404
    assert stranger.get(f"/disputes/{dispute.pk}/evidence/{evidence.pk}/").status_code == 404
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    assert stranger.post(f"/disputes/{dispute.pk}/evidence/", {"file": upload}).status_code == 404
    assert stranger.post(f"/disputes/{dispute.pk}/escalate/", {"reason": "x"}).status_code == 404


def test_an_item_addressed_to_another_member_is_not_found(member, other_member, filer, dispute, client_of):
    theirs = item_of(dispute, other_member)
    url = f"/disputes/{dispute.pk}/items/{theirs.pk}/answer/"
    assert client_of(member, Role.MEMBER_ADMIN).get(url).status_code == 404
    assert client_of(member, Role.MEMBER_ADMIN).post(url, {"decision": "WITHDRAW", "note": "x"}).status_code == 404
    # The filer sees the items of its dispute but answers none of them.
    assert client_of(filer, Role.MEMBER_ADMIN).get(url).status_code == 404
    assert item_of(dispute, other_member).state == "OPEN"


def test_evidence_is_served_to_the_parties_and_the_operator_only(
    region, member, filer, operator, dispute, evidence, client_of
):
    url = f"/disputes/{dispute.pk}/evidence/{evidence.pk}/"
    for client in (client_of(filer, Role.ANALYST), client_of(member, Role.VIEWER), client_of(operator, Role.REGULATOR)):
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
    # The right file under the wrong dispute is not found either.
    other = file_dispute(filer, _another_listed_subject(member))
    assert client_of(filer, Role.ANALYST).get(f"/disputes/{other.pk}/evidence/{evidence.pk}/").status_code == 404


def _another_listed_subject(member) -> str:  # type: ignore[no-untyped-def]
    from tests.registry.helpers import subject, submit

    subject_hash = subject("second-subject")
    submit(member, subject_hash)
    return subject_hash


def test_the_respondent_never_learns_who_filed_and_the_filer_never_who_answered(
    member, other_member, filer, dispute, client_of
):
    respondent_page = client_of(member, Role.ANALYST).get(f"/disputes/{dispute.pk}/").content.decode()
    assert filer.name not in respondent_page
    assert other_member.name not in respondent_page
    assert "THEIR-REF-2" not in respondent_page
    filer_page = client_of(filer, Role.ANALYST).get(f"/disputes/{dispute.pk}/").content.decode()
    assert member.name not in filer_page and other_member.name not in filer_page
    assert "OWN-REF-1" not in filer_page and "THEIR-REF-2" not in filer_page
    operator_page = client_of(member.region.operator, Role.OPERATOR_ADMIN).get(f"/disputes/{dispute.pk}/")
    html = operator_page.content.decode()
    assert member.name in html and other_member.name in html and filer.name in html


def test_signed_out_visitors_are_sent_to_sign_in(dispute):
    from django.test import Client

    response = Client().get(f"/disputes/{dispute.pk}/")
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_bad_input_gets_a_clear_4xx_never_a_500(region, member, operator, dispute, listed, client_of):
    admin = client_of(operator, Role.OPERATOR_ADMIN)
    assert (
        admin.post("/relist-blocks/lift/", {"member": "abc", "id_type": "XX", "subject_hash": "zz"}).status_code == 400
    )
    unknown = admin.post("/relist-blocks/lift/", {"member": 999999, "id_type": "RIC", "subject_hash": listed})
    assert unknown.status_code == 404
    assert admin.get("/disputes/all/?filed_from=yesterday&page=zzz").status_code == 200
    item = item_of(dispute, member)
    not_escalated = admin.post(
        f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/",
        {f"item-{item.pk}-decision": "REMOVE", f"item-{item.pk}-reason": "Too early."},
    )
    assert not_escalated.status_code == 400
    assert "Only an escalated dispute is arbitrated" in not_escalated.content.decode()
    respondent = client_of(member, Role.ANALYST)
    bogus = respondent.post(f"/disputes/{dispute.pk}/items/{item.pk}/answer/", {"decision": "BOGUS", "note": "x"})
    assert bogus.status_code == 400
    assert respondent.get("/disputes/999999/").status_code == 404
    assert respondent.post("/notifications/999999/read/").status_code == 404
    assert respondent.get(f"/disputes/{dispute.pk}/escalate/").status_code == 405
