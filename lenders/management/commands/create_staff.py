from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from lenders.actors import Actor
from lenders.selectors import organisation_by_reference
from lenders.services.staff import staff_create


class Command(JsonCommand):
    help = "Create a staff user of a member or of a region's operator, with roles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="member id, or operator:<region code>")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--roles", required=True, help="comma-separated, for example MEMBER_ADMIN,ANALYST")
        parser.add_argument("--email", default="")

    def run(self, **options: Any) -> dict[str, Any]:
        org = organisation_by_reference(options["org"])
        roles = [role.strip().upper() for role in options["roles"].split(",") if role.strip()]
        user = staff_create(
            org=org,
            username=options["username"],
            password=options["password"],
            roles=roles,
            email=options["email"],
            actor=Actor.system("create_staff", org.region),
        )
        return {"id": user.pk, "username": user.username, "roles": sorted(user.role_codes)}
