"""What the projector tells the live side once a batch is searchable: one notice per event, and its progress.

Notices go to the Redis stream, trimmed to about NOTICE_RETENTION entries: the query service fans them out to
WebSocket subscribers, and a subscriber that reconnects resumes from its last stream id while that is still
retained. Progress goes to a Redis hash: per read-model consumer group, the newest event's commit time and when it
became searchable, so readers can say how fresh a list is. Both formats and key names are the read-model contract's
(`read_models.notices`, `read_models.freshness`, `read_models.keys`).

Redis only carries the live side, so its failure never fails a batch that is already searchable: the notices are
lost, counted and logged, and the next write that succeeds first appends a gap marker, from which readers know that
notices are missing there and tell subscribers to resync. The freshness record is advisory and is skipped likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from projector.consumer import metrics
from projector.consumer.writer import Applied
from read_models.freshness import FreshnessRecord, freshness_encode, freshness_parse
from read_models.keys import freshness_key, notice_stream
from read_models.notices import NOTICE_RETENTION, gap_encode, notice_encode

log = logging.getLogger(__name__)


class Notices:
    """Publishes notices and progress to Redis.

    Attributes:
        lost: notices not written since the last gap marker (a marker precedes the next ones written).
    """

    def __init__(self, client: redis.Redis, group: str) -> None:
        self.client = client
        self.group = group
        self.lost = 0

    def publish(self, applied: Sequence[Applied]) -> None:
        """One stream entry per applied event, then the group's freshness; a no-op for an empty batch.

        A gap marker goes first when earlier notices were lost. Never raises for Redis (down, or hung past the
        client's socket timeout): the notices are then lost, and the marker is owed to the next call.
        """
        if not applied and not self.lost:
            return
        pipe = self.client.pipeline(transaction=False)
        if self.lost:
            pipe.xadd(notice_stream(), gap_encode(self.lost), maxlen=NOTICE_RETENTION, approximate=True)
        for item in applied:
            pipe.xadd(
                notice_stream(), notice_encode(item.event, item.document), maxlen=NOTICE_RETENTION, approximate=True
            )
        if applied:
            newest = max(item.event.occurred_at for item in applied)
            progress = FreshnessRecord(last_occurred_at=newest, last_applied_at=datetime.now(UTC))
            pipe.hset(freshness_key(), self.group, freshness_encode(progress))
        try:
            pipe.execute()
        except redis.RedisError as error:  # a marker that did go out is harmless: the next one says the same
            self.lost += len(applied)
            metrics.NOTICES_LOST.inc(len(applied))
            log.warning("notices of %d events lost (%d since the last gap marker): %s", len(applied), self.lost, error)
            return
        if self.lost:
            log.warning("Redis is back: a gap marker stands for %d lost notices", self.lost)
            metrics.NOTICE_GAPS.inc()
            self.lost = 0

    def settle(self) -> None:
        """Write the gap marker owed for lost notices now, if any (an idle or stopping projector's); never raises."""
        self.publish(())

    def freshness(self) -> FreshnessRecord | None:
        """This group's last progress record, if any."""
        raw = self.client.hget(freshness_key(), self.group)
        return freshness_parse(raw) if raw else None
