"""The whole dispute through the pages only: the filer files from a lookup's link, each
respondent answers from its inbox, the dispute is resolved; then escalation and arbitration."""

from __future__ import annotations

import re

from lenders.choices import Role
from registry.choices import DisputeItemState, DisputeState, EntryState
from registry.models import ConsensusRecord, Dispute, DisputeItem, Entry
from tests.registry.helpers import current_key


def _created_dispute(response) -> Dispute:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.fullmatch(r"/disputes/(\d+)/", response["Location"])
    assert match is not None, response["Location"]
    return Dispute.objects.get(pk=int(match.group(1)))


def _answer_url(dispute: Dispute, respondent) -> str:  # type: ignore[no-untyped-def]
    item = DisputeItem.objects.get(dispute=dispute, respondent=respondent)
    return f"/disputes/{dispute.pk}/items/{item.pk}/answer/"


def _disputed(region, subject_hash: str) -> bool:  # type: ignore[no-untyped-def]
    record = ConsensusRecord.objects.get(
        hash_key=current_key(region), id_type="RIC", subject_hash=bytes.fromhex(subject_hash)
    )
    return record.disputed


def test_file_answer_and_resolve_through_the_pages(region, member, other_member, filer, listed, client_of):
    filer_client = client_of(filer, Role.ANALYST)
    form = filer_client.get(f"/disputes/new/?id_type=RIC&subject_hash={listed}")
    assert form.status_code == 200
    assert f'value="{listed}"' in form.content.decode()

    dispute = _created_dispute(
        filer_client.post(
            "/disputes/new/",
            {
                "id_type": "RIC",
                "subject_hash": listed,
                "key_id": "",
                "grounds": "REPAID",
                "statement": "Repaid in full.",
            },
        )
    )
    assert dispute.state == DisputeState.OPEN
    assert _disputed(region, listed)
    detail = filer_client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Repaid in full." in detail
    assert member.name not in detail and other_member.name not in detail

    first = client_of(member, Role.ANALYST)
    inbox = first.get("/disputes/inbox/").content.decode()
    assert _answer_url(dispute, member) in inbox
    answered = first.post(_answer_url(dispute, member), {"decision": "CONFIRM", "note": "Checked the loan file."})
    assert answered.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).state == DisputeState.OPEN

    second = client_of(other_member, Role.MEMBER_ADMIN)
    answered = second.post(
        _answer_url(dispute, other_member), {"decision": "WITHDRAW", "note": "The loan was repaid; our error."}
    )
    assert answered.status_code == 302

    dispute.refresh_from_db()
    assert dispute.state == DisputeState.RESOLVED
    assert not _disputed(region, listed)
    assert Entry.objects.get(member=other_member, subject_hash=bytes.fromhex(listed)).state == EntryState.REMOVED
    page = filer_client.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Resolved" in page
    assert "Checked the loan file." in page and "The loan was repaid; our error." in page
    assert "data-escalate-form" in page  # one entry was confirmed: the filer may escalate


def test_escalate_and_arbitrate_through_the_pages(region, member, other_member, filer, listed, client_of, operator):
    from tests.registry.disputes_portal.helpers import answer_item, file_dispute

    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "CONFIRM")

    filer_client = client_of(filer, Role.ANALYST)
    escalated = filer_client.post(f"/disputes/{dispute.pk}/escalate/", {"reason": "The subject has a court ruling."})
    assert escalated.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).state == DisputeState.ESCALATED
    assert _disputed(region, listed)

    admin = client_of(operator, Role.OPERATOR_ADMIN)
    queue = admin.get("/disputes/arbitration/").content.decode()
    assert "The subject has a court ruling." in queue
    items = {item.respondent_id: item for item in DisputeItem.objects.filter(dispute=dispute)}
    for respondent, decision in ((member, "UPHOLD"), (other_member, "REMOVE")):
        item = items[respondent.pk]
        assert f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/" in queue
        decided = admin.post(
            f"/disputes/{dispute.pk}/items/{item.pk}/arbitrate/",
            {
                f"item-{item.pk}-decision": decision,
                f"item-{item.pk}-reason": "Weighed the ruling.",
                "next": "/disputes/arbitration/",
            },
        )
        assert decided.status_code == 302
        assert decided["Location"] == "/disputes/arbitration/"

    dispute.refresh_from_db()
    assert dispute.state == DisputeState.ARBITRATED
    states = {i.respondent_id: i.state for i in DisputeItem.objects.filter(dispute=dispute)}
    assert states == {member.pk: DisputeItemState.UPHELD, other_member.pk: DisputeItemState.REMOVED}
    assert "No dispute is waiting for arbitration." in admin.get("/disputes/arbitration/").content.decode()


def test_the_operator_files_a_dispute_and_escalates_it_through_the_pages(
    region, member, other_member, listed, client_of, operator
):
    from tests.registry.disputes_portal.helpers import answer_item

    admin = client_of(operator, Role.OPERATOR_ADMIN)
    assert 'href="/disputes/new/"' in admin.get("/disputes/all/").content.decode()
    assert client_of(operator, Role.REGULATOR).get("/disputes/new/").status_code == 403
    dispute = _created_dispute(
        admin.post(
            "/disputes/new/",
            {"id_type": "RIC", "subject_hash": listed, "key_id": "", "grounds": "WRONG_DETAILS", "statement": "Wrong."},
        )
    )
    assert dispute.filer_operator_id == operator.pk
    answer_item(dispute, member, "CONFIRM")
    answer_item(dispute, other_member, "CONFIRM")
    page = admin.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "data-escalate-form" in page
    assert admin.post(f"/disputes/{dispute.pk}/escalate/", {"reason": "Check it."}).status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).state == DisputeState.ESCALATED
    respondent_page = client_of(member, Role.ANALYST).get(f"/disputes/{dispute.pk}/").content.decode()
    assert "The operator" in respondent_page
