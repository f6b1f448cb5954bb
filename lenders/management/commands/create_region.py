from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from lenders.actors import Actor
from lenders.services.regions import region_create


class Command(JsonCommand):
    help = "Create a region, its operator organisation and its first hash key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True, help="short code, for example SZ")
        parser.add_argument("--name", required=True)

    def run(self, **options: Any) -> dict[str, Any]:
        region = region_create(code=options["code"], name=options["name"], actor=Actor.system("create_region"))
        return {"code": region.code, "name": region.name, "key_id": region.current_hash_key.key_id}
