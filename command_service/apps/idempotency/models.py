"""Responses remembered under an Idempotency-Key, so a retried POST replays instead of writing twice."""

from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a POST with a given key, for one caller."""

    scope = models.CharField(max_length=64)  # "user:<id>" or "anonymous:<address digest>" (services/idempotency)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField()
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "idempotency_records"
        constraints = [models.UniqueConstraint(fields=("scope", "key"), name="idempotency_one_record_per_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
