"""Fixtures of the dispute pages' tests: a subject listed BLACK by two members, a third member
that files disputes, and signed-in clients for each side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from lenders.choices import Role
from lenders.models import Member, Region
from tests.factories import MemberFactory
from tests.lenders.test_portal_support import signed_in
from tests.registry.helpers import subject, submit


@pytest.fixture
def filer(region: Region) -> Member:
    """The lender the subject went to: it files, and holds no entry on the subject."""
    return MemberFactory(region=region, name="申诉受理小贷公司")  # type: ignore[return-value]


@pytest.fixture
def listed(member: Member, other_member: Member) -> str:
    """A subject listed BLACK by ``member`` and ``other_member``."""
    subject_hash = subject("portal-disputed")
    submit(member, subject_hash, reference="OWN-REF-1")
    submit(other_member, subject_hash, reference="THEIR-REF-2")
    return subject_hash


@pytest.fixture
def client_of(user_with: Callable[..., Any]) -> Callable[..., Client]:
    """A signed-in portal client (English pages) of a new user of ``org`` with ``role``."""

    def build(org: Any, role: str = Role.MEMBER_ADMIN) -> Client:
        return signed_in(user_with(org, role), language="en")

    return build
