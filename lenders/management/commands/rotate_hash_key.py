from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from lenders.actors import Actor
from lenders.selectors import region_by_code
from lenders.services.regions import hash_key_rotate


class Command(JsonCommand):
    help = "Make a new current hash key for a region; older keys stay readable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="region code")

    def run(self, **options: Any) -> dict[str, Any]:
        region = region_by_code(options["region"])
        key = hash_key_rotate(region=region, actor=Actor.system("rotate_hash_key", region))
        return {"region": region.code, "key_id": key.key_id}
