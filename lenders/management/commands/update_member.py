import argparse
from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.api.serializers import MemberOut
from lenders.models import Member
from lenders.services.members import member_update


def _bool(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError("use true or false")


class Command(JsonCommand):
    help = "Change a member's trust weight, status or exclusion from the consensus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, type=int, help="member id")
        parser.add_argument("--trust-weight", help="0.0 to 1.0")
        parser.add_argument("--status", choices=["ACTIVE", "SUSPENDED"])
        parser.add_argument("--excluded-from-consensus", type=_bool, help="true or false")

    def run(self, **options: Any) -> dict[str, Any]:
        member = Member.objects.select_related("region").filter(pk=options["member"]).first()
        if member is None:
            raise InvalidInput(f"No member with id {options['member']}.", details={"member": ["unknown member id"]})
        member = member_update(
            member=member,
            actor=Actor.system("update_member", member.region),
            trust_weight=options["trust_weight"],
            status=options["status"],
            excluded_from_consensus=options["excluded_from_consensus"],
        )
        return dict(MemberOut(member).data)
