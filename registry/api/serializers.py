from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictInputSerializer
from registry.choices import ConsensusStatus, IdType, LookupPurpose
from registry.models import ConsensusHistory, Entry, LookupRecord


@extend_schema_field(OpenApiTypes.STR)
class HexHashField(serializers.Field):
    def to_representation(self, value: bytes) -> str:
        return bytes(value).hex()


class EntryOut(serializers.ModelSerializer):
    subject_hash = HexHashField()
    key_id = serializers.CharField(source="hash_key.key_id")

    class Meta:
        model = Entry
        fields = [
            "id",
            "id_type",
            "subject_hash",
            "key_id",
            "list",
            "reason",
            "event_date",
            "expires_on",
            "ends_on",
            "reference",
            "state",
            "created_at",
            "updated_at",
            "state_changed_at",
        ]


class EntryIn(StrictInputSerializer):
    """One row of the upload file (``csv.md``) as JSON; values are checked by the shared row rules."""

    id_type = serializers.CharField(max_length=10)
    subject_hash = serializers.CharField(max_length=64)
    list = serializers.CharField(max_length=10, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=30, required=False, allow_blank=True)
    event_date = serializers.CharField(max_length=10, required=False, allow_blank=True)
    expires_on = serializers.CharField(max_length=10, required=False, allow_blank=True, allow_null=True)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)
    action = serializers.CharField(max_length=10, required=False, allow_blank=True)
    key_id = serializers.CharField(max_length=40, required=False, allow_blank=True)


class EntrySubmitOut(serializers.Serializer):
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged", "withdrawn"])
    entry = EntryOut(allow_null=True)


class WithdrawIn(StrictInputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class OwnEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    list = serializers.CharField()
    reason = serializers.CharField()
    event_date = serializers.DateField()
    state = serializers.CharField()


class LookupResultOut(serializers.Serializer):
    """The lookup result of ``api.md`` (documentation of the shape the service builds)."""

    id_type = serializers.ChoiceField(choices=IdType.choices)
    subject_hash = serializers.CharField()
    key_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ConsensusStatus.choices)
    black_score = serializers.IntegerField(min_value=0, max_value=100)
    black_members = serializers.IntegerField()
    white_members = serializers.IntegerField()
    reasons = serializers.DictField(child=serializers.IntegerField())
    latest_black_event_date = serializers.DateField(allow_null=True)
    conflict = serializers.BooleanField()
    disputed = serializers.BooleanField()
    own_entry = OwnEntryOut(allow_null=True)
    consensus_updated_at = serializers.DateTimeField(allow_null=True)
    lookup_id = serializers.UUIDField()


class LookupSubjectIn(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    subject_hash = serializers.CharField(min_length=64, max_length=64)


class LookupBatchIn(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=LookupPurpose.choices)
    consent_reference = serializers.CharField(required=False, max_length=64)
    key_id = serializers.CharField(required=False)
    subjects = LookupSubjectIn(many=True)


class LookupBatchOut(serializers.Serializer):
    lookup_batch_id = serializers.UUIDField()
    results = LookupResultOut(many=True)


class HistoryOut(serializers.ModelSerializer):
    class Meta:
        model = ConsensusHistory
        fields = ["changed_at", "cause", "cause_ref", "old_status", "new_status", "old_score", "new_score"]


class LookupRecordOut(serializers.ModelSerializer):
    lookup_id = serializers.UUIDField(source="id")
    member = serializers.CharField(source="member.name")
    member_id = serializers.IntegerField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)

    class Meta:
        model = LookupRecord
        fields = [
            "lookup_id",
            "batch_id",
            "created_at",
            "member_id",
            "member",
            "user",
            "api_key_prefix",
            "purpose",
            "consent_reference",
            "status",
            "black_score",
            "request_id",
        ]


class SubjectHistoryOut(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    subject_hash = serializers.CharField()
    key_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ConsensusStatus.choices)
    history = HistoryOut(many=True)
    lookups = LookupRecordOut(many=True)
