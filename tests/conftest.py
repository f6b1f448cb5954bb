from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from lenders.models import Member, Operator, Region, User
from tests.factories import PASSWORD, MemberFactory, RegionFactory, make_api_key, make_user


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and lock-outs live in the cache; each test starts from zero."""
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    """Uploaded files of a test go to its own temporary folder, never to var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def region(db: None) -> Region:
    return RegionFactory()  # type: ignore[return-value]


@pytest.fixture
def operator(region: Region) -> Operator:
    return region.operator


@pytest.fixture
def member(region: Region) -> Member:
    return MemberFactory(region=region)  # type: ignore[return-value]


@pytest.fixture
def other_member(region: Region) -> Member:
    return MemberFactory(region=region)  # type: ignore[return-value]


@pytest.fixture
def user_with(db: None) -> Callable[..., User]:
    def build(org: Member | Operator, *roles: str) -> User:
        return make_user(org, list(roles))

    return build


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """An API client authenticated with a new key of ``org`` (scopes for members, role for operators)."""

    def build(org: Member | Operator, *, scopes: list[str] | None = None, role: str | None = None) -> APIClient:
        _key, secret = make_api_key(org, scopes=scopes, role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        return client

    return build


@pytest.fixture
def session_client() -> Callable[[User], APIClient]:
    """An API client signed in through the portal's session (CSRF enforced like a browser)."""

    def build(user: User) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return build


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://… (make test does both passes in CI)")


__all__ = ["PASSWORD"]
