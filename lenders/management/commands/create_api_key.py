import datetime
from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.selectors import organisation_by_reference
from lenders.services.api_keys import api_key_create


class Command(JsonCommand):
    help = "Create an API key; the key is printed this once and stored only hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="member id, or operator:<region code>")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--scopes", help="member keys: comma-separated lookup,upload,entries,disputes")
        group.add_argument("--role", help="operator keys: OPERATOR_ADMIN or REGULATOR")
        parser.add_argument("--name", required=True)
        parser.add_argument("--expires", help="YYYY-MM-DD, the last day the key works")

    def run(self, **options: Any) -> dict[str, Any]:
        org = organisation_by_reference(options["org"])
        expires = None
        if options["expires"]:
            try:
                expires = datetime.date.fromisoformat(options["expires"])
            except ValueError:
                raise InvalidInput(
                    "--expires takes a date YYYY-MM-DD.", details={"expires": [options["expires"]]}
                ) from None
        scopes = [s.strip().lower() for s in options["scopes"].split(",") if s.strip()] if options["scopes"] else None
        api_key, secret = api_key_create(
            org=org,
            name=options["name"],
            scopes=scopes,
            role=(options["role"] or "").upper() or None,
            expires_on=expires,
            actor=Actor.system("create_api_key", org.region),
        )
        return {"id": api_key.prefix, "prefix": api_key.prefix, "key": secret}
