"""The dispute lists: what each shows, most urgent first, filters, pages, and a query count
that does not grow with the rows."""

from __future__ import annotations

import datetime
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenders.choices import Role
from registry.models import DisputeItem
from tests.registry.disputes_portal.helpers import answer_item, escalate, file_dispute, item_of, listed_subjects
from tests.registry.helpers import local_today


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # the first request may fill caches (sessions, translations)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_inbox_lists_the_most_urgent_item_first_with_days_left(region, member, filer, client_of):
    today = local_today()
    late, early = listed_subjects([member], 2, prefix="urgency")
    later = file_dispute(filer, late)  # due in response_days
    sooner = file_dispute(filer, early, today=today - datetime.timedelta(days=region.response_days - 3))
    html = client_of(member, Role.VIEWER).get("/disputes/inbox/").content.decode()
    rows = re.findall(r'<tr data-item="(\d+)">', html)
    assert rows == [str(item_of(sooner, member).pk), str(item_of(later, member).pk)]
    assert "3 days left" in html
    assert f"{region.response_days} days left" in html


def test_the_inbox_filter_shows_only_items_waiting_for_an_answer(member, filer, client_of):
    answered_subject, open_subject = listed_subjects([member], 2, prefix="filter")
    answered = file_dispute(filer, answered_subject)
    answer_item(answered, member, "CONFIRM")
    waiting = file_dispute(filer, open_subject)
    client = client_of(member, Role.ANALYST)
    everything = client.get("/disputes/inbox/").content.decode()
    assert len(re.findall(r"<tr data-item=", everything)) == 2
    only_waiting = client.get("/disputes/inbox/?state=WAITING").content.decode()
    assert re.findall(r'<tr data-item="(\d+)">', only_waiting) == [str(item_of(waiting, member).pk)]
    confirmed = client.get("/disputes/inbox/?state=CONFIRMED").content.decode()
    assert re.findall(r'<tr data-item="(\d+)">', confirmed) == [str(item_of(answered, member).pk)]
    assert client.get("/disputes/inbox/?state=NONSENSE").status_code == 200


def test_the_filed_list_shows_own_filings_only_and_filters_by_state(member, other_member, filer, client_of):
    mine_subject, theirs_subject = listed_subjects([member], 2, prefix="filed")
    mine = file_dispute(filer, mine_subject)
    theirs = file_dispute(other_member, theirs_subject)
    client = client_of(filer, Role.VIEWER)
    html = client.get("/disputes/filed/").content.decode()
    assert re.findall(r'<tr data-dispute="(\d+)">', html) == [str(mine.pk)]
    assert f"/disputes/{theirs.pk}/" not in html
    resolved = client.get("/disputes/filed/?state=RESOLVED").content.decode()
    assert "<tr data-dispute=" not in resolved
    assert "No dispute matches this filter." in resolved


def test_the_operator_list_filters_by_filer_respondent_and_state(
    region, member, other_member, filer, client_of, operator
):
    first_subject, second_subject = listed_subjects([member], 2, prefix="op")
    from tests.registry.helpers import submit

    submit(other_member, second_subject)
    first = file_dispute(filer, first_subject)
    second = file_dispute(filer, second_subject)
    answer_item(first, member, "WITHDRAW")
    client = client_of(operator, Role.REGULATOR)

    def listed(query: str) -> list[str]:
        html = client.get(f"/disputes/all/{query}").content.decode()
        return re.findall(r'<tr data-dispute="(\d+)">', html)

    assert sorted(listed("")) == sorted([str(first.pk), str(second.pk)])
    assert listed(f"?respondent={other_member.pk}") == [str(second.pk)]
    assert listed("?state=RESOLVED") == [str(first.pk)]
    assert listed(f"?filer={filer.pk}&state=OPEN") == [str(second.pk)]
    assert listed(f"?subject_hash={first_subject.upper()}") == [str(first.pk)]
    assert listed("?subject_hash=zz") == []  # an unreadable filter shows nothing, with the error
    assert (
        "A subject hash is 64 hexadecimal characters" in client.get("/disputes/all/?subject_hash=zz").content.decode()
    )


