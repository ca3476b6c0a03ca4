"""Ticks on the key topic: what makes its compaction bound hold when no one registers or is erased.

Kafka compacts only closed segments, and closes (rolls) the active one only when a record is appended after its
`segment.ms`. An erased person's key record sitting in the active segment of a quiet partition would stay until the
next append, however long that is; so the relay appends one tick (`events.personal_data.tick_record`, one Kafka key
per partition, so compaction keeps one each and the topic does not grow) to every partition every
`SUBJECT_KEYS_TICK_SECONDS`. Several relays tick side by side harmlessly. A failed tick is logged and retried on the
next schedule; it never stops the relay.

With the ticks go the erased markers of the last `MARKER_WINDOW` again. Compaction keeps a key's newest record, so
an erased marker must stay the newest of its person; but a relay that read a key record just before the erasure
deleted it, and was then paused past its lease (or retried a send), can append that key record after the marker.
Sending recent markers again puts a marker last whatever such a straggler did within the window, far longer than a
lease (15 s) plus the producer's delivery timeout (30 s). Duplicates are harmless: a marker is final for every reader.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from kafka.errors import KafkaError

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_ERASED, KEY_RECORD_AGGREGATE
from events.topics import subject_keys_spec, subject_keys_tick_seconds

log = logging.getLogger(__name__)
MARKER_WINDOW = timedelta(hours=1)


class TickPublisher(Protocol):
    """What the ticks are sent through (`command_service.relay.publisher.KafkaPublisher`)."""

    def send_ticks(self, topic: str, partitions: int) -> None: ...

    def publish(self, rows: list[OutboxEvent]) -> list[int]: ...


class KeyTicks:
    """Sends the ticks and the recent erased markers through `publisher` at most every `interval` seconds."""

    def __init__(self, publisher: TickPublisher, interval: float | None = None) -> None:
        self.publisher = publisher
        self.interval = subject_keys_tick_seconds() if interval is None else interval
        self._last = float("-inf")

    def maybe_tick(self) -> bool:
        """Tick when one is due; whether it was sent."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        spec = subject_keys_spec()
        try:
            self.publisher.send_ticks(spec.name, spec.partitions)
        except KafkaError as exc:
            log.warning("could not tick the key topic: %s", exc)
            return False
        self.publisher.publish(recent_markers(datetime.now(UTC) - MARKER_WINDOW))  # logs its own failures
        return True


def recent_markers(since: datetime) -> list[OutboxEvent]:
    """The erased markers the relay sent since `since`, oldest first."""
    rows = OutboxEvent.objects.filter(
        aggregate_type=KEY_RECORD_AGGREGATE, event_type=KEY_ERASED[0], sent_at__isnull=False, created_at__gte=since
    )
    return list(rows.order_by("id"))
