"""Deadlines (``disputes.md``): an item still open after its deadline day lapses when the job
runs on a later day, its entry is removed in the subject's favour; a reminder goes out
``reminder_days_before`` the deadline; the job is idempotent. Run through the command."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from registry.choices import DisputeItemState, DisputeState, EntryState, NotificationKind
from registry.models import Notification, RelistBlock
from tests.registry.disputes.helpers import answer, file, fresh, item_of, no_drift
from tests.registry.helpers import entry_of, lookup, run_command, subject, submit


@pytest.fixture
def opened(region, member, other_member, filer):  # type: ignore[no-untyped-def]
    h = subject("deadline")
    submit(member, h)
    submit(other_member, h)
    dispute = file(filer, h)
    return dispute, h, item_of(dispute, member).deadline


def _enforce(day: datetime.date) -> dict[str, object]:
    return run_command("enforce_dispute_deadlines", "--as-of", day.isoformat())


def test_nothing_lapses_the_day_before_the_deadline(region, member, opened):
    dispute, h, deadline = opened

    result = _enforce(deadline - datetime.timedelta(days=1))

    assert result["lapsed"] == 0
    assert item_of(dispute, member).state == DisputeItemState.OPEN
    assert entry_of(member, h).state == EntryState.ACTIVE


def test_nothing_lapses_on_the_deadline_day(region, member, opened):
    dispute, _h, deadline = opened

    result = _enforce(deadline)

    assert (result["as_of"], result["lapsed"]) == (deadline.isoformat(), 0)
    assert item_of(dispute, member).state == DisputeItemState.OPEN


def test_open_items_lapse_the_day_after_and_their_entries_are_removed(region, member, other_member, filer, opened):
    dispute, h, deadline = opened
    answer(dispute, other_member, "CONFIRM")
    day_after = deadline + datetime.timedelta(days=1)

    result = _enforce(day_after)

    assert result["lapsed"] == 1
    assert item_of(dispute, member).state == DisputeItemState.LAPSED
    assert item_of(dispute, other_member).state == DisputeItemState.CONFIRMED
    assert entry_of(member, h).state == EntryState.REMOVED
    dispute = fresh(dispute)
    assert (dispute.state, dispute.resolved_on) == (DisputeState.RESOLVED, day_after)
    assert RelistBlock.objects.get().until == day_after + datetime.timedelta(days=region.relist_block_days)
    shown = lookup(filer, h)
    assert (shown["status"], shown["black_members"], shown["disputed"]) == ("WATCH", 1, False)
    assert no_drift(region)
    assert AuditEvent.objects.filter(action="dispute.items_lapse", object_id=str(dispute.pk)).exists()


def test_running_the_job_twice_changes_nothing_more(region, member, opened):
    _dispute, _h, deadline = opened
    day_after = deadline + datetime.timedelta(days=1)
    first = _enforce(day_after)
    events = AuditEvent.objects.count()
    notifications = Notification.objects.count()

    second = _enforce(day_after)

    assert first["lapsed"] == 2
    assert second == {"as_of": day_after.isoformat(), "lapsed": 0, "reminded": 0}
    assert AuditEvent.objects.count() == events
    assert Notification.objects.count() == notifications
    assert RelistBlock.objects.count() == 2


def test_a_reminder_goes_out_once_reminder_days_before_the_deadline(region, member, user_with, filer):
    analyst = user_with(member, "ANALYST")
    h = subject("reminder")
    submit(member, h)
    dispute = file(filer, h)
    deadline = item_of(dispute, member).deadline
    remind_on = deadline - datetime.timedelta(days=region.reminder_days_before)

    assert _enforce(remind_on - datetime.timedelta(days=1))["reminded"] == 0
    assert _enforce(remind_on)["reminded"] == 1
    assert _enforce(remind_on + datetime.timedelta(days=1))["reminded"] == 0

    reminder = Notification.objects.get(recipient=analyst, kind=NotificationKind.DEADLINE_REMINDER)
    assert reminder.params["days_left"] == region.reminder_days_before
    assert deadline.isoformat() in reminder.text
    assert item_of(dispute, member).reminded_at is not None


def test_an_answered_item_gets_no_reminder_and_never_lapses(region, member, filer):
    h = subject("answered")
    submit(member, h)
    dispute = file(filer, h)
    answer(dispute, member, "CONFIRM")
    deadline = item_of(dispute, member).deadline

    assert _enforce(deadline - datetime.timedelta(days=1)) == {
        "as_of": (deadline - datetime.timedelta(days=1)).isoformat(),
        "lapsed": 0,
        "reminded": 0,
    }
    assert _enforce(deadline + datetime.timedelta(days=30))["lapsed"] == 0


def test_the_command_refuses_a_bad_date_with_exit_2(db):
    with pytest.raises(CommandError) as failed:
        call_command("enforce_dispute_deadlines", "--as-of", "2026-02-30")

    assert failed.value.returncode == 2


def test_the_celery_task_runs_the_same_service(region, member, opened, eager_celery):
    from registry.tasks import enforce_dispute_deadlines

    assert enforce_dispute_deadlines.delay().get()["lapsed"] == 0
