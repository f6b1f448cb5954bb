from __future__ import annotations

from rest_framework import serializers

from core.models import AuditEvent
from core.serializers import StrictInputSerializer
from lenders.choices import MemberStatus
from lenders.models import Member


class MemberOut(serializers.ModelSerializer):
    trust_weight = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=False)
    region = serializers.CharField(source="region.code")

    class Meta:
        model = Member
        fields = [
            "id",
            "region",
            "name",
            "uscc",
            "status",
            "trust_weight",
            "excluded_from_consensus",
            "created_at",
            "updated_at",
        ]


class MemberPatchIn(StrictInputSerializer):
    trust_weight = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False)
    status = serializers.ChoiceField(choices=MemberStatus.choices, required=False)
    excluded_from_consensus = serializers.BooleanField(required=False)


class HashKeyOut(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    key_b64 = serializers.CharField()


class RegionOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    key_id = serializers.CharField(help_text="the current hash key")
    key_ids = serializers.ListField(child=serializers.CharField(), help_text="every readable key, newest first")
    policy = serializers.DictField()


class AuditEventOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_label",
            "member_id",
            "user_id",
            "api_key_id",
            "action",
            "object_type",
            "object_id",
            "request_id",
            "ip",
            "details",
            "hash",
        ]
