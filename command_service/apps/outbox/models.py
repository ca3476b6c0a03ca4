"""The transactional outbox: each domain event, written in the same transaction as the change it describes."""

from __future__ import annotations

from django.db import models

SHARDS = 16  # outbox rows are spread over shards by aggregate; one relay at a time owns a shard (see relay/)
# The PostgreSQL channel a transaction with outbox rows NOTIFYs (apps/unit_of_work.py) and relays LISTEN on.
WAKE_UP_CHANNEL = "outbox_pending"


class OutboxEvent(models.Model):
    """One encoded event waiting to be (or already) published to Kafka."""

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=64)
    aggregate_version = models.PositiveIntegerField()
    topic = models.CharField(max_length=128)
    key = models.CharField(max_length=128)
    shard = models.PositiveSmallIntegerField()
    payload = models.BinaryField()  # the encoded envelope, exactly the bytes published
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "outbox_events"
        constraints = [
            models.UniqueConstraint(
                fields=("aggregate_type", "aggregate_id", "aggregate_version"), name="outbox_one_event_per_version"
            )
        ]
        indexes = [
            models.Index(fields=("shard", "sent_at", "id"), name="outbox_pending_by_shard"),
            models.Index(fields=("sent_at",), name="outbox_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}@{self.aggregate_version}"


class RelayLease(models.Model):
    """Which relay owns a shard of the outbox until when; a lapsed lease may be taken over."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    owner = models.CharField(max_length=128, blank=True, default="")
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "outbox_relay_leases"

    def __str__(self) -> str:
        return f"shard {self.shard} -> {self.owner or 'nobody'}"


class RelayMember(models.Model):
    """A relay's heartbeat: the live relays, holding shards or not, divide the shards among themselves."""

    owner = models.CharField(max_length=128, primary_key=True)
    seen_at = models.DateTimeField()

    class Meta:
        db_table = "outbox_relay_members"

    def __str__(self) -> str:
        return self.owner


class SubjectKey(models.Model):
    """A person's key: the outbox seals their personal events under it (`events.personal_data`).

    Issued with the person's first personal event, and published on the key topic through the outbox in the same
    transaction; erasing the person deletes the row, so the command database cannot open their sealed events either.
    """

    subject_id = models.CharField(max_length=64, primary_key=True)
    key = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "outbox_subject_keys"

    def __str__(self) -> str:
        return f"key of subject {self.subject_id}"
