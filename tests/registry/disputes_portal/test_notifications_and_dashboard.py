"""Messages with the unread count in the menu, the dashboards' disputes, the lookup's link to
the filing form, and lifting a relisting block from the subject page."""

from __future__ import annotations

import re

import pytest

from core.errors import Conflict
from lenders.choices import Role
from registry.models import Notification, RelistBlock
from registry.views.lookups import dispute_new_url
from tests.registry.disputes_portal.helpers import answer_item, escalate, file_dispute, listed_subjects
from tests.registry.helpers import submit


def _nav_badge(html: str) -> str | None:
    match = re.search(r'href="/notifications/"[^>]*>[^<]*<span class="badge badge-warn" data-nav-badge>(\d+)', html)
    return match.group(1) if match else None


def test_the_menu_counts_unread_messages_and_marking_one_read_lowers_it(member, other_member, filer, listed, user_with):
    from tests.lenders.test_portal_support import signed_in

    analyst = user_with(member, Role.ANALYST)
    client = signed_in(analyst, language="en")
    assert _nav_badge(client.get("/").content.decode()) is None
    file_dispute(filer, listed)
    second = listed_subjects([member], 1, prefix="second")[0]
    file_dispute(filer, second)
    assert _nav_badge(client.get("/").content.decode()) == "2"

    page = client.get("/notifications/").content.decode()
    assert "challenges your BLACK entry" in page
    first = Notification.objects.filter(recipient=analyst).order_by("id").first()
    assert first is not None
    response = client.post(f"/notifications/{first.pk}/read/", {"next": "/notifications/?show=unread"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?show=unread"
    unread_page = client.get("/notifications/?show=unread").content.decode()
    assert _nav_badge(unread_page) == "1"
    assert f'data-notification="{first.pk}"' not in unread_page


def test_another_persons_message_cannot_be_marked_read(member, filer, listed, user_with, client_of):
    from tests.lenders.test_portal_support import signed_in

    analyst = user_with(member, Role.ANALYST)
    file_dispute(filer, listed)
    theirs = Notification.objects.get(recipient=analyst)
    response = client_of(member, Role.MEMBER_ADMIN).post(f"/notifications/{theirs.pk}/read/")
    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert (
        signed_in(analyst).post(f"/notifications/{theirs.pk}/read/", {"next": "https://evil.example/"})["Location"]
        == "/notifications/"
    )


def test_the_filer_hears_of_each_answer(member, other_member, filer, listed, client_of):
    client = client_of(filer, Role.ANALYST)  # staff who exist when it happens are told
    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "CONFIRM")
    html = client.get("/notifications/").content.decode()
    assert f"An item of dispute #{dispute.pk}" in html
    assert member.name not in html


def test_the_member_dashboard_shows_disputes_waiting_with_days_left(region, member, filer, listed, client_of):
    dispute = file_dispute(filer, listed)
    html = client_of(member, Role.ANALYST).get("/").content.decode()
    assert "Disputes waiting for your answer" in html
    assert f"#{dispute.pk}" in html
    assert f"{region.response_days} days left" in html
    assert "/answer/" in html


def test_the_operator_dashboard_shows_disputes_near_their_deadline(
    region, member, other_member, filer, client_of, operator
):
    import datetime

    from tests.registry.helpers import local_today

    near, far, contested = listed_subjects([member, other_member], 3, prefix="dash")
    close = file_dispute(filer, near, today=local_today() - datetime.timedelta(days=region.response_days - 2))
    distant = file_dispute(filer, far)
    escalate(file_dispute(filer, contested), filer, [member, other_member])
    html = client_of(operator, Role.OPERATOR_ADMIN).get("/").content.decode()
    assert "Disputes near their deadline" in html
    assert f'href="/disputes/{close.pk}/"' in html
    assert f'href="/disputes/{distant.pk}/"' not in html
    assert member.name in html
    assert re.search(r'<span class="stat-value">1</span> <span class="stat-label">escalated disputes', html)


def test_dashboards_of_roles_without_disputes_show_no_dispute_section(member, filer, listed, client_of):
    file_dispute(filer, listed)
    html = client_of(member, Role.UPLOADER).get("/").content.decode()
    assert "data-dashboard-disputes" not in html


def test_the_lookup_result_links_to_the_prefilled_filing_form(listed):
    assert dispute_new_url("RIC", listed) == f"/disputes/new/?id_type=RIC&subject_hash={listed}"


def test_the_menu_goes_to_the_inbox_for_members_and_the_list_for_the_operator(member, operator, client_of):
    assert client_of(member, Role.VIEWER).get("/disputes/")["Location"] == "/disputes/inbox/"
    assert client_of(operator, Role.REGULATOR).get("/disputes/")["Location"] == "/disputes/all/"


def test_the_operator_lifts_a_relisting_block_on_the_subject_page(
    member, other_member, filer, listed, client_of, operator
):
    dispute = file_dispute(filer, listed)
    answer_item(dispute, member, "WITHDRAW")
    answer_item(dispute, other_member, "CONFIRM")
    with pytest.raises(Conflict):  # the block holds until the operator lifts it
        submit(member, listed)

    url = f"/subjects/RIC/{listed}/"
    admin = client_of(operator, Role.OPERATOR_ADMIN)
    page = admin.get(url).content.decode()
    assert "Relisting blocks" in page and "Lift the block" in page
    regulator_page = client_of(operator, Role.REGULATOR).get(url).content.decode()
    assert "Relisting blocks" in regulator_page and "Lift the block" not in regulator_page

    response = admin.post(
        "/relist-blocks/lift/", {"member": member.pk, "id_type": "RIC", "subject_hash": listed, "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert RelistBlock.objects.get(member=member).lifted_at is not None
    after = admin.get(url).content.decode()
    assert "1 relisting block was lifted" in after
    assert "No relisting block is in force on this subject." in after
    relisted = submit(member, listed).entry  # listed again at once
    assert relisted is not None and relisted.state == "ACTIVE"


def test_the_operator_dashboard_shows_each_members_lapse_rate(region, member, other_member, filer, client_of, operator):
    import datetime

    from registry.services.disputes import dispute_deadlines_enforce
    from tests.registry.helpers import local_today

    late, answered = listed_subjects([member, other_member], 2, prefix="lapse")
    # Filed long enough ago that both items of ``late`` are past their deadline day.
    file_dispute(filer, late, today=local_today() - datetime.timedelta(days=region.response_days + 2))
    on_time = file_dispute(filer, answered)
    answer_item(on_time, member, "CONFIRM")
    dispute_deadlines_enforce(as_of=local_today())

    html = client_of(operator, Role.OPERATOR_ADMIN).get("/").content.decode()

    table = html.split("data-lapse-rates", 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'<tr data-member="(\d+)">\s*<th scope="row">[^<]*</th>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td[^>]*>([\d.]+)%',
        table,
    )
    # member: one lapsed, one confirmed (50%); other_member: its one closed item lapsed (100%),
    # its item of the answered dispute is still open and not counted.
    assert rows == [(str(other_member.pk), "1", "1", "100.0"), (str(member.pk), "2", "1", "50.0")]
