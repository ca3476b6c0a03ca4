"""What the projector tells the live side once a batch is searchable: one notice per event, and its progress.

Notices go to the Redis stream, trimmed to about NOTICE_RETENTION entries: the query service fans them out to
WebSocket subscribers, and a subscriber that reconnects resumes from its last stream id while that is still
retained. Progress goes to a Redis hash: per read-model consumer group, the newest event's commit time and when it
became searchable, so readers can say how fresh a list is. Both formats and key names are the read-model contract's
(`read_models.notices`, `read_models.freshness`, `read_models.keys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from projector.consumer.writer import Applied
from read_models.freshness import FreshnessRecord, freshness_encode, freshness_parse
from read_models.keys import freshness_key, notice_stream
from read_models.notices import NOTICE_RETENTION, notice_encode


class Notices:
    """Publishes notices and progress to Redis."""

    def __init__(self, client: redis.Redis, group: str) -> None:
        self.client = client
        self.group = group

    def publish(self, applied: Sequence[Applied]) -> None:
        """One stream entry per applied event, then the group's freshness; a no-op for an empty batch."""
        if not applied:
            return
        pipe = self.client.pipeline(transaction=False)
        for item in applied:
            pipe.xadd(
                notice_stream(), notice_encode(item.event, item.document), maxlen=NOTICE_RETENTION, approximate=True
            )
        newest = max(item.event.occurred_at for item in applied)
        progress = FreshnessRecord(last_occurred_at=newest, last_applied_at=datetime.now(UTC))
        pipe.hset(freshness_key(), self.group, freshness_encode(progress))
        pipe.execute()

    def freshness(self) -> FreshnessRecord | None:
        """This group's last progress record, if any."""
        raw = self.client.hget(freshness_key(), self.group)
        return freshness_parse(raw) if raw else None
