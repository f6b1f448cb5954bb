"""A realistic hashed upload file for one member (``commands.md``): the data goes to the file or
to standard output, so the JSON result and the report go to standard error."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from core.commands import JsonCommand
from core.errors import InvalidInput
from lenders.models import Member
from registry.generation import ERROR_KINDS, EntryRowGenerator, WrittenFile, region_hasher, write_csv

# Standard error is not an error here: it carries the report, so it is written uncoloured.
_PLAIN = str
_ERRORS_LISTED = 100


class Command(JsonCommand):
    help = (
        "Write a realistic hashed upload file (csv.md) for a member: valid identity numbers hashed with "
        "the region's current key, a mix of lists, reasons and dates, optional deliberate errors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", type=int, required=True, help="the member's id")
        parser.add_argument("--rows", type=int, required=True, help="data rows to write (errors included)")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--seed", type=int, help="makes the file reproducible (default: a random seed, reported)")
        parser.add_argument(
            "--errors",
            type=int,
            default=0,
            help=f"rows with one deliberate error each, of these kinds in turn: {', '.join(ERROR_KINDS)}",
        )

    def emit(self, result: dict[str, Any]) -> None:
        self.stderr.write(json.dumps(result, ensure_ascii=False), style_func=_PLAIN)

    def run(self, **options: Any) -> dict[str, Any]:
        rows, errors = options["rows"], options["errors"]
        if rows < 1:
            raise InvalidInput("--rows must be at least 1.", details={"rows": [str(rows)]})
        if not 0 <= errors <= rows:
            raise InvalidInput("--errors must be between 0 and --rows.", details={"errors": [str(errors)]})
        member = Member.objects.select_related("region").filter(pk=options["member"]).first()
        if member is None:
            raise InvalidInput(f"No member with id {options['member']}.", details={"member": ["unknown member id"]})
        region = member.region
        seed = options["seed"] if options["seed"] is not None else random.SystemRandom().randrange(2**32)
        generator = EntryRowGenerator(
            hasher=region_hasher(region),
            today=timezone.localdate(),
            seed=seed,
            black_retention_years=region.black_retention_years,
            white_retention_years=region.white_retention_years,
        )
        started = time.monotonic()
        path = options["output"]
        if path:
            try:
                with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
                    written = write_csv(generator.rows(rows, errors=errors), out.write)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.", returncode=1) from None
        else:
            written = write_csv(generator.rows(rows, errors=errors), self._to_stdout)
            self.stdout.flush()
        self._report(written, member, generator.hasher.key_id, seed, path, time.monotonic() - started)
        return {"rows": written.rows, "path": path or None}

    def _to_stdout(self, text: str) -> None:
        self.stdout.write(text, ending="")

    def _report(
        self, written: WrittenFile, member: Member, key_id: str, seed: int, path: str | None, seconds: float
    ) -> None:
        say = self.stderr.write
        where = path or "standard output"
        say(
            f"Wrote {written.rows:,} rows for member {member.pk} ({member.name}, region {member.region.code}) "
            f"to {where} in {seconds:.1f} s.",
            style_func=_PLAIN,
        )
        say(f"key_id: {key_id}", style_func=_PLAIN)
        say(f"seed: {seed}", style_func=_PLAIN)
        if written.errors:
            kinds: dict[str, int] = {}
            for error in written.errors:
                kinds[error.kind] = kinds.get(error.kind, 0) + 1
            summary = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
            say(f"Deliberate errors: {len(written.errors)} ({summary}):", style_func=_PLAIN)
            for error in written.errors[:_ERRORS_LISTED]:
                say(f"  line {error.line}: {error.kind}: {error.description}", style_func=_PLAIN)
            if len(written.errors) > _ERRORS_LISTED:
                say(f"  … and {len(written.errors) - _ERRORS_LISTED} more", style_func=_PLAIN)
