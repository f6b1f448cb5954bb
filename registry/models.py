from __future__ import annotations

import datetime
import uuid

from django.db import models
from django.db.models import Q

from lenders.models import HashKey, Member, Operator, Region, User
from registry.choices import (
    BLACK_REASONS,
    DISPUTE_ACTIVE_STATES,
    UPLOAD_RESENDABLE_STATES,
    WHITE_REASONS,
    ArbitrationDecision,
    ConsensusCause,
    ConsensusStatus,
    DisputeDecision,
    DisputeGrounds,
    DisputeItemState,
    DisputeState,
    EntryState,
    ErrorPolicy,
    EvidenceParty,
    IdType,
    ListKind,
    LookupPurpose,
    NotificationKind,
    UploadMode,
    UploadState,
)


class EntryQuerySet(models.QuerySet["Entry"]):
    def of_member(self, member: Member) -> EntryQuerySet:
        """The one way a member's view of entries is built: its own, never another's."""
        return self.filter(member=member)


class Entry(models.Model):
    """One member's statement about one subject: a BLACK or WHITE listing with a reason, an
    event date, an optional expiry and a private reference. One per member and subject
    (within one hash key); a new statement replaces the old one."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    list = models.CharField(max_length=5, choices=ListKind.choices)
    reason = models.CharField(max_length=20)
    event_date = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    # The first day the entry no longer counts: the earlier of retention and expires_on.
    ends_on = models.DateField()
    reference = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=9, choices=EntryState.choices, default=EntryState.ACTIVE)
    # Set while a dispute on the subject covers this entry (used by suspend_disputed_entries).
    in_dispute = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(
                fields=["member", "hash_key", "id_type", "subject_hash"], name="entry_one_per_member_and_subject"
            ),
            models.CheckConstraint(condition=Q(id_type__in=IdType.values), name="entry_id_type_valid"),
            models.CheckConstraint(condition=Q(state__in=EntryState.values), name="entry_state_valid"),
            models.CheckConstraint(
                condition=Q(list=ListKind.BLACK, reason__in=sorted(BLACK_REASONS))
                | Q(list=ListKind.WHITE, reason__in=sorted(WHITE_REASONS)),
                name="entry_reason_fits_list",
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("event_date")), name="entry_ends_after_event"),
        ]
        indexes = [
            models.Index(fields=["hash_key", "id_type", "subject_hash"], name="entry_subject_idx"),
            models.Index(fields=["member", "state", "list"], name="entry_member_state_idx"),
            models.Index(fields=["state", "ends_on"], name="entry_state_ends_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.id_type}:{bytes(self.subject_hash).hex()[:12]} {self.list}"

    @property
    def subject_hash_hex(self) -> str:
        return bytes(self.subject_hash).hex()


class ConsensusRecord(models.Model):
    """The region's merged view of one subject (``consensus.md``), recomputed in the same
    transaction as every change to the subject's entries. It never names a member."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    status = models.CharField(max_length=5, choices=ConsensusStatus.choices)
    black_score = models.PositiveSmallIntegerField(default=0)
    black_members = models.PositiveIntegerField(default=0)
    white_members = models.PositiveIntegerField(default=0)
    # Members counted per reason code (consensus.md, "reasons").
    n_fraud = models.PositiveIntegerField(default=0)
    n_court_enforced = models.PositiveIntegerField(default=0)
    n_write_off = models.PositiveIntegerField(default=0)
    n_severe_overdue = models.PositiveIntegerField(default=0)
    n_other_black = models.PositiveIntegerField(default=0)
    n_good_repayment = models.PositiveIntegerField(default=0)
    n_long_term_client = models.PositiveIntegerField(default=0)
    n_verified_business = models.PositiveIntegerField(default=0)
    latest_black_event_date = models.DateField(null=True, blank=True)
    conflict = models.BooleanField(default=False)
    disputed = models.BooleanField(default=False)
    # The first day on which a counted entry stops counting: from then on this record is stale
    # until recomputed, and lookups recompute it first.
    valid_until = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hash_key", "id_type", "subject_hash"], name="consensus_one_per_subject"),
            models.CheckConstraint(condition=Q(status__in=ConsensusStatus.values), name="consensus_status_valid"),
            models.CheckConstraint(condition=Q(black_score__lte=100), name="consensus_score_0_100"),
        ]
        indexes = [models.Index(fields=["region", "status"], name="consensus_region_status_idx")]

    def __str__(self) -> str:
        return f"{self.id_type}:{bytes(self.subject_hash).hex()[:12]} {self.status}"


