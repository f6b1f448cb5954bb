from django.db import models
from django.utils.translation import gettext_lazy as _

from lenders.choices import BlackReason, WhiteReason

__all__ = [
    "BLACK_REASONS",
    "DISPUTE_ACTIVE_STATES",
    "WHITE_REASONS",
    "ArbitrationDecision",
    "BlackReason",
    "ConsensusCause",
    "ConsensusStatus",
    "DisputeDecision",
    "DisputeGrounds",
    "DisputeItemState",
    "DisputeState",
    "EntryState",
    "ErrorPolicy",
    "EvidenceParty",
    "IdType",
    "ListKind",
    "LookupPurpose",
    "NotificationKind",
    "UploadMode",
    "UploadState",
    "WhiteReason",
]


class IdType(models.TextChoices):
    RIC = "RIC", _("Resident ID")
    USCC = "USCC", _("Unified social credit code")
    MOBILE = "MOBILE", _("Mobile number")


class ListKind(models.TextChoices):
    BLACK = "BLACK", _("Black list")
    WHITE = "WHITE", _("White list")


class EntryState(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")
    EXPIRED = "EXPIRED", _("Expired")
    REMOVED = "REMOVED", _("Removed by a dispute")


class ConsensusStatus(models.TextChoices):
    BLACK = "BLACK", _("Black")
    WATCH = "WATCH", _("Watch")
    WHITE = "WHITE", _("White")
    CLEAR = "CLEAR", _("Clear")


class ConsensusCause(models.TextChoices):
    ENTRY_EDIT = "ENTRY_EDIT", _("Entry edit")
    UPLOAD = "UPLOAD", _("Upload")
    DISPUTE = "DISPUTE", _("Dispute outcome")
    EXPIRY = "EXPIRY", _("Expiry")
    POLICY = "POLICY", _("Policy change")
    MEMBER = "MEMBER", _("Member change")
    REPAIR = "REPAIR", _("Repair")


class LookupPurpose(models.TextChoices):
    UNDERWRITING = "UNDERWRITING", _("Underwriting (贷前审查)")
    POST_LOAN = "POST_LOAN", _("Post-loan management (贷后管理)")
    DISPUTE_CHECK = "DISPUTE_CHECK", _("Dispute check")


class UploadState(models.TextChoices):
    RECEIVED = "RECEIVED", _("Received")
    QUEUED = "QUEUED", _("Queued")
    VALIDATING = "VALIDATING", _("Validating")
    APPLYING = "APPLYING", _("Applying")
    SUCCEEDED = "SUCCEEDED", _("Succeeded")
    REJECTED = "REJECTED", _("Rejected")
    NEEDS_CONFIRMATION = "NEEDS_CONFIRMATION", _("Needs confirmation")
    CANCELLED = "CANCELLED", _("Cancelled")
    FAILED = "FAILED", _("Failed")


class UploadMode(models.TextChoices):
    DELTA = "delta", _("Delta: create, update or withdraw the rows of the file")
    SNAPSHOT = "snapshot", _("Snapshot: the file is the complete current list")


class ErrorPolicy(models.TextChoices):
    REJECT_FILE = "reject_file", _("Refuse the whole file if any row is invalid")
    SKIP_INVALID_ROWS = "skip_invalid_rows", _("Apply the valid rows, report the invalid ones")


# An upload in one of these states is over: nothing will change it any more.
UPLOAD_TERMINAL_STATES = frozenset(
    {UploadState.SUCCEEDED, UploadState.REJECTED, UploadState.CANCELLED, UploadState.FAILED}
)
# Sending the same content again after one of these makes a new upload (csv.md, Idempotent).
UPLOAD_RESENDABLE_STATES = frozenset({UploadState.REJECTED, UploadState.CANCELLED, UploadState.FAILED})

BLACK_REASONS = frozenset(BlackReason.values)
WHITE_REASONS = frozenset(WhiteReason.values)
REASONS_BY_LIST = {ListKind.BLACK.value: BLACK_REASONS, ListKind.WHITE.value: WHITE_REASONS}
# The order of the reason-count columns of a consensus record.
REASON_COLUMNS = {code: f"n_{code.lower()}" for code in (*BlackReason.values, *WhiteReason.values)}


class DisputeGrounds(models.TextChoices):
    NOT_ME = "NOT_ME", _("Not me: identity misuse")
    REPAID = "REPAID", _("Repaid")
    WRONG_DETAILS = "WRONG_DETAILS", _("Wrong details")
    EXPIRED = "EXPIRED", _("Past retention")
    OTHER = "OTHER", _("Other")


class DisputeState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    RESOLVED = "RESOLVED", _("Resolved")
    ESCALATED = "ESCALATED", _("Escalated")
    ARBITRATED = "ARBITRATED", _("Arbitrated")


# A dispute in one of these states flags its subject ``disputed`` and blocks a second filing.
DISPUTE_ACTIVE_STATES = frozenset({DisputeState.OPEN, DisputeState.ESCALATED})


class DisputeItemState(models.TextChoices):
    OPEN = "OPEN", _("Awaiting an answer")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CORRECTED = "CORRECTED", _("Corrected")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")
    LAPSED = "LAPSED", _("Lapsed")
    UPHELD = "UPHELD", _("Upheld by arbitration")
    REMOVED = "REMOVED", _("Removed by arbitration")


class DisputeDecision(models.TextChoices):
    """A respondent's answer to its item."""

    CONFIRM = "CONFIRM", _("Confirm the entry")
    CORRECT = "CORRECT", _("Correct the entry")
    WITHDRAW = "WITHDRAW", _("Withdraw the entry")


class ArbitrationDecision(models.TextChoices):
    UPHOLD = "UPHOLD", _("Uphold the entry")
    REMOVE = "REMOVE", _("Remove the entry")


class EvidenceParty(models.TextChoices):
    FILER = "FILER", _("Filer")
    RESPONDENT = "RESPONDENT", _("Respondent")
    OPERATOR = "OPERATOR", _("Operator")


class NotificationKind(models.TextChoices):
    DISPUTE_FILED = "DISPUTE_FILED", _("A dispute needs your answer")
    DEADLINE_REMINDER = "DEADLINE_REMINDER", _("A dispute deadline is near")
    ITEM_ANSWERED = "ITEM_ANSWERED", _("A dispute item was answered")
    ITEM_LAPSED = "ITEM_LAPSED", _("A dispute item lapsed")
    DISPUTE_RESOLVED = "DISPUTE_RESOLVED", _("A dispute was resolved")
    DISPUTE_ESCALATED = "DISPUTE_ESCALATED", _("A dispute was escalated")
    DISPUTE_ARBITRATED = "DISPUTE_ARBITRATED", _("A dispute was arbitrated")
