from typing import Any

from core.audit import audit_verify_chain
from core.commands import CheckFailed, JsonCommand


class Command(JsonCommand):
    help = "Recompute the audit log's hash chain and report the first broken link (exit 1 if any)."

    def run(self, **options: Any) -> dict[str, Any]:
        report = audit_verify_chain()
        result = {"events": report.events, "ok": report.ok, "first_broken_id": report.first_broken_id}
        if not report.ok:
            raise CheckFailed(result, f"the audit chain is broken at event {report.first_broken_id}")
        return result
