from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from lenders.actors import Actor
from lenders.selectors import region_by_code
from lenders.services.members import member_create


class Command(JsonCommand):
    help = "Create a member (a lender firm) in a region."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="region code")
        parser.add_argument("--name", required=True)
        parser.add_argument("--uscc", required=True, help="the firm's unified social credit code")

    def run(self, **options: Any) -> dict[str, Any]:
        region = region_by_code(options["region"])
        member = member_create(
            region=region, name=options["name"], uscc=options["uscc"], actor=Actor.system("create_member", region)
        )
        return {"id": member.pk, "name": member.name, "region": region.code}