class ConsensusHistory(models.Model):
    """One change of a subject's status or score, with its cause."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    changed_at = models.DateTimeField()
    cause = models.CharField(max_length=10, choices=ConsensusCause.choices)
    cause_ref = models.CharField(max_length=64, blank=True, default="")
    old_status = models.CharField(max_length=5, blank=True, default="")
    new_status = models.CharField(max_length=5)
    old_score = models.PositiveSmallIntegerField(null=True, blank=True)
    new_score = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name_plural = "consensus history"
        indexes = [
            models.Index(fields=["hash_key", "id_type", "subject_hash", "changed_at"], name="history_subject_idx")
        ]

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d} {self.old_status}->{self.new_status} ({self.cause})"


class LookupRecord(models.Model):
    """Who looked which subject up, when, why and with what result (one per subject, batch
    lookups included): the subject's right to know who asked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    # The composite indexes below lead with region, member and hash_key; single-column
    # indexes on them would only slow down the bulk insert of a batch's records.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_key_prefix = models.CharField(max_length=8, blank=True, default="")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+", db_index=False)
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    purpose = models.CharField(max_length=13, choices=LookupPurpose.choices)
    consent_reference = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=5, choices=ConsensusStatus.choices)
    black_score = models.PositiveSmallIntegerField()
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["hash_key", "id_type", "subject_hash", "created_at"], name="lookup_subject_idx"),
            models.Index(fields=["member", "created_at"], name="lookup_member_idx"),
            models.Index(fields=["region", "created_at"], name="lookup_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.member_id} {self.purpose}"


class RelistBlock(models.Model):
    """After a dispute removed a member's BLACK entry, the member may not list the subject as
    BLACK again until ``until`` (exclusive), unless the operator lifts the block."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    until = models.DateField()
    # The dispute item whose outcome removed the entry (null for blocks made by hand).
    dispute_item = models.ForeignKey(
        "DisputeItem", null=True, blank=True, on_delete=models.PROTECT, related_name="relist_blocks"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["member", "hash_key", "id_type", "subject_hash"], name="relist_subject_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} until {self.until}"


class RecomputeJob(models.Model):
    """A whole-region consensus recompute (after a policy change, or by hand), with progress."""

    class State(models.TextChoices):
        QUEUED = "QUEUED"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    cause = models.CharField(max_length=10, choices=ConsensusCause.choices, default=ConsensusCause.POLICY)
    state = models.CharField(max_length=9, choices=State.choices, default=State.QUEUED)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    subjects = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recompute {self.region_id} {self.state} {self.chunks_done}/{self.chunks_total}"

    @property
    def progress(self) -> float:
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


class UploadQuerySet(models.QuerySet["Upload"]):
    def of_member(self, member: Member) -> UploadQuerySet:
        """The one way a member's view of uploads is built: its own, never another's."""
        return self.filter(member=member)


class Upload(models.Model):
    """One CSV file sent by a member and the job that validates and applies it (``csv.md``).

    The row is the job's state (not the Celery result backend): where it is in
    ``RECEIVED → QUEUED → VALIDATING → APPLYING → SUCCEEDED`` (or ``REJECTED``,
    ``NEEDS_CONFIRMATION``, ``CANCELLED``, ``FAILED``), its progress and counts, the timings of
    each phase and a heartbeat by which a stuck job is found. The file itself lives in the
    default storage under a random name until the upload is over."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="uploads")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=8, choices=UploadMode.choices, default=UploadMode.DELTA)
    error_policy = models.CharField(max_length=17, choices=ErrorPolicy.choices, default=ErrorPolicy.REJECT_FILE)
    # The encoding the sender named (blank: detect it) and the one the job found or used.
    encoding = models.CharField(max_length=16, blank=True, default="")
    detected_encoding = models.CharField(max_length=16, blank=True, default="")
    gzipped = models.BooleanField(default=False)
    # The sender's file name without any path, for display only; never used to store the file.
    file_name = models.CharField(max_length=200, blank=True, default="")
    # Where the default storage keeps the file (a random name); blank once the upload is over.
    file_path = models.CharField(max_length=300, blank=True, default="")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    sent_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sent_by_key = models.CharField(max_length=8, blank=True, default="")
    state = models.CharField(max_length=18, choices=UploadState.choices, default=UploadState.RECEIVED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_processed = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    # A snapshot stopped by the guard: how many of how many active entries it would withdraw.
    snapshot_withdrawals = models.PositiveIntegerField(null=True, blank=True)
    snapshot_active = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    validating_at = models.DateTimeField(null=True, blank=True)
    applying_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_by_key = models.CharField(max_length=8, blank=True, default="")

    objects = UploadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=UploadState.values), name="upload_state_valid"),
            models.CheckConstraint(condition=Q(mode__in=UploadMode.values), name="upload_mode_valid"),
            models.CheckConstraint(condition=Q(error_policy__in=ErrorPolicy.values), name="upload_error_policy_valid"),
            # csv.md, Idempotent: the same content with the same options is applied once, unless
            # that upload ended without applying anything.
            models.UniqueConstraint(
                fields=["member", "sha256", "mode", "error_policy", "hash_key"],
                condition=~Q(state__in=sorted(UPLOAD_RESENDABLE_STATES)),
                name="upload_same_content_once",
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="upload_idempotency_key_once",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "state"], name="upload_member_state_idx"),
            models.Index(fields=["state", "heartbeat_at"], name="upload_state_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return f"upload {self.pk} of {self.member_id} {self.state}"


class UploadError(models.Model):
    """One problem of an upload's file: a refused file as a whole (``line`` names where it was
    found, or nothing) or one invalid row, with the column, a stable code and a message."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveIntegerField(null=True, blank=True)
    # "column" is a reserved word in SQL; the set-based checks write this table directly.
    column = models.CharField(max_length=64, blank=True, default="", db_column="column_name")
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    # The offending value as sent (shortened), so that the sender can find it; never for
    # subject_hash, where a mistaken raw identity number would otherwise be kept.
    value = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["upload", "line"], name="uploaderror_upload_line_idx")]

    def __str__(self) -> str:
        return f"line {self.line} {self.column} {self.code}"


# -- disputes (disputes.md) ---------------------------------------------------------------------


class Dispute(models.Model):
    """A challenge, filed by a member or the operator for a subject, to the counted BLACK
    entries of that subject (``disputes.md``). Filing fans out to one ``DisputeItem`` per such
    entry; the filer never learns who the respondents are. At most one dispute per subject is
    ``OPEN`` or ``ESCALATED`` at a time, and while one is the subject's consensus is
    ``disputed``."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    # Exactly one of the two: the member that filed, or the region's operator.
    filer_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes_filed"
    )
    filer_operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    filed_by_key = models.CharField(max_length=8, blank=True, default="")
    hash_key = models.ForeignKey(HashKey, on_delete=models.PROTECT, related_name="+")
    id_type = models.CharField(max_length=6, choices=IdType.choices)
    subject_hash = models.BinaryField(max_length=32)
    grounds = models.CharField(max_length=13, choices=DisputeGrounds.choices)
    statement = models.TextField()
    consent_reference = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN)
    # Dates are days in Asia/Shanghai: the deadlines and the escalation window count them.
    filed_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    escalation_reason = models.TextField(blank=True, default="")
    escalated_on = models.DateField(null=True, blank=True)
    arbitrated_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hash_key", "id_type", "subject_hash"],
                condition=Q(state__in=sorted(DISPUTE_ACTIVE_STATES)),
                name="dispute_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(filer_member__isnull=False, filer_operator__isnull=True)
                | Q(filer_member__isnull=True, filer_operator__isnull=False),
                name="dispute_one_filer",
            ),
            models.CheckConstraint(condition=Q(state__in=DisputeState.values), name="dispute_state_valid"),
            models.CheckConstraint(condition=Q(grounds__in=DisputeGrounds.values), name="dispute_grounds_valid"),
            models.CheckConstraint(condition=Q(id_type__in=IdType.values), name="dispute_id_type_valid"),
        ]
        indexes = [
            models.Index(fields=["hash_key", "id_type", "subject_hash"], name="dispute_subject_idx"),
            models.Index(fields=["region", "state"], name="dispute_region_state_idx"),
            models.Index(fields=["filer_member", "state"], name="dispute_filer_state_idx"),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} {self.id_type}:{bytes(self.subject_hash).hex()[:12]} {self.state}"

    @property
    def subject_hash_hex(self) -> str:
        return bytes(self.subject_hash).hex()

    @property
    def escalation_ends_on(self) -> datetime.date | None:
        """The last day the filer may escalate (``escalation_days`` after the resolution)."""
        if self.resolved_on is None:
            return None
        return self.resolved_on + datetime.timedelta(days=self.region.escalation_days)


