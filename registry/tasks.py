"""Celery tasks of the registry: thin, idempotent, taking ids, keeping state in model rows."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from registry.models import RecomputeJob

logger = logging.getLogger("registry.tasks")


@shared_task(name="registry.tasks.recompute_region", acks_late=True)
def recompute_region(job_id: int) -> dict[str, object]:
    from registry.services.consensus import consensus_recompute_region

    job = RecomputeJob.objects.select_related("region").filter(pk=job_id).first()
    if job is None or job.state == RecomputeJob.State.SUCCEEDED:
        return {"job": job_id, "skipped": True}
    try:
        result = consensus_recompute_region(region=job.region, cause=job.cause, job=job)
    except Exception as exc:
        RecomputeJob.objects.filter(pk=job_id).update(
            state=RecomputeJob.State.FAILED, message=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    return {"job": job_id, "subjects": result.subjects, "changed": result.changed, "seconds": result.seconds}


@shared_task(name="registry.tasks.expire_entries", acks_late=True)
def expire_entries() -> dict[str, object]:
    from registry.services.entries import entries_expire

    today = timezone.localdate()
    expired = entries_expire(as_of=today)
    return {"as_of": today.isoformat(), "expired": expired}


@shared_task(name="registry.tasks.purge_data", acks_late=True)
def purge_data() -> dict[str, object]:
    """Delete entries past their grace period and lookup records past retention (nightly)."""
    from registry.services.purge import data_purge

    return data_purge().as_dict()


@shared_task(name="registry.tasks.process_upload", bind=True, acks_late=True, reject_on_worker_lost=True)
def process_upload(self, upload_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Validate and apply one upload (``csv.md``). Idempotent: an upload already over, or being
    worked on by another worker, is left alone; a killed run is redelivered and resumes."""
    from registry.uploads.services import upload_process

    outcome = upload_process(upload_id=upload_id)
    # Run again later when it had to wait or an attempt failed; in eager mode (tests) the
    # upload that it waits for sends it when it ends.
    if outcome.retry_in is not None and not self.request.is_eager:
        process_upload.apply_async((upload_id,), countdown=outcome.retry_in)
    return outcome.as_dict()


@shared_task(name="registry.tasks.watch_uploads", acks_late=True)
def watch_uploads() -> dict[str, int]:
    """Requeue (or fail) uploads whose job stopped, and resend lost ones."""
    from registry.uploads.services import uploads_watchdog

    return uploads_watchdog().as_dict()


@shared_task(name="registry.tasks.enforce_dispute_deadlines", acks_late=True)
def enforce_dispute_deadlines() -> dict[str, object]:
    """Daily: lapse the dispute items past their deadline day and send the reminders."""
    from registry.services.disputes import dispute_deadlines_enforce

    return dispute_deadlines_enforce(as_of=timezone.localdate())


@shared_task(
    name="registry.tasks.send_notification_emails",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def send_notification_emails(notification_ids: list[int]) -> dict[str, int]:
    """E-mail the dispute notifications not sent yet (a mail server that is down is retried)."""
    from registry.services.dispute_notifications import notification_emails_send

    return {"sent": notification_emails_send(notification_ids=notification_ids)}
