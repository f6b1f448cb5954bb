"""The dispute workflow of ``disputes.md``: filing, answers, lapse at the deadline, resolution,
escalation, arbitration, evidence, and the relisting block.

Every step runs in one transaction that changes the dispute and its entries, recomputes the
subject's consensus (cause ``DISPUTE``), writes the audit event and queues the notifications,
so lookups never see a step half done. Dates are days in ``Asia/Shanghai``; the optional
``today``/``as_of`` arguments let the demo and the tests act on another day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import SystemActor, audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from lenders.actors import Actor
from lenders.choices import MemberStatus
from lenders.models import HashKey, Member, Region
from lenders.permissions import Perm
from registry.choices import (
    ArbitrationDecision,
    ConsensusCause,
    DisputeDecision,
    DisputeGrounds,
    DisputeItemState,
    DisputeState,
    EntryState,
    EvidenceParty,
    IdType,
    ListKind,
    NotificationKind,
)
from registry.models import Dispute, DisputeEvidence, DisputeItem, Entry, Notification, RelistBlock
from registry.selectors.disputes import AWAITING_ARBITRATION, disputes_visible_to
from registry.services.consensus import consensus_recompute_subjects
from registry.services.dispute_notifications import filer_of, notify, staff_of
from registry.services.entries import hash_key_for, row_errors_as_details
from registry.services.entry_rules import RowRules, parse_subject_hash
from registry.services.evidence_files import check_evidence_file

STATEMENT_MAX = 4000
NOTE_MAX = 2000
CONSENT_MAX = 64
EVIDENCE_PER_DISPUTE = 20
CORRECTABLE = ("reason", "event_date", "expires_on")


# -- shared pieces --------------------------------------------------------------------------------


def _text(value: Any, *, name: str, limit: int, required: bool = True) -> tuple[str, dict[str, list[str]]]:
    """A free-text field: stripped, within ``limit`` characters, no control characters but line breaks."""
    if value is not None and not isinstance(value, str):
        return "", {name: [_("Must be text.")]}
    text = (value or "").strip()
    if required and not text:
        return "", {name: [_("This field is required.")]}
    if len(text) > limit:
        return "", {name: [_("At most %(n)s characters.") % {"n": limit}]}
    if any(not ch.isprintable() and ch not in "\r\n\t" for ch in text):
        return "", {name: [_("Must not contain control characters.")]}
    return text, {}


def _recompute(dispute: Dispute) -> None:
    consensus_recompute_subjects(
        region=dispute.region,
        subjects=[(dispute.hash_key_id, dispute.id_type, bytes(dispute.subject_hash))],
        cause=ConsensusCause.DISPUTE,
        cause_ref=f"dispute:{dispute.pk}",
    )


def _locked_dispute(actor: Actor, dispute_id: int) -> Dispute:
    """The dispute, locked for this transaction, if the actor may see it (404 otherwise)."""
    visible = disputes_visible_to(actor).filter(pk=dispute_id).values("pk")
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("region", "hash_key", "filer_member", "filer_operator")
        .filter(pk__in=visible)
        .first()
    )
    if dispute is None:
        raise NotFound(_("No such dispute."))
    return dispute


def _open_dispute_conflict(dispute_id: int) -> Conflict:
    return Conflict(
        _("This subject already has an open dispute (#%(id)s); wait for its outcome.") % {"id": dispute_id},
        code="dispute_open",
        details={"dispute_id": dispute_id},
    )


def _active_dispute_on(
    hash_key_id: int, id_type: str, subject_hash: bytes, *, exclude: int | None = None
) -> int | None:
    found = Dispute.objects.filter(
        hash_key_id=hash_key_id,
        id_type=id_type,
        subject_hash=subject_hash,
        state__in=(DisputeState.OPEN, DisputeState.ESCALATED),
    )
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.values_list("pk", flat=True).first()


def _mark_in_dispute(items: Iterable[DisputeItem], value: bool) -> None:
    """``Entry.in_dispute`` drives ``suspend_disputed_entries`` in the consensus: set while the
    dispute is open (and for the escalated items while they await arbitration)."""
    Entry.objects.filter(pk__in=[item.entry_id for item in items]).update(in_dispute=value)


def _remove_entry(item: DisputeItem, *, today: datetime.date) -> None:
    """The outcome went the subject's way: the entry is ``REMOVED`` and its member may not list
    the subject as BLACK again for ``relist_block_days`` (unless the operator lifts the block)."""
    entry = Entry.objects.select_for_update().get(pk=item.entry_id)
    if entry.state in (EntryState.ACTIVE, EntryState.WITHDRAWN):
        entry.state = EntryState.REMOVED
        entry.state_changed_at = timezone.now()
        entry.save(update_fields=["state", "state_changed_at", "updated_at"])
    region = item.dispute.region
    RelistBlock.objects.create(
        member_id=entry.member_id,
        hash_key_id=entry.hash_key_id,
        id_type=entry.id_type,
        subject_hash=bytes(entry.subject_hash),
        until=today + datetime.timedelta(days=region.relist_block_days),
        dispute_item=item,
    )


def _by(actor: Actor) -> dict[str, Any]:
    return {"user": actor.user, "key": actor.api_key.prefix if actor.api_key is not None else ""}


def _resolve_if_done(dispute: Dispute, *, today: datetime.date, actor: Actor | SystemActor) -> bool:
    """Every item answered or lapsed: the dispute is ``RESOLVED`` and the flag clears."""
    items = list(DisputeItem.objects.filter(dispute=dispute))
    if any(item.state == DisputeItemState.OPEN for item in items):
        return False
    dispute.state = DisputeState.RESOLVED
    dispute.resolved_on = today
    dispute.save(update_fields=["state", "resolved_on", "updated_at"])
    _mark_in_dispute(items, False)
    escalable = any(item.state in AWAITING_ARBITRATION for item in items)
    notify(
        recipients=staff_of(filer_of(dispute)),
        kind=NotificationKind.DISPUTE_RESOLVED,
        dispute=dispute,
        params={"escalation_ends_on": dispute.escalation_ends_on.isoformat() if escalable else ""},  # type: ignore[union-attr]
    )
    audit_record(
        actor=actor,
        action="dispute.resolve",
        obj=dispute,
        region_id=dispute.region_id,
        details={"items": {state: sum(1 for i in items if i.state == state) for state in {i.state for i in items}}},
    )
    return True


# -- filing ---------------------------------------------------------------------------------------


def dispute_file(
    *,
    actor: Actor,
    id_type: Any,
    subject_hash: Any,
    key_id: str | None = None,
    grounds: Any,
    statement: Any,
    consent_reference: Any = "",
    today: datetime.date | None = None,
) -> Dispute:
    """File a dispute about the counted BLACK entries of one subject: one item per entry,
    addressed to its member, due ``response_days`` after today. The subject is ``disputed``
    from this moment. A second filing while one is open is refused (409 ``dispute_open``)."""
    if actor.member is not None:
        actor.require(Perm.DISPUTE_WRITE)
    elif actor.is_operator:
        actor.require(Perm.DISPUTE_ARBITRATE)
    else:
        raise Forbidden(_("Only a member or the operator can file a dispute."))
    region = actor.region
    assert region is not None
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if id_type not in IdType.values:
        errors["id_type"] = [_("id_type must be RIC, USCC or MOBILE")]
    parsed = parse_subject_hash(subject_hash) if isinstance(subject_hash, str) else None
    if parsed is None:
        errors["subject_hash"] = [_("subject_hash must be 64 hexadecimal characters")]
    if grounds not in DisputeGrounds.values:
        errors["grounds"] = [_("grounds must be one of %(g)s.") % {"g": ", ".join(DisputeGrounds.values)}]
    statement_text, problems = _text(statement, name="statement", limit=STATEMENT_MAX)
    errors.update(problems)
    consent, problems = _text(consent_reference, name="consent_reference", limit=CONSENT_MAX, required=False)
    errors.update(problems)
    if "\n" in consent:
        errors["consent_reference"] = [_("At most 64 printable characters.")]
    if key_id is not None and not isinstance(key_id, str):
        errors["key_id"] = [_("key_id must be text.")]
    if errors:
        raise InvalidInput(_("The dispute was not filed."), details=errors)
    assert parsed is not None
    hash_key = hash_key_for(region, key_id or None)
    with transaction.atomic():
        open_id = _active_dispute_on(hash_key.pk, str(id_type), parsed)
        if open_id is not None:
            raise _open_dispute_conflict(open_id)
        entries = list(_counted_black_entries(region, hash_key, str(id_type), parsed, today))
        if not entries:
            raise Conflict(
                _("The registry holds no counted BLACK entry on this subject: there is nothing to dispute."),
                code="no_black_entries",
            )
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    region=region,
                    filer_member=actor.member,
                    filer_operator=None if actor.member is not None else region.operator,
                    filed_by=actor.user,
                    filed_by_key=_by(actor)["key"],
                    hash_key=hash_key,
                    id_type=str(id_type),
                    subject_hash=parsed,
                    grounds=str(grounds),
                    statement=statement_text,
                    consent_reference=consent,
                    filed_on=today,
                )
        except IntegrityError:  # a concurrent filing on the same subject committed first
            raise _open_dispute_conflict(_active_dispute_on(hash_key.pk, str(id_type), parsed) or 0) from None
        deadline = today + datetime.timedelta(days=region.response_days)
        items = DisputeItem.objects.bulk_create(
            [DisputeItem(dispute=dispute, entry=e, respondent_id=e.member_id, deadline=deadline) for e in entries]
        )
        _mark_in_dispute(items, True)
        _recompute(dispute)
        for respondent in {e.member for e in entries}:
            notify(
                recipients=staff_of(respondent),
                kind=NotificationKind.DISPUTE_FILED,
                dispute=dispute,
                params={"deadline": deadline.isoformat()},
            )
        audit_record(
            actor=actor,
            action="dispute.file",
            obj=dispute,
            details={
                "grounds": dispute.grounds,
                "items": len(items),
                "deadline": deadline.isoformat(),
                "key_id": hash_key.key_id,
            },
        )
    return dispute


def _counted_black_entries(
    region: Region, hash_key: HashKey, id_type: str, subject_hash: bytes, today: datetime.date
) -> Iterable[Entry]:
    """The subject's BLACK entries that the consensus counts today (``consensus.md``)."""
    members = Q(member__excluded_from_consensus=False)
    if not region.count_suspended_members:
        members &= Q(member__status=MemberStatus.ACTIVE)
    return (
        Entry.objects.select_for_update(of=("self",))
        .select_related("member")
        .filter(
            members,
            hash_key=hash_key,
            id_type=id_type,
            subject_hash=subject_hash,
            list=ListKind.BLACK,
            state=EntryState.ACTIVE,
            ends_on__gt=today,
        )
        .order_by("member_id")
    )


