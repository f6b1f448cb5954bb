"""A demo region with members, staff of every role and API keys, so that ``make run`` shows
the registry working. Idempotent: running it again changes nothing and prints the same
sign-ins. Refused in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from rest_framework_api_key.crypto import KeyGenerator

from core.commands import JsonCommand
from core.errors import Conflict
from lenders.actors import Actor
from lenders.models import ApiKey, Member, Operator, Region, User
from lenders.services.api_keys import api_key_create
from lenders.services.members import member_create
from lenders.services.regions import region_create
from lenders.services.staff import staff_create
from registry.demo import SHOWCASE, load_demo_disputes, load_demo_entries, load_demo_uploads

REGION_CODE = "DEMO"
REGION_NAME = "深圳市小额贷款行业登记处（演示）"
PASSWORD = "demo-password-2026"  # noqa: S105 (the documented demo sign-in)  # nosec B105
MEMBERS = [
    ("深圳前海示范小额贷款有限公司", "91440300MA5DEMO01X"),
    ("南山普惠小额贷款股份有限公司", "91440300MA5DEMO02X"),
    ("福田微众金融服务有限公司", "91440300MA5DEMO03X"),
]
# Demo keys are fixed so that the README's curl examples work as written. Never in production.
DEMO_KEYS = [
    # (member index or None for the operator, name, scopes, role, key)
    (
        0,
        "demo nightly job",
        ["lookup", "upload", "entries", "disputes"],
        None,
        "demolend.qianhai-demo-key-0001-lookup-upload",
    ),
    (1, "demo loan system", ["lookup", "entries"], None, "demonans.nanshan-demo-key-0002-lookup-entries"),
    (None, "demo operator automation", None, "OPERATOR_ADMIN", "demooper.operator-demo-key-0003-admin"),
]


def _uscc(seed: str) -> str:
    from stdnum.cn import uscc

    body = seed[:17].replace("DEMO", "0000")
    return body + uscc.calc_check_digit(body)


class Command(JsonCommand):
    help = "Load the demo region: members, one staff user per role, API keys (idempotent)."

    def run(self, **options: Any) -> dict[str, Any]:
        if settings.PRODUCTION:
            raise Conflict("load_demo is for development and demonstrations; it is refused in production.")
        with transaction.atomic():
            region = self._region()
            members = self._members(region)
            users = self._staff(region.operator, members)
            keys = self._keys(region.operator, members)
            extended = self.extend_demo(region=region, members=members)
        sign_ins = [
            {
                "username": u.username,
                "password": PASSWORD,
                "roles": sorted(u.role_codes),
                "organisation": str(u.member or u.operator),
            }
            for u in users
        ]
        for line in self._summary(sign_ins, keys):
            self.stderr.write(line)
        return {"region": region.code, "password": PASSWORD, "sign_ins": sign_ins, "api_keys": keys, **extended}

    def extend_demo(self, *, region: Region, members: list[Member]) -> dict[str, Any]:
        """Each feature adds its demo data here (entries, uploads, disputes)."""
        return {
            "entries": load_demo_entries(region=region, members=members),
            "uploads": load_demo_uploads(region=region, members=members),
            "disputes": load_demo_disputes(region=region, members=members),
        }

    def _region(self) -> Region:
        region = Region.objects.filter(code=REGION_CODE).first()
        if region is None:
            region = region_create(
                code=REGION_CODE,
                name=REGION_NAME,
                actor=Actor.system("load_demo"),
                operator_name="深圳市地方金融行业协会（演示）",
            )
        return region

    def _members(self, region: Region) -> list[Member]:
        members = []
        for name, seed in MEMBERS:
            uscc = _uscc(seed)
            member = Member.objects.filter(region=region, uscc=uscc).first()
            if member is None:
                member = member_create(region=region, name=name, uscc=uscc, actor=Actor.system("load_demo", region))
            members.append(member)
        return members

    def _staff(self, operator: Operator, members: list[Member]) -> list[User]:
        wanted: list[tuple[Member | Operator, str, list[str]]] = [
            (operator, "operator", ["OPERATOR_ADMIN"]),
            (operator, "regulator", ["REGULATOR"]),
            (members[0], "qh_admin", ["MEMBER_ADMIN"]),
            (members[0], "qh_analyst", ["ANALYST"]),
            (members[0], "qh_uploader", ["UPLOADER"]),
            (members[0], "qh_viewer", ["VIEWER"]),
            (members[1], "ns_admin", ["MEMBER_ADMIN"]),
            (members[2], "ft_admin", ["MEMBER_ADMIN"]),
        ]
        users = []
        for org, username, roles in wanted:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = staff_create(
                    org=org,
                    username=username,
                    password=PASSWORD,
                    roles=roles,
                    actor=Actor.system("load_demo", operator.region),
                )
            users.append(user)
        return users

    def _keys(self, operator: Operator, members: list[Member]) -> list[dict[str, Any]]:
        shown = []
        generator = KeyGenerator()
        for index, name, scopes, role, key in DEMO_KEYS:
            org: Member | Operator = members[index] if index is not None else operator
            prefix = key.split(".", 1)[0]
            if not ApiKey.objects.filter(prefix=prefix).exists():
                api_key, _secret = api_key_create(
                    org=org, name=name, scopes=scopes, role=role, actor=Actor.system("load_demo", operator.region)
                )
                # Replace the random secret by the documented demo one (development only).
                hashed = generator.hash(key)
                ApiKey.objects.filter(pk=api_key.pk).update(id=f"{prefix}.{hashed}", prefix=prefix, hashed_key=hashed)
            shown.append(
                {"organisation": str(org), "name": name, "scopes": scopes or [], "role": role or "", "key": key}
            )
        return shown

    def _summary(self, sign_ins: list[dict[str, Any]], keys: list[dict[str, Any]]) -> list[str]:
        lines = ["", "Demo region loaded. Sign in at /accounts/login/ with password " + PASSWORD + ":"]
        lines += [f"  {s['username']:<12} {', '.join(s['roles']):<16} {s['organisation']}" for s in sign_ins]
        lines += ["API keys (Authorization: Api-Key <key>):"]
        lines += [f"  {k['key']}  {k['organisation']} ({', '.join(k['scopes']) or k['role']})" for k in keys]
        lines += ["Resident ID numbers to look up (the portal hashes them in the browser):"]
        lines += [f"  {raw}  {shows}" for raw, _entries, shows in SHOWCASE]
        return lines
