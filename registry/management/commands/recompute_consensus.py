from typing import Any

from django.core.management.base import CommandParser

from core.commands import JsonCommand
from lenders.selectors import region_by_code
from registry.choices import ConsensusCause
from registry.models import RecomputeJob
from registry.services.consensus import consensus_recompute_region


class Command(JsonCommand):
    help = "Recompute a whole region's consensus in the foreground (the job a policy change starts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="region code")

    def run(self, **options: Any) -> dict[str, Any]:
        region = region_by_code(options["region"])
        job = RecomputeJob.objects.create(region=region, cause=ConsensusCause.REPAIR)
        result = consensus_recompute_region(region=region, cause=ConsensusCause.REPAIR, job=job)
        return {
            "region": region.code,
            "subjects": result.subjects,
            "changed": result.changed,
            "seconds": result.seconds,
        }