# -- answers --------------------------------------------------------------------------------------


def _corrected_values(
    entry: Entry, corrected: Any, *, today: datetime.date
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The entry's fields after a ``CORRECT``, checked by the same row rules as any entry."""
    if not isinstance(corrected, Mapping) or not corrected:
        return {}, {"corrected": [_("CORRECT needs the corrected fields: reason, event_date and/or expires_on.")]}
    unknown = sorted(set(corrected) - set(CORRECTABLE))
    if unknown:
        return {}, {
            f"corrected.{name}": [_("Only reason, event_date and expires_on can be corrected.")] for name in unknown
        }
    row = {
        "id_type": entry.id_type,
        "subject_hash": entry.subject_hash_hex,
        "list": entry.list,
        "reason": entry.reason,
        "event_date": entry.event_date.isoformat(),
        "expires_on": entry.expires_on.isoformat() if entry.expires_on else "",
        "reference": entry.reference,
    }
    row.update({name: "" if value is None else str(value) for name, value in corrected.items()})
    checked, errors = RowRules(entry.member.region, today).check(row)
    if errors:
        return {}, {f"corrected.{column}": messages for column, messages in row_errors_as_details(errors).items()}
    assert checked is not None
    return {
        "reason": checked.reason,
        "event_date": checked.event_date,
        "expires_on": checked.expires_on,
        "ends_on": checked.ends_on,
    }, {}


def dispute_item_respond(
    *,
    actor: Actor,
    dispute_id: int,
    item_id: int,
    decision: Any,
    note: Any,
    corrected: Any = None,
    today: datetime.date | None = None,
) -> DisputeItem:
    """The respondent's answer to its item, up to and including the deadline day: ``CONFIRM``
    (the entry stays), ``CORRECT`` (the entry is changed and stays) or ``WITHDRAW`` (the entry
    is removed and relisting blocked). The last answer resolves the dispute."""
    actor.require(Perm.DISPUTE_WRITE)
    if actor.member is None:
        raise NotFound(_("No such dispute item."))
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if decision not in DisputeDecision.values:
        errors["decision"] = [_("decision must be one of %(d)s.") % {"d": ", ".join(DisputeDecision.values)}]
    note_text, problems = _text(note, name="note", limit=NOTE_MAX)
    errors.update(problems)
    if decision != DisputeDecision.CORRECT and corrected not in (None, {}):
        errors["corrected"] = [_("Only a CORRECT answer carries corrected fields.")]
    with transaction.atomic():
        dispute = _locked_dispute(actor, dispute_id)
        item = (
            DisputeItem.objects.select_for_update(of=("self",))
            .select_related("entry", "entry__member", "entry__member__region")
            .filter(pk=item_id, dispute=dispute, respondent=actor.member)
            .first()
        )
        if item is None:
            raise NotFound(_("No such dispute item."))
        item.dispute = dispute
        if dispute.state != DisputeState.OPEN or item.state != DisputeItemState.OPEN:
            raise Conflict(
                _("This item was already answered or decided (%(s)s).") % {"s": DisputeItemState(item.state).label},
                code="item_not_open",
            )
        if today > item.deadline:
            raise Conflict(
                _("The deadline for this answer was %(d)s; the item lapses in the subject's favour.")
                % {"d": item.deadline.isoformat()},
                code="deadline_passed",
            )
        new_values: dict[str, Any] = {}
        if decision == DisputeDecision.CORRECT:
            new_values, problems = _corrected_values(item.entry, corrected, today=today)
            errors.update(problems)
        if errors:
            raise InvalidInput(_("The answer was not saved."), details=errors)
        entry = item.entry
        if decision == DisputeDecision.CORRECT:
            changes = {
                name: [_iso(getattr(entry, name)), _iso(new_values[name])]
                for name in CORRECTABLE
                if getattr(entry, name) != new_values[name]
            }
            for name, value in new_values.items():
                setattr(entry, name, value)
            entry.save(update_fields=[*new_values, "updated_at"])
            item.corrected = changes
            item.state = DisputeItemState.CORRECTED
        elif decision == DisputeDecision.WITHDRAW:
            _remove_entry(item, today=today)
            item.state = DisputeItemState.WITHDRAWN
        else:
            item.state = DisputeItemState.CONFIRMED
        by = _by(actor)
        item.decision = str(decision)
        item.note = note_text
        item.answered_at = timezone.now()
        item.answered_by = by["user"]
        item.answered_by_key = by["key"]
        item.save()
        notify(
            recipients=staff_of(filer_of(dispute)),
            kind=NotificationKind.ITEM_ANSWERED,
            dispute=dispute,
            item=item,
            params={"decision": str(decision)},
        )
        resolved = _resolve_if_done(dispute, today=today, actor=actor)
        _recompute(dispute)
        audit_record(
            actor=actor,
            action="dispute.item_respond",
            obj=item,
            region_id=dispute.region_id,
            details={
                "dispute": dispute.pk,
                "decision": item.decision,
                "state": item.state,
                "corrected": item.corrected,
                "resolved": resolved,
            },
        )
    return item


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


# -- escalation and arbitration ---------------------------------------------------------------------


def dispute_escalate(*, actor: Actor, dispute_id: int, reason: Any, today: datetime.date | None = None) -> Dispute:
    """The filer takes a resolved dispute with confirmed or corrected items to the operator,
    within ``escalation_days`` of the resolution; the subject is ``disputed`` again."""
    today = today or timezone.localdate()
    reason_text, problems = _text(reason, name="reason", limit=STATEMENT_MAX)
    with transaction.atomic():
        dispute = _locked_dispute(actor, dispute_id)
        is_filer = (actor.member is not None and dispute.filer_member_id == actor.member.pk) or (
            actor.member is None and dispute.filer_operator_id is not None
        )
        if not is_filer:
            raise Forbidden(_("Only the filer of a dispute can escalate it."))
        actor.require(Perm.DISPUTE_WRITE if actor.member is not None else Perm.DISPUTE_ARBITRATE)
        if problems:
            raise InvalidInput(_("The dispute was not escalated."), details=problems)
        if dispute.state != DisputeState.RESOLVED:
            raise Conflict(
                _("Only a resolved dispute can be escalated; this one is %(s)s.")
                % {"s": DisputeState(dispute.state).label},
                code="dispute_not_resolved",
            )
        items = list(DisputeItem.objects.filter(dispute=dispute, state__in=AWAITING_ARBITRATION))
        if not items:
            raise Conflict(
                _("No entry of this dispute was confirmed or corrected: there is nothing to escalate."),
                code="nothing_to_escalate",
            )
        ends = dispute.escalation_ends_on
        assert ends is not None
        if today > ends:
            raise Conflict(
                _("The escalation window of this dispute ended on %(d)s.") % {"d": ends.isoformat()},
                code="escalation_window_closed",
            )
        other = _active_dispute_on(dispute.hash_key_id, dispute.id_type, bytes(dispute.subject_hash))
        if other is not None:
            raise _open_dispute_conflict(other)
        dispute.state = DisputeState.ESCALATED
        dispute.escalated_on = today
        dispute.escalation_reason = reason_text
        dispute.save(update_fields=["state", "escalated_on", "escalation_reason", "updated_at"])
        _mark_in_dispute(items, True)
        _recompute(dispute)
        notify(
            recipients=staff_of(dispute.region.operator),
            kind=NotificationKind.DISPUTE_ESCALATED,
            dispute=dispute,
            params={"items": len(items)},
        )
        for respondent in Member.objects.filter(pk__in={item.respondent_id for item in items}):
            notify(recipients=staff_of(respondent), kind=NotificationKind.DISPUTE_ESCALATED, dispute=dispute)
        audit_record(actor=actor, action="dispute.escalate", obj=dispute, details={"items": len(items)})
    return dispute


def dispute_arbitrate(*, actor: Actor, dispute_id: int, decisions: Any, today: datetime.date | None = None) -> Dispute:
    """The operator decides items of an escalated dispute, each with a written reason:
    ``UPHOLD`` (the entry stays) or ``REMOVE`` (the entry is removed, relisting blocked).
    When no item is left to decide the dispute is ``ARBITRATED``."""
    actor.require(Perm.DISPUTE_ARBITRATE)
    if actor.member is not None:
        raise Forbidden(_("Only the operator arbitrates disputes."))
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[int, str, str]] = []
    if not isinstance(decisions, list) or not decisions:
        errors["items"] = [_("Give at least one decision: {item_id, decision, reason}.")]
    else:
        for index, raw in enumerate(decisions):
            problems: list[str] = []
            if not isinstance(raw, Mapping):
                errors[f"items.{index}"] = [_("Each decision is an object {item_id, decision, reason}.")]
                continue
            item_id = raw.get("item_id")
            if not isinstance(item_id, int) or isinstance(item_id, bool):
                problems.append(_("item_id must be the id of an item."))
            decision = raw.get("decision")
            if decision not in ArbitrationDecision.values:
                problems.append(_("decision must be UPHOLD or REMOVE."))
            reason, reason_problems = _text(raw.get("reason"), name="reason", limit=NOTE_MAX)
            problems += [f"reason: {message}" for message in reason_problems.get("reason", [])]
            if problems:
                errors[f"items.{index}"] = problems
            else:
                parsed.append((int(item_id), str(decision), reason))  # type: ignore[arg-type]
        ids = [item_id for item_id, _d, _r in parsed]
        if len(ids) != len(set(ids)):
            errors["items"] = [_("Each item may be decided once.")]
    with transaction.atomic():
        dispute = _locked_dispute(actor, dispute_id)
        if dispute.state != DisputeState.ESCALATED:
            raise Conflict(
                _("Only an escalated dispute is arbitrated; this one is %(s)s.")
                % {"s": DisputeState(dispute.state).label},
                code="dispute_not_escalated",
            )
        if errors:
            raise InvalidInput(_("The arbitration was not saved."), details=errors)
        pending = {
            item.pk: item
            for item in DisputeItem.objects.select_for_update().filter(
                dispute=dispute, state__in=AWAITING_ARBITRATION, arbitration_decision=""
            )
        }
        unknown = [item_id for item_id, _d, _r in parsed if item_id not in pending]
        if unknown:
            raise InvalidInput(
                _("The arbitration was not saved."),
                details={
                    "items": [
                        _("Item %(id)s is not awaiting arbitration in this dispute.") % {"id": i} for i in unknown
                    ]
                },
            )
        now = timezone.now()
        decided = []
        for item_id, decision, reason in parsed:
            item = pending.pop(item_id)
            item.dispute = dispute
            if decision == ArbitrationDecision.REMOVE:
                _remove_entry(item, today=today)
                item.state = DisputeItemState.REMOVED
            else:
                item.state = DisputeItemState.UPHELD
            item.arbitration_decision = decision
            item.arbitration_reason = reason
            item.arbitrated_at = now
            item.arbitrated_by = actor.user
            item.save()
            decided.append(item)
        _mark_in_dispute(decided, False)
        finished = not pending
        if finished:
            dispute.state = DisputeState.ARBITRATED
            dispute.arbitrated_on = today
            dispute.save(update_fields=["state", "arbitrated_on", "updated_at"])
            respondents = Member.objects.filter(pk__in=DisputeItem.objects.filter(dispute=dispute).values("respondent"))
            recipients = staff_of(filer_of(dispute)) + [u for m in respondents for u in staff_of(m)]
            notify(recipients=recipients, kind=NotificationKind.DISPUTE_ARBITRATED, dispute=dispute)
        _recompute(dispute)
        audit_record(
            actor=actor,
            action="dispute.arbitrate",
            obj=dispute,
            details={
                "decisions": {str(item.pk): item.arbitration_decision for item in decided},
                "arbitrated": finished,
            },
        )
    return dispute


