"""The operator's view of one subject: its consensus, how it changed, and who looked it up."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from lenders.actors import Actor
from lenders.models import HashKey
from lenders.permissions import Perm
from registry.choices import IdType
from registry.models import ConsensusHistory, ConsensusRecord, Entry, LookupRecord
from registry.services.entry_rules import parse_subject_hash


@dataclass(frozen=True)
class SubjectView:
    id_type: str
    subject_hash: bytes
    hash_key: HashKey
    consensus: ConsensusRecord | None
    history: QuerySet[ConsensusHistory]
    lookups: QuerySet[LookupRecord]
    entries: QuerySet[Entry]


def subject_for_operator(*, actor: Actor, id_type: str, subject_hash: str, key_id: str | None = None) -> SubjectView:
    actor.require(Perm.SUBJECT_HISTORY_READ)
    errors: dict[str, list[str]] = {}
    if id_type not in IdType.values:
        errors["id_type"] = [_("id_type must be RIC, USCC or MOBILE")]
    parsed = parse_subject_hash(subject_hash)
    if parsed is None:
        errors["subject_hash"] = [_("subject_hash must be 64 hexadecimal characters")]
    keys = HashKey.objects.filter(region=actor.region)
    hash_key = keys.filter(key_id=key_id).first() if key_id else keys.filter(is_current=True).first()
    if hash_key is None:
        errors["key_id"] = [_("This region has no hash key %(k)s.") % {"k": key_id}]
    if errors:
        raise InvalidInput(_("The subject could not be read."), details=errors)
    assert parsed is not None and hash_key is not None
    match = {"hash_key": hash_key, "id_type": id_type, "subject_hash": parsed}
    return SubjectView(
        id_type=id_type,
        subject_hash=parsed,
        hash_key=hash_key,
        consensus=ConsensusRecord.objects.filter(**match).first(),
        history=ConsensusHistory.objects.filter(**match).order_by("-changed_at", "-id"),
        lookups=LookupRecord.objects.filter(**match).select_related("member", "user").order_by("-created_at"),
        entries=Entry.objects.filter(**match).select_related("member").order_by("member__name"),
    )
