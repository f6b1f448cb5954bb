from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One append-only, hash-chained record of a state change: who, what, which object, from
    which request. Written by services in the same transaction as the change they record.

    Actor and object references are plain ids, not foreign keys: the log outlives what it
    describes and must never be altered by a cascade. On PostgreSQL a trigger refuses UPDATE
    and DELETE on this table.
    """

    created_at = models.DateTimeField()
    region_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    api_key_id = models.CharField(max_length=150, blank=True, default="")
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=100, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