# -- evidence -------------------------------------------------------------------------------------


def dispute_evidence_add(*, actor: Actor, dispute_id: int, file: UploadedFile | None) -> DisputeEvidence:
    """Attach a PDF, JPEG or PNG file (at most 10 MiB, its type checked by content) to an open
    or escalated dispute, by a party or the operator. Stored under a random name."""
    with transaction.atomic():
        # Whether the dispute exists for this actor is answered first: a stranger learns nothing.
        dispute = _locked_dispute(actor, dispute_id)
        checked = check_evidence_file(file)
        assert file is not None
        if actor.member is None:
            actor.require(Perm.DISPUTE_ARBITRATE)
            party = EvidenceParty.OPERATOR
        else:
            actor.require(Perm.DISPUTE_WRITE)
            party = EvidenceParty.FILER if dispute.filer_member_id == actor.member.pk else EvidenceParty.RESPONDENT
        if dispute.state not in (DisputeState.OPEN, DisputeState.ESCALATED):
            raise Conflict(
                _("Evidence can be added while a dispute is open or escalated; this one is %(s)s.")
                % {"s": DisputeState(dispute.state).label},
                code="dispute_closed",
            )
        if DisputeEvidence.objects.filter(dispute=dispute).count() >= EVIDENCE_PER_DISPUTE:
            raise Conflict(
                _("A dispute holds at most %(n)s evidence files.") % {"n": EVIDENCE_PER_DISPUTE},
                code="too_many_files",
            )
        by = _by(actor)
        evidence = DisputeEvidence(
            dispute=dispute,
            party=party,
            uploaded_by_member=actor.member,
            uploaded_by=by["user"],
            uploaded_by_key=by["key"],
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            original_name=checked.name,
        )
        # The storage writes the file now; if the transaction then fails, delete it again.
        evidence.file.save(checked.name, file, save=False)
        stored = str(evidence.file.name)
        try:
            evidence.save()
            audit_record(
                actor=actor,
                action="dispute.evidence_add",
                obj=evidence,
                region_id=dispute.region_id,
                details={
                    "dispute": dispute.pk,
                    "party": party,
                    "content_type": checked.content_type,
                    "size": checked.size,
                    "sha256": checked.sha256,
                },
            )
        except Exception:
            evidence.file.storage.delete(stored)
            raise
    return evidence


