from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    SUSPENDED = "SUSPENDED", _("Suspended")


class Role(models.TextChoices):
    MEMBER_ADMIN = "MEMBER_ADMIN", _("Member administrator")
    ANALYST = "ANALYST", _("Analyst")
    UPLOADER = "UPLOADER", _("Uploader")
    VIEWER = "VIEWER", _("Viewer")
    OPERATOR_ADMIN = "OPERATOR_ADMIN", _("Operator administrator")
    REGULATOR = "REGULATOR", _("Regulator")


MEMBER_ROLES = (Role.MEMBER_ADMIN, Role.ANALYST, Role.UPLOADER, Role.VIEWER)
OPERATOR_ROLES = (Role.OPERATOR_ADMIN, Role.REGULATOR)


class Scope(models.TextChoices):
    LOOKUP = "lookup", _("Lookups")
    UPLOAD = "upload", _("Uploads")
    ENTRIES = "entries", _("Entries")
    DISPUTES = "disputes", _("Disputes")


class BlackReason(models.TextChoices):
    FRAUD = "FRAUD", _("Fraud")
    COURT_ENFORCED = "COURT_ENFORCED", _("Court-enforced dishonest debtor")
    WRITE_OFF = "WRITE_OFF", _("Written off")
    SEVERE_OVERDUE = "SEVERE_OVERDUE", _("Over 90 days overdue")
    OTHER_BLACK = "OTHER_BLACK", _("Other serious breach")


class WhiteReason(models.TextChoices):
    GOOD_REPAYMENT = "GOOD_REPAYMENT", _("Repaid on time")
    LONG_TERM_CLIENT = "LONG_TERM_CLIENT", _("Long-term client in good standing")
    VERIFIED_BUSINESS = "VERIFIED_BUSINESS", _("Enterprise verified on site")


DEFAULT_SEVERITY = {
    BlackReason.FRAUD: "1.0",
    BlackReason.COURT_ENFORCED: "1.0",
    BlackReason.WRITE_OFF: "0.8",
    BlackReason.SEVERE_OVERDUE: "0.6",
    BlackReason.OTHER_BLACK: "0.3",
}
