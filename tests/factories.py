"""factory_boy factories that build objects through the real services, so every test object
carries its audit events and hash keys exactly as production ones do."""

from __future__ import annotations

import itertools
from typing import Any

import factory
from stdnum.cn import uscc as uscc_number

from lenders.actors import Actor
from lenders.models import ApiKey, Member, Operator, Region, User
from lenders.services.api_keys import api_key_create
from lenders.services.members import member_create
from lenders.services.regions import region_create
from lenders.services.staff import staff_create

PASSWORD = "Correct-horse-battery-9"
_sequence = itertools.count(1)


def valid_uscc(n: int) -> str:
    """A valid unified social credit code, different for each n."""
    body = f"91440300{n:09d}"
    return body + uscc_number.calc_check_digit(body)


class RegionFactory(factory.Factory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"测试区域 {n}")

    @classmethod
    def _create(cls, model_class: type[Region], **kwargs: Any) -> Region:
        return region_create(code=kwargs["code"], name=kwargs["name"], actor=Actor.system("tests"))


class MemberFactory(factory.Factory):
    class Meta:
        model = Member

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"小额贷款公司 {n}")
    uscc = factory.LazyFunction(lambda: valid_uscc(next(_sequence)))

    @classmethod
    def _create(cls, model_class: type[Member], **kwargs: Any) -> Member:
        return member_create(
            region=kwargs["region"], name=kwargs["name"], uscc=kwargs["uscc"], actor=Actor.system("tests")
        )


def make_user(org: Member | Operator, roles: list[str], username: str | None = None) -> User:
    return staff_create(
        org=org,
        username=username or f"user{next(_sequence)}",
        password=PASSWORD,
        roles=roles,
        actor=Actor.system("tests"),
    )


def make_api_key(
    org: Member | Operator, *, scopes: list[str] | None = None, role: str | None = None, **kwargs: Any
) -> tuple[ApiKey, str]:
    return api_key_create(
        org=org, name=kwargs.pop("name", "test key"), scopes=scopes, role=role, actor=Actor.system("tests"), **kwargs
    )