# -- deadlines ------------------------------------------------------------------------------------


def dispute_deadlines_enforce(*, as_of: datetime.date | None = None) -> dict[str, Any]:
    """The daily job: an item still open after its deadline day lapses (its entry is removed in
    the subject's favour), and a reminder goes out ``reminder_days_before`` the deadline.
    Idempotent: running it again on the same day changes nothing more."""
    as_of = as_of or timezone.localdate()
    lapsed = reminded = 0
    for region in Region.objects.all():
        system = SystemActor("enforce_dispute_deadlines", region_id=region.pk)
        overdue = (
            Dispute.objects.filter(
                region=region, state=DisputeState.OPEN, items__state=DisputeItemState.OPEN, items__deadline__lt=as_of
            )
            .values_list("pk", flat=True)
            .distinct()
        )
        for dispute_id in list(overdue):
            lapsed += _lapse_overdue_items(dispute_id, as_of=as_of, system=system)
        due = DisputeItem.objects.filter(
            dispute__region=region,
            dispute__state=DisputeState.OPEN,
            state=DisputeItemState.OPEN,
            reminded_at__isnull=True,
            deadline__gte=as_of,
            deadline__lte=as_of + datetime.timedelta(days=region.reminder_days_before),
        ).values_list("pk", flat=True)
        for item_id in list(due):
            reminded += _remind(item_id, as_of=as_of, system=system)
    return {"as_of": as_of.isoformat(), "lapsed": lapsed, "reminded": reminded}


