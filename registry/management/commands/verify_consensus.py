from typing import Any

from django.core.management.base import CommandParser

from core.commands import CheckFailed, JsonCommand
from lenders.models import Region
from lenders.selectors import region_by_code
from registry.services.consensus import consensus_verify


class Command(JsonCommand):
    help = "Recompute the consensus from scratch and report every subject whose stored record differs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", help="region code (default: every region)")
        parser.add_argument("--repair", action="store_true", help="store the recomputation where it differs")

    def run(self, **options: Any) -> dict[str, Any]:
        regions = [region_by_code(options["region"])] if options["region"] else list(Region.objects.all())
        checked = different = repaired = 0
        for region in regions:
            result = consensus_verify(region=region, repair=options["repair"])
            checked += result.checked
            different += result.different
            repaired += result.repaired
            for example in result.examples:
                self.stderr.write(f"{region.code}: differs {example}")
        summary = {"checked": checked, "different": different, "repaired": repaired}
        if different and not options["repair"]:
            raise CheckFailed(summary, f"{different} subjects differ from a recomputation; run with --repair")
        return summary
