from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from lenders.models import Member, Region
from tests.factories import MemberFactory


@pytest.fixture
def filer(region: Region) -> Member:
    """The lender the subject went to: it files the dispute and holds no entry on the subject."""
    return MemberFactory(region=region, name="申诉受理小贷公司")  # type: ignore[return-value]


@pytest.fixture
def disputes_api(key_client: Callable[..., APIClient]) -> Callable[[Member], APIClient]:
    """A member's API client with the ``disputes`` scope."""

    def build(member: Member) -> APIClient:
        return key_client(member, scopes=["disputes"])

    return build


@pytest.fixture
def mails(eager_celery: None, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]) -> Any:
    """Run a block with its on-commit callbacks (the e-mail task, eagerly) and read the outbox."""

    class Mails:
        outbox = mailoutbox

        def capture(self) -> Any:
            return django_capture_on_commit_callbacks(execute=True)

    return Mails()