def _lapse_overdue_items(dispute_id: int, *, as_of: datetime.date, system: SystemActor) -> int:
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(of=("self",))
            .select_related("region", "hash_key", "filer_member", "filer_operator")
            .get(pk=dispute_id)
        )
        if dispute.state != DisputeState.OPEN:
            return 0
        items = list(
            DisputeItem.objects.select_for_update(of=("self",))
            .select_related("respondent")
            .filter(dispute=dispute, state=DisputeItemState.OPEN, deadline__lt=as_of)
        )
        for item in items:
            item.dispute = dispute
            _remove_entry(item, today=as_of)
            item.state = DisputeItemState.LAPSED
            item.save(update_fields=["state", "updated_at"])
            params = {"deadline": item.deadline.isoformat()}
            notify(
                recipients=staff_of(filer_of(dispute)),
                kind=NotificationKind.ITEM_LAPSED,
                dispute=dispute,
                item=item,
                params=params,
            )
            notify(
                recipients=staff_of(item.respondent),
                kind=NotificationKind.ITEM_LAPSED,
                dispute=dispute,
                item=item,
                params=params,
            )
        if not items:
            return 0
        resolved = _resolve_if_done(dispute, today=as_of, actor=system)
        _recompute(dispute)
        audit_record(
            actor=system,
            action="dispute.items_lapse",
            obj=dispute,
            details={"items": [item.pk for item in items], "as_of": as_of, "resolved": resolved},
        )
    return len(items)