class DisputeItem(models.Model):
    """One counted BLACK entry under a dispute, addressed to the entry's member (the
    respondent), who answers it by its ``deadline`` day; unanswered, it lapses in the subject's
    favour. An escalated item is then decided by the operator."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="items")
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="dispute_items")
    respondent = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dispute_items")
    state = models.CharField(max_length=9, choices=DisputeItemState.choices, default=DisputeItemState.OPEN)
    # The last day (Asia/Shanghai) on which the respondent may answer.
    deadline = models.DateField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=8, choices=DisputeDecision.choices, blank=True, default="")
    note = models.TextField(blank=True, default="")
    # CORRECT: the entry's fields before and after, {"reason": [old, new], ...}.
    corrected = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_by_key = models.CharField(max_length=8, blank=True, default="")
    arbitration_decision = models.CharField(max_length=6, choices=ArbitrationDecision.choices, blank=True, default="")
    arbitration_reason = models.TextField(blank=True, default="")
    arbitrated_at = models.DateTimeField(null=True, blank=True)
    arbitrated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dispute", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "entry"], name="disputeitem_one_per_entry"),
            models.CheckConstraint(condition=Q(state__in=DisputeItemState.values), name="disputeitem_state_valid"),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=DisputeDecision.values), name="disputeitem_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(arbitration_decision="") | Q(arbitration_decision__in=ArbitrationDecision.values),
                name="disputeitem_arbitration_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["respondent", "state", "deadline"], name="disputeitem_inbox_idx"),
            models.Index(fields=["state", "deadline"], name="disputeitem_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} of dispute {self.dispute_id} {self.state}"

    def days_left(self, today: datetime.date | None = None) -> int:
        """Days until the deadline day (0 on the day itself, negative once it has passed)."""
        from django.utils import timezone

        return (self.deadline - (today or timezone.localdate())).days


def _evidence_path(instance: DisputeEvidence, filename: str) -> str:
    # Never the sender's name: a random one, so that no URL or path can be guessed.
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(instance.content_type, "bin")
    return f"disputes/evidence/{uuid.uuid4().hex}{uuid.uuid4().hex}.{extension}"


class DisputeEvidence(models.Model):
    """A file supporting a dispute (PDF, JPEG or PNG, at most 10 MiB, its type found from its
    content). Stored under a random name and served only to the parties and the operator,
    through a view that checks who asks; never from a public media URL."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence")
    party = models.CharField(max_length=10, choices=EvidenceParty.choices)
    uploaded_by_member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by_key = models.CharField(max_length=8, blank=True, default="")
    file = models.FileField(upload_to=_evidence_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # The sender's file name without any path, cleaned, for display only.
    original_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "dispute evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["application/pdf", "image/jpeg", "image/png"]),
                name="evidence_type_allowed",
            ),
            models.CheckConstraint(condition=Q(party__in=EvidenceParty.values), name="evidence_party_valid"),
        ]

    def __str__(self) -> str:
        return f"evidence {self.pk} of dispute {self.dispute_id}"


class Notification(models.Model):
    """One message of a person's portal inbox about a dispute (also sent by e-mail). The text
    is composed when shown, from ``kind`` and ``params``, in the reader's language."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="notifications")
    item = models.ForeignKey(DisputeItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    @property
    def text(self) -> str:
        from registry.services.dispute_notifications import notification_text

        return notification_text(self)
