from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from rest_framework_api_key.models import AbstractAPIKey

from lenders.choices import DEFAULT_SEVERITY, BlackReason, MemberStatus, Role, Scope


def _default_severity() -> dict[str, str]:
    return {str(code): weight for code, weight in DEFAULT_SEVERITY.items()}


def _default_decisive() -> list[str]:
    return [BlackReason.COURT_ENFORCED.value]


class Region(models.Model):
    """One regional registry (for example a city) with its policy: consensus rules
    (``consensus.md``), dispute deadlines (``disputes.md``), upload limits (``csv.md``) and API
    limits (``api.md``). Every other object belongs to exactly one region."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)

    # Consensus (consensus.md)
    severity_weights = models.JSONField(default=_default_severity)
    black_score_threshold = models.PositiveSmallIntegerField(default=80)
    min_black_members = models.PositiveSmallIntegerField(default=2)
    decisive_reasons = models.JSONField(default=_default_decisive)
    black_retention_years = models.PositiveSmallIntegerField(default=5)
    white_retention_years = models.PositiveSmallIntegerField(default=3)
    suspend_disputed_entries = models.BooleanField(default=False)
    count_suspended_members = models.BooleanField(default=False)

    # Disputes (disputes.md)
    response_days = models.PositiveSmallIntegerField(default=20)
    reminder_days_before = models.PositiveSmallIntegerField(default=5)
    escalation_days = models.PositiveSmallIntegerField(default=15)
    relist_block_days = models.PositiveSmallIntegerField(default=30)

    # Uploads (csv.md)
    upload_max_rows = models.PositiveIntegerField(default=5_000_000)
    upload_max_bytes = models.BigIntegerField(default=1024**3)
    upload_max_line_bytes = models.PositiveIntegerField(default=4096)
    snapshot_max_withdraw_ratio = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.5"))

    # API (api.md)
    lookup_rate_per_minute = models.PositiveIntegerField(default=6000)
    upload_rate_per_hour = models.PositiveIntegerField(default=30)
    api_rate_per_minute = models.PositiveIntegerField(default=600)
    consent_reference_required = models.BooleanField(default=False)

    # Data lifecycle (quality.md): a withdrawn, expired or removed entry is deleted this many
    # days after it stopped counting (its audit events stay); lookup records are kept this
    # many days, then deleted.
    entry_purge_grace_days = models.PositiveIntegerField(default=90)
    lookup_retention_days = models.PositiveIntegerField(default=1095)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(black_score_threshold__gte=0, black_score_threshold__lte=100),
                name="region_threshold_0_100",
            ),
            models.CheckConstraint(condition=Q(min_black_members__gte=1), name="region_min_black_members_ge_1"),
            models.CheckConstraint(
                condition=Q(black_retention_years__gte=1, white_retention_years__gte=1),
                name="region_retention_ge_1",
            ),
            models.CheckConstraint(condition=Q(response_days__gte=1), name="region_response_days_ge_1"),
            models.CheckConstraint(
                condition=Q(snapshot_max_withdraw_ratio__gte=0, snapshot_max_withdraw_ratio__lte=1),
                name="region_withdraw_ratio_0_1",
            ),
            models.CheckConstraint(
                condition=Q(upload_max_rows__gte=1, upload_max_bytes__gte=1, upload_max_line_bytes__gte=64),
                name="region_upload_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(lookup_rate_per_minute__gte=1, upload_rate_per_hour__gte=1, api_rate_per_minute__gte=1),
                name="region_rates_positive",
            ),
            models.CheckConstraint(condition=Q(lookup_retention_days__gte=1), name="region_lookup_retention_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def current_hash_key(self) -> HashKey:
        return self.hash_keys.get(is_current=True)


class HashKey(models.Model):
    """A region's secret for subject hashing (``hashing.md``): 32 random bytes, stored encrypted
    with the deployment's key-encryption secret. Rotation makes a new key current; older keys
    stay readable so entries and lookups made under them still resolve."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="hash_keys")
    key_id = models.CharField(max_length=40, unique=True)
    encrypted_key = models.TextField()
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["region", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(is_current=True), name="hashkey_one_current_per_region"
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class Operator(models.Model):
    """The organisation that runs a region (financial office, industry association)."""

    region = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="operator")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A lender firm taking part in one region: its status and trust weight are set by the
    operator; a suspended member's users and keys are refused and its entries stop counting."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="members")
    name = models.CharField(max_length=200)
    uscc = models.CharField("USCC", max_length=18)
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    trust_weight = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("1.000"))
    excluded_from_consensus = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "uscc"], name="member_unique_uscc_per_region"),
            models.CheckConstraint(
                condition=Q(trust_weight__gte=0, trust_weight__lte=1), name="member_trust_weight_0_1"
            ),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class User(AbstractUser):
    """A person on the staff of one organisation: a member, or a region's operator."""

    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    language = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(operator__isnull=True), name="user_one_organisation"
            ),
        ]

    @property
    def role_codes(self) -> frozenset[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            prefetched = getattr(self, "_prefetched_objects_cache", {}).get("role_grants")
            if prefetched is not None:
                cached = frozenset(grant.role for grant in prefetched)
            else:
                cached = frozenset(self.role_grants.values_list("role", flat=True))
            self._role_codes = cached
        return cached


class RoleGrant(models.Model):
    """One role held by one staff user (``concepts.md``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="rolegrant_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="rolegrant_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class ApiKey(AbstractAPIKey):
    """A machine credential of one organisation, stored hashed (the key is shown once).
    A member's key carries scopes; an operator's key acts with one operator role."""

    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys")
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys")
    scopes = models.JSONField(default=list, blank=True)
    role = models.CharField(max_length=20, blank=True, default="")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=(Q(member__isnull=False, operator__isnull=True, role=""))
                | Q(member__isnull=True, operator__isnull=False, role__in=["OPERATOR_ADMIN", "REGULATOR"]),
                name="apikey_member_scopes_or_operator_role",
            ),
        ]

    @property
    def scope_codes(self) -> frozenset[str]:
        return frozenset(code for code in self.scopes if code in Scope.values)
