from typing import Any

from django.core.management.base import CommandParser

from core.commands import CheckFailed, JsonCommand
from core.errors import NotFound
from lenders.actors import Actor
from lenders.models import Member
from registry.services.disputes import relist_block_lift


class Command(JsonCommand):
    help = "Let a member list a subject as BLACK again before the block made by a dispute runs out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", type=int, required=True, help="the member's id")
        parser.add_argument("--id-type", required=True, help="RIC, USCC or MOBILE")
        parser.add_argument("--subject-hash", required=True, help="64 hexadecimal characters")
        parser.add_argument("--key-id", help="the hash key of the subject hash (default: the current key)")

    def run(self, **options: Any) -> dict[str, Any]:
        member = Member.objects.select_related("region").filter(pk=options["member"]).first()
        if member is None:
            raise NotFound(f"No member {options['member']}.")
        result = relist_block_lift(
            actor=Actor.system("lift_relist_block", region=member.region),
            member_id=member.pk,
            id_type=options["id_type"],
            subject_hash=options["subject_hash"],
            key_id=options["key_id"],
        )
        if not result["lifted"]:
            raise CheckFailed(result, "This member has no relisting block in force on this subject.")
        return result
