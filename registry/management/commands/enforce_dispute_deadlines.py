import datetime
from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from core.errors import InvalidInput
from registry.services.disputes import dispute_deadlines_enforce


class Command(JsonCommand):
    help = "Lapse dispute items past their deadline day and send deadline reminders (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today in Asia/Shanghai)")

    def run(self, **options: Any) -> dict[str, Any]:
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError:
                raise InvalidInput("--as-of takes a date YYYY-MM-DD.", details={"as_of": [options["as_of"]]}) from None
        return dispute_deadlines_enforce(as_of=as_of)
