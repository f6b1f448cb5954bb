"""The operator's reads about its region: hash keys (never their material) and recompute jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from lenders.actors import Actor
from lenders.models import HashKey
from lenders.permissions import Perm
from registry.models import RecomputeJob


def _reads_region(actor: Actor) -> bool:
    return actor.region is not None and (actor.can(Perm.STATISTICS_READ) or actor.can(Perm.REGION_POLICY_WRITE))


def region_hash_keys(actor: Actor) -> QuerySet[HashKey]:
    """The region's hash keys, newest first, without the encrypted key column: a page listing
    keys never loads key material."""
    if not _reads_region(actor):
        return HashKey.objects.none()
    return HashKey.objects.filter(region=actor.region).defer("encrypted_key").order_by("-created_at", "-pk")


def recompute_jobs_visible_to(actor: Actor) -> QuerySet[RecomputeJob]:
    """The region's whole-region recompute jobs, newest first; nobody else's."""
    if not _reads_region(actor):
        return RecomputeJob.objects.none()
    return RecomputeJob.objects.filter(region=actor.region).order_by("-created_at", "-pk")
