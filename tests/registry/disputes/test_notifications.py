"""Notifications (``disputes.md``): the respondent's ANALYST and MEMBER_ADMIN staff hear of a
filing (portal inbox and e-mail after the commit), the filer's staff of each answer and of the
resolution, without learning who answered."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from lenders.actors import Actor
from registry.choices import NotificationKind
from registry.models import Notification
from registry.selectors.disputes import notifications_for, unread_notifications_count
from registry.services.disputes import notification_mark_read
from tests.registry.disputes.helpers import answer, file
from tests.registry.helpers import subject, submit


@pytest.fixture
def staff(member, filer, user_with):  # type: ignore[no-untyped-def]
    def person(org, role, email):  # type: ignore[no-untyped-def]
        user = user_with(org, role)
        user.email = email
        user.save(update_fields=["email"])
        return user

    return {
        "analyst": person(member, "ANALYST", "analyst@respondent.example"),
        "admin": person(member, "MEMBER_ADMIN", "admin@respondent.example"),
        "uploader": person(member, "UPLOADER", "uploader@respondent.example"),
        "filer": person(filer, "ANALYST", "desk@filer.example"),
    }


def test_filing_notifies_the_respondents_dispute_staff_by_inbox_and_mail(member, filer, staff, mails):
    h = subject("notify")
    submit(member, h)

    with mails.capture():
        dispute = file(filer, h)

    kinds = {(n.recipient_id, n.kind) for n in Notification.objects.all()}
    assert kinds == {
        (staff["analyst"].pk, NotificationKind.DISPUTE_FILED),
        (staff["admin"].pk, NotificationKind.DISPUTE_FILED),
    }
    assert sorted(m.to[0] for m in mails.outbox) == ["admin@respondent.example", "analyst@respondent.example"]
    assert f"#{dispute.pk}" in mails.outbox[0].subject
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_the_filer_hears_of_each_answer_and_the_resolution_without_the_respondents_name(member, filer, staff, mails):
    h = subject("notify filer")
    submit(member, h)
    dispute = file(filer, h)

    with mails.capture():
        answer(dispute, member, "CONFIRM")

    received = list(notifications_for(staff["filer"]))
    assert {n.kind for n in received} == {NotificationKind.ITEM_ANSWERED, NotificationKind.DISPUTE_RESOLVED}
    for notification in received:
        assert member.name not in notification.text
    assert all(member.name not in m.body for m in mails.outbox)
    assert any("CONFIRM" in n.text for n in received)


def test_no_mail_is_sent_when_the_transaction_rolls_back(member, filer, staff, mails):
    from django.db import transaction

    h = subject("rolled back")
    submit(member, h)
    with mails.capture():
        try:
            with transaction.atomic():
                file(filer, h)
                raise RuntimeError("the request failed after filing")
        except RuntimeError:
            pass

    assert mails.outbox == []
    assert not Notification.objects.exists()


def test_a_person_marks_their_own_notification_read(member, filer, staff):
    h = subject("read")
    submit(member, h)
    file(filer, h)
    analyst = staff["analyst"]
    notification = Notification.objects.get(recipient=analyst)
    assert unread_notifications_count(analyst) == 1

    notification_mark_read(actor=Actor.for_user(analyst), notification_id=notification.pk)

    assert unread_notifications_count(analyst) == 0
    with pytest.raises(NotFound):
        notification_mark_read(actor=Actor.for_user(staff["admin"]), notification_id=notification.pk)
