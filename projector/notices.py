"""What the projector tells the live side once a batch is searchable: one notice per event, and its progress.

Notices go to a Redis Stream (`notice_stream()`), trimmed to about NOTICE_RETENTION entries: the query service fans
them out to WebSocket subscribers, and a subscriber that reconnects resumes from its last stream id while that is
still retained. Progress goes to a Redis hash: per read-model consumer group, the newest event's commit time and
when it became searchable, so readers can say how fresh a list is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from events.envelope import encode
from projector.indices import index_prefix
from projector.writer import Applied

NOTICE_RETENTION = 100_000


def notice_stream() -> str:
    """The Redis stream of notices; PROJECTOR_INDEX_PREFIX namespaces it like the read models it announces."""
    return f"{index_prefix()}live:events"


def freshness_key() -> str:
    """The Redis hash of each consumer group's progress (namespaced like `notice_stream`)."""
    return f"{index_prefix()}projector:freshness"


PRIVATE_FIELDS = (
    "comment_states",
    "post_states",
    "field_versions",
)  # projector bookkeeping, not part of a read model's document


def public_document(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A document as readers see it, without the projector's bookkeeping."""
    if document is None:
        return None
    return {key: value for key, value in document.items() if key not in PRIVATE_FIELDS}


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
            fields = {
                "event": encode(item.event),
                "document": json.dumps(public_document(item.document)),
                "event_type": item.event.event_type,
            }
            pipe.xadd(notice_stream(), fields, maxlen=NOTICE_RETENTION, approximate=True)
        newest = max(item.event.occurred_at for item in applied)
        now = datetime.now(UTC)
        progress = {"last_occurred_at": newest.isoformat(), "last_applied_at": now.isoformat()}
        pipe.hset(freshness_key(), self.group, json.dumps(progress))
        pipe.execute()

    def freshness(self) -> dict[str, Any] | None:
        """This group's last progress record, if any."""
        raw = self.client.hget(freshness_key(), self.group)
        return json.loads(raw) if raw else None
