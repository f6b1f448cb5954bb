"""Reads of entries, always through ``Entry.objects.of_member``: a member sees only its own."""

from __future__ import annotations

from django.db.models import QuerySet

from lenders.actors import Actor
from lenders.permissions import Perm
from registry.models import Entry


def entries_visible_to(actor: Actor) -> QuerySet[Entry]:
    if actor.member is None or not actor.can(Perm.ENTRY_READ):
        return Entry.objects.none()
    return Entry.objects.of_member(actor.member).select_related("hash_key")