def test_lists_are_paged(member, filer, client_of):
    subjects = listed_subjects([member], 52, prefix="paged")
    for subject_hash in subjects:
        file_dispute(filer, subject_hash)
    client = client_of(member, Role.VIEWER)
    first = client.get("/disputes/inbox/").content.decode()
    second = client.get("/disputes/inbox/?page=2").content.decode()
    assert len(re.findall(r"<tr data-item=", first)) == 50
    assert len(re.findall(r"<tr data-item=", second)) == 2
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    filed = client_of(filer, Role.VIEWER).get("/disputes/filed/?page=2").content.decode()
    assert len(re.findall(r"<tr data-dispute=", filed)) == 2


def test_member_lists_cost_the_same_queries_for_one_row_or_many(member, other_member, filer, client_of):
    urls = ["/disputes/inbox/", "/notifications/", "/", "/disputes/inbox/?state=WAITING"]
    filer_urls = ["/disputes/filed/", "/notifications/"]
    respondent = client_of(member, Role.ANALYST)
    filing = client_of(filer, Role.ANALYST)
    answered, waiting = listed_subjects([member, other_member], 2, prefix="q1")
    answer_item(file_dispute(filer, answered), member, "CONFIRM")
    file_dispute(filer, waiting)  # every list starts with a row (an empty page skips its query)
    before = [_queries(respondent, url) for url in urls] + [_queries(filing, url) for url in filer_urls]
    for n, subject_hash in enumerate(listed_subjects([member, other_member], 6, prefix="q6")):
        more = file_dispute(filer, subject_hash)
        if n % 2:
            answer_item(more, member, "CONFIRM")
    after = [_queries(respondent, url) for url in urls] + [_queries(filing, url) for url in filer_urls]
    assert after == before


def test_operator_lists_cost_the_same_queries_for_one_row_or_many(member, other_member, filer, client_of, operator):
    urls = ["/disputes/all/", "/disputes/arbitration/", "/disputes/statistics/", "/", "/notifications/"]
    client = client_of(operator, Role.OPERATOR_ADMIN)
    escalate(
        file_dispute(filer, listed_subjects([member, other_member], 1, prefix="o1")[0]), filer, [member, other_member]
    )
    before = [_queries(client, url) for url in urls]
    for subject_hash in listed_subjects([member, other_member], 5, prefix="o5"):
        escalate(file_dispute(filer, subject_hash), filer, [member, other_member])
    file_dispute(filer, listed_subjects([member], 1, prefix="open")[0])
    after = [_queries(client, url) for url in urls]
    assert after == before


def test_the_statistics_show_each_members_answers_next_to_its_trust_weight(
    region, member, other_member, filer, client_of, operator
):
    first, second = listed_subjects([member, other_member], 2, prefix="stats")
    one = file_dispute(filer, first)
    answer_item(one, member, "CONFIRM")
    answer_item(one, other_member, "WITHDRAW")
    two = file_dispute(filer, second)
    answer_item(two, member, "WITHDRAW")
    html = client_of(operator, Role.OPERATOR_ADMIN).get("/disputes/statistics/").content.decode()
    row = re.search(rf'<tr data-member="{member.pk}">(.*?)</tr>', html, re.DOTALL)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*">\s*(.*?)\s*</td>', row.group(1), re.DOTALL)
    # trust weight, received, open, confirmed, corrected, withdrawn, lapsed, upheld, removed, median
    assert cells[0] == str(member.trust_weight)
    assert cells[1:9] == ["2", "0", "1", "0", "1", "0", "0", "0"]
    assert cells[9].endswith("days")
    other_row = re.search(rf'<tr data-member="{other_member.pk}">(.*?)</tr>', html, re.DOTALL)
    assert other_row is not None and f'href="/members/{member.pk}/"' in html
    assert DisputeItem.objects.filter(respondent=other_member).count() == 2