def _remind(item_id: int, *, as_of: datetime.date, system: SystemActor) -> int:
    with transaction.atomic():
        item = (
            DisputeItem.objects.select_for_update(of=("self",))
            .select_related("dispute", "respondent")
            .filter(pk=item_id, state=DisputeItemState.OPEN, reminded_at__isnull=True)
            .first()
        )
        if item is None:
            return 0
        item.reminded_at = timezone.now()
        item.save(update_fields=["reminded_at", "updated_at"])
        notify(
            recipients=staff_of(item.respondent),
            kind=NotificationKind.DEADLINE_REMINDER,
            dispute=item.dispute,
            item=item,
            params={"deadline": item.deadline.isoformat(), "days_left": item.days_left(as_of)},
        )
        audit_record(
            actor=system,
            action="dispute.item_remind",
            obj=item,
            details={"dispute": item.dispute_id, "deadline": item.deadline, "as_of": as_of},
        )
    return 1


# -- the relisting block and the inbox ----------------------------------------------------------------


def relist_block_lift(
    *, actor: Actor, member_id: int, id_type: Any, subject_hash: Any, key_id: str | None = None
) -> dict[str, Any]:
    """The operator lets a member list a subject as BLACK again before its block runs out."""
    actor.require(Perm.RELIST_BLOCK_LIFT)
    region = actor.region
    errors: dict[str, list[str]] = {}
    if id_type not in IdType.values:
        errors["id_type"] = [_("id_type must be RIC, USCC or MOBILE")]
    parsed = parse_subject_hash(subject_hash) if isinstance(subject_hash, str) else None
    if parsed is None:
        errors["subject_hash"] = [_("subject_hash must be 64 hexadecimal characters")]
    if errors or parsed is None:
        raise InvalidInput(_("No block was lifted."), details=errors)
    members = Member.objects.filter(pk=member_id)
    if region is not None:
        members = members.filter(region=region)
    member = members.select_related("region").first()
    if member is None:
        raise NotFound(_("No such member."))
    hash_key = hash_key_for(member.region, key_id)
    with transaction.atomic():
        blocks = RelistBlock.objects.select_for_update().filter(
            member=member,
            hash_key=hash_key,
            id_type=id_type,
            subject_hash=parsed,
            lifted_at__isnull=True,
            until__gt=timezone.localdate(),
        )
        ids = list(blocks.values_list("pk", flat=True))
        if ids:
            RelistBlock.objects.filter(pk__in=ids).update(lifted_at=timezone.now(), lifted_by=actor.user)
            audit_record(
                actor=actor,
                action="relist_block.lift",
                object_type="registry.relistblock",
                object_id=",".join(str(i) for i in ids),
                region_id=member.region_id,
                details={"member": member.pk, "id_type": id_type, "subject": parsed.hex()[:12], "blocks": len(ids)},
            )
    return {"member": member.pk, "id_type": id_type, "subject_hash": parsed.hex(), "lifted": len(ids)}


def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one message of the actor's own inbox read. Not an audit event: it changes only what
    one person has seen, no registry data."""
    if actor.user is None:
        raise NotFound(_("No such notification."))
    notification = Notification.objects.filter(pk=notification_id, recipient=actor.user).first()
    if notification is None:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
