"""Telling people about disputes: a row in each recipient's portal inbox, written in the
step's transaction, and an e-mail sent by a Celery task once that transaction commits.

Who hears what (``disputes.md``): the respondent's ``ANALYST`` and ``MEMBER_ADMIN`` staff on
filing and before the deadline; the filer's staff on each answer and at resolution; the
operator's ``OPERATOR_ADMIN`` staff when a dispute is escalated; both sides at arbitration.
A message to the filer never names a respondent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lenders.choices import Role
from lenders.models import Member, Operator, User
from registry.choices import NotificationKind
from registry.models import Dispute, DisputeItem, Notification

logger = logging.getLogger("registry.notifications")

# The roles of a member's staff who handle disputes, and of the operator's who arbitrate.
MEMBER_DISPUTE_ROLES = (Role.ANALYST, Role.MEMBER_ADMIN)
OPERATOR_DISPUTE_ROLES = (Role.OPERATOR_ADMIN,)


def staff_of(org: Member | Operator) -> list[User]:
    """The active staff of ``org`` who handle its disputes."""
    if isinstance(org, Member):
        users = User.objects.filter(member=org, role_grants__role__in=MEMBER_DISPUTE_ROLES)
    else:
        users = User.objects.filter(operator=org, role_grants__role__in=OPERATOR_DISPUTE_ROLES)
    return list(users.filter(is_active=True).distinct().order_by("pk"))


def filer_of(dispute: Dispute) -> Member | Operator:
    if dispute.filer_member is not None:
        return dispute.filer_member
    assert dispute.filer_operator is not None
    return dispute.filer_operator


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    dispute: Dispute,
    item: DisputeItem | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Put one message in each recipient's inbox and send the e-mails after the commit."""
    base = {"dispute": dispute.pk, "id_type": dispute.id_type, "subject": dispute.subject_hash_hex[:12]}
    rows = [
        Notification(recipient=user, kind=kind, dispute=dispute, item=item, params={**base, **(params or {})})
        for user in {user.pk: user for user in recipients}.values()
    ]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if not ids:  # a database that does not return ids from a bulk insert (none we run on)
        ids = list(
            Notification.objects.filter(dispute=dispute, kind=kind, emailed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )

    def queue() -> None:
        from registry.tasks import send_notification_emails

        send_notification_emails.delay(ids)

    transaction.on_commit(queue)
    return created


def notification_text(notification: Notification) -> str:
    """The message in the active language (never a respondent's name: filers read these too)."""
    p = notification.params
    values = {
        "dispute": p.get("dispute", notification.dispute_id),
        "subject": f"{p.get('id_type', '')}:{p.get('subject', '')}…",
        "deadline": p.get("deadline", ""),
        "days": p.get("days_left", ""),
        "decision": p.get("decision", ""),
        "items": p.get("items", ""),
        "ends": p.get("escalation_ends_on", ""),
    }
    kind = notification.kind
    if kind == NotificationKind.DISPUTE_FILED:
        text = _(
            "Dispute #%(dispute)s on subject %(subject)s challenges your BLACK entry; "
            "answer it by %(deadline)s (Asia/Shanghai) or the entry is removed."
        )
    elif kind == NotificationKind.DEADLINE_REMINDER:
        text = _(
            "Reminder: your answer to dispute #%(dispute)s on subject %(subject)s is due by %(deadline)s "
            "(%(days)s days left); unanswered, your entry is removed."
        )
    elif kind == NotificationKind.ITEM_ANSWERED:
        text = _("An item of dispute #%(dispute)s on subject %(subject)s was answered: %(decision)s.")
    elif kind == NotificationKind.ITEM_LAPSED:
        text = _(
            "An item of dispute #%(dispute)s on subject %(subject)s was not answered by its deadline "
            "%(deadline)s: it lapsed and its entry was removed."
        )
    elif kind == NotificationKind.DISPUTE_RESOLVED and values["ends"]:
        text = _(
            "Dispute #%(dispute)s on subject %(subject)s is resolved; an entry was confirmed or corrected, "
            "and the filer may escalate it to the operator until %(ends)s."
        )
    elif kind == NotificationKind.DISPUTE_RESOLVED:
        text = _("Dispute #%(dispute)s on subject %(subject)s is resolved: every disputed entry was removed.")
    elif kind == NotificationKind.DISPUTE_ESCALATED:
        text = _("Dispute #%(dispute)s on subject %(subject)s was escalated to the operator for arbitration.")
    else:
        text = _("The operator arbitrated dispute #%(dispute)s on subject %(subject)s.")
    return text % values


def notification_subject(notification: Notification) -> str:
    return _("[Registry] Dispute #%(dispute)s: %(kind)s") % {
        "dispute": notification.dispute_id,
        "kind": NotificationKind(notification.kind).label,
    }


def notification_emails_send(*, notification_ids: list[int]) -> int:
    """Send the e-mail of each notification not sent yet, in its recipient's language; mark
    each sent. Safe to run twice: a sent one is not sent again."""
    sent = 0
    pending = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("recipient")
    with get_connection() as connection:
        for notification in pending:
            user = notification.recipient
            if not user.email:
                continue
            with translation.override(user.language or settings.LANGUAGE_CODE):
                message = EmailMessage(
                    subject=notification_subject(notification),
                    body=notification_text(notification),
                    to=[user.email],
                    connection=connection,
                )
            message.send()
            # Marked one by one: a failure half-way leaves the rest to the retry, not resent.
            Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
            sent += 1
    return sent
