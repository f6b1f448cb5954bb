"""The registry's answers to lenders changes (registered in ``registry.apps``)."""

from __future__ import annotations

from django.db import transaction

from core.audit import audit_record
from lenders.actors import Actor
from lenders.models import Member, Region
from registry.choices import ConsensusCause
from registry.models import RecomputeJob
from registry.services.consensus import consensus_recompute_member


def recompute_member_subjects(member: Member, actor: Actor) -> None:
    """A member's status, trust weight or exclusion changed: recompute its subjects now, in the
    same transaction, so lookups never see the old weighting after the change commits."""
    consensus_recompute_member(member=member, cause=ConsensusCause.MEMBER)


def start_region_recompute(region: Region, actor: Actor) -> RecomputeJob:
    """A consensus setting changed: recompute the whole region in a background job."""
    from registry.tasks import recompute_region

    job = RecomputeJob.objects.create(region=region, cause=ConsensusCause.POLICY)
    audit_record(actor=actor, action="consensus.recompute_start", obj=job, region_id=region.pk)
    transaction.on_commit(lambda: recompute_region.delay(job.pk))
    return job


def region_policy_changed(region: Region, actor: Actor) -> None:
    start_region_recompute(region, actor)
