"""The portal's lists cost the same number of queries whatever their length (no N+1)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenders.choices import Role
from tests.factories import MemberFactory, make_api_key
from tests.lenders.test_portal_support import signed_in


def _queries(client, url: str) -> int:
    client.get(url)  # the first request may fill caches (sessions, translations)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _add_rows(region, member, operator, user_with, count: int) -> None:
    for _n in range(count):
        user_with(member, Role.VIEWER)
        make_api_key(member, scopes=["lookup"])
        MemberFactory(region=region)


def test_member_admin_pages_do_not_query_per_row(region, member, operator, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    urls = ["/", "/staff/", "/api-keys/"]
    _add_rows(region, member, operator, user_with, 1)
    before = [_queries(client, url) for url in urls]
    _add_rows(region, member, operator, user_with, 5)
    assert [_queries(client, url) for url in urls] == before


def test_operator_pages_do_not_query_per_row(region, member, operator, user_with):
    client = signed_in(user_with(operator, Role.OPERATOR_ADMIN))
    urls = ["/", "/members/", f"/members/{member.pk}/"]
    _add_rows(region, member, operator, user_with, 1)
    before = [_queries(client, url) for url in urls]
    _add_rows(region, member, operator, user_with, 5)
    assert [_queries(client, url) for url in urls] == before
