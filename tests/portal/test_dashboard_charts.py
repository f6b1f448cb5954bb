"""The dashboard's charts: what the selectors count, and that they count it in a fixed
number of queries however many rows there are."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import ConsensusHistory
from registry.selectors.dashboard import (
    member_activity_per_day,
    member_entries_by_list_and_reason,
    member_lookups_this_month,
    region_member_activity,
    region_status_mix_per_day,
    region_subjects_by_status,
)
from registry.services.lookups import lookup_subject
from tests.registry.helpers import member_actor, subject, submit

pytestmark = pytest.mark.django_db


def _activity(member, other, n: int) -> None:
    """n subjects black-listed by member (and half of them also by other), each looked up once."""
    for i in range(n):
        h = subject(f"{member.pk}-{i}")
        submit(member, h, reason="FRAUD" if i % 2 else "SEVERE_OVERDUE")
        if i % 2 == 0:
            submit(other, h, "WHITE", "GOOD_REPAYMENT")
        lookup_subject(actor=member_actor(member), id_type="RIC", subject_hash=h, purpose="UNDERWRITING")


def test_the_member_selectors_count_by_day_list_and_reason(member, other_member):
    _activity(member, other_member, 5)
    daily = member_activity_per_day(member=member)
    assert len(daily.days) == 30 and daily.days[-1] == timezone.localdate().isoformat()
    assert daily.series["lookups"][-1] == 5 and sum(daily.series["lookups"]) == 5
    assert daily.totals == {"uploads": 0, "lookups": 5}
    entries = member_entries_by_list_and_reason(member=member)
    assert entries["BLACK"]["FRAUD"] == 2 and entries["BLACK"]["SEVERE_OVERDUE"] == 3
    assert set(entries["WHITE"].values()) == {0}
    assert member_entries_by_list_and_reason(member=other_member)["WHITE"]["GOOD_REPAYMENT"] == 3


def test_lookups_this_month_count_from_the_first_of_the_local_month(member, other_member):
    from registry.models import LookupRecord

    _activity(member, other_member, 3)
    today = timezone.localdate()
    first = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time.min))
    # One record moved to the last second of the previous month no longer counts.
    moved = LookupRecord.objects.filter(member=member).order_by("created_at").first()
    assert moved is not None
    LookupRecord.objects.filter(pk=moved.pk).update(created_at=first - datetime.timedelta(seconds=1))
    assert member_lookups_this_month(member=member) == 2
    assert member_lookups_this_month(member=other_member) == 0


def test_the_member_dashboard_shows_its_lookups_this_month(client, member, other_member, user_with):
    _activity(member, other_member, 4)
    _queries, html = _dashboard_queries(client, user_with(member, "ANALYST"))
    stat = html.split("data-lookups-this-month>", 1)[1].split("</li>", 1)[0]
    assert '<span class="stat-value">4</span>' in stat and "lookups this month" in stat


def test_the_region_selectors_count_statuses_and_each_members_activity(region, member, other_member):
    _activity(member, other_member, 4)
    statuses = region_subjects_by_status(region=region)
    assert sum(statuses.values()) == 4
    assert statuses["WATCH"] == 4  # one member's black entry each: not enough for the black list
    rows = {row.member_id: row for row in region_member_activity(region=region)}
    assert (rows[member.pk].lookups, rows[member.pk].active_entries) == (4, 4)
    assert (rows[other_member.pk].lookups, rows[other_member.pk].active_entries) == (0, 2)


def test_the_status_mix_over_time_walks_back_from_today_through_the_history(region, member, other_member):
    _activity(member, other_member, 4)  # four subjects, each WATCH since today
    today = timezone.localdate()
    mix = region_status_mix_per_day(region=region, today=today)
    assert (mix.series["WATCH"][-1], mix.series["BLACK"][-1]) == (4, 0)
    assert mix.series["WATCH"][-2] == 0  # none was listed yesterday
    # Two of the subjects were first listed five days ago: they count from that day on.
    first = ConsensusHistory.objects.filter(region=region, old_status="").order_by("pk")[:2]
    ConsensusHistory.objects.filter(pk__in=[row.pk for row in first]).update(
        changed_at=timezone.now() - datetime.timedelta(days=5)
    )
    mix = region_status_mix_per_day(region=region, today=today)
    assert mix.series["WATCH"][-7:] == [0, 2, 2, 2, 2, 2, 4]


@pytest.mark.parametrize("rows", [1, 12])
def test_the_selectors_use_a_fixed_number_of_queries(region, member, other_member, rows, django_assert_num_queries):
    _activity(member, other_member, rows)
    with django_assert_num_queries(2):
        member_activity_per_day(member=member)
    with django_assert_num_queries(1):
        member_entries_by_list_and_reason(member=member)
    with django_assert_num_queries(1):
        region_subjects_by_status(region=region)
    with django_assert_num_queries(4):  # the members, then uploads, lookups and entries per member
        region_member_activity(region=region)
    with django_assert_num_queries(2):  # today's statuses, then the changes of the window
        region_status_mix_per_day(region=region)


def _dashboard_queries(client, user) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_dashboards_draw_their_charts_from_the_selectors(client, region, member, other_member, user_with):
    _activity(member, other_member, 3)
    _queries, html = _dashboard_queries(client, user_with(member, "ANALYST"))
    assert 'data-chart="member-activity-chart"' in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    start = html.index('id="member-activity-chart"')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert data["datasets"][1]["data"][-1] == 3  # three lookups today

    _queries, html = _dashboard_queries(client, user_with(region.operator, "OPERATOR_ADMIN"))
    assert 'data-chart="region-statuses-chart"' in html and 'data-chart="member-activity-chart"' not in html


def test_the_dashboards_query_count_does_not_grow_with_the_data(client, region, member, other_member, user_with):
    analyst = user_with(member, "ANALYST")
    operator = user_with(region.operator, "OPERATOR_ADMIN")
    _activity(member, other_member, 1)
    small = (_dashboard_queries(client, analyst)[0], _dashboard_queries(client, operator)[0])
    _activity(member, other_member, 15)
    assert (_dashboard_queries(client, analyst)[0], _dashboard_queries(client, operator)[0]) == small
