"""How fresh the read models are, from the progress the projector records in Redis after each searchable batch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis

from read_models.freshness import freshness_parse
from read_models.keys import freshness_key

log = logging.getLogger(__name__)


def freshness_read(*, client: redis.Redis, group: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The projector group's progress: the newest applied event's commit time, when it became searchable, and
    the seconds between them (its commit-to-searchable age). None when unknown (no batch yet, or Redis is down:
    freshness is advisory and never fails a read)."""
    try:
        raw = client.hget(freshness_key(), group)
    except redis.RedisError as error:
        log.warning("freshness unavailable: %s", error)
        return None
    if not raw:
        return None
    try:
        record = freshness_parse(raw)
    except ValueError as error:  # not written by the projector: unknown, like a missing record
        log.warning("freshness record unreadable: %s", error)
        return None
    last_event_at, updated_at = record.last_occurred_at, record.last_applied_at
    now = now or datetime.now(UTC)
    return {
        "last_event_at": last_event_at.isoformat(),
        "updated_at": updated_at.isoformat(),
        "age_seconds": round(max(0.0, (updated_at - last_event_at).total_seconds()), 3),
        "idle_seconds": round(max(0.0, (now - updated_at).total_seconds()), 3),
    }
