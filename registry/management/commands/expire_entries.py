import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from core.commands import JsonCommand
from core.errors import InvalidInput
from registry.services.entries import entries_expire


class Command(JsonCommand):
    help = "Expire entries whose retention or expiry date has come and recompute their subjects."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today in Asia/Shanghai)")

    def run(self, **options: Any) -> dict[str, Any]:
        as_of = timezone.localdate()
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError:
                raise InvalidInput("--as-of takes a date YYYY-MM-DD.", details={"as_of": [options["as_of"]]}) from None
        return {"as_of": as_of.isoformat(), "expired": entries_expire(as_of=as_of)}
