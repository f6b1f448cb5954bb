import logging

from celery import shared_task

from core.audit import audit_verify_chain

logger = logging.getLogger("registry.audit")


@shared_task(name="core.tasks.verify_audit_chain")
def verify_audit_chain() -> dict[str, object]:
    """Periodic check of the audit chain; a broken chain is logged as an error for alerting."""
    report = audit_verify_chain()
    if not report.ok:
        logger.error("audit chain broken at event %s", report.first_broken_id)
    return {"events": report.events, "ok": report.ok, "first_broken_id": report.first_broken_id}
