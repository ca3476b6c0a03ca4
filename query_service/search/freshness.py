"""How fresh the read models are, from the progress the projector records in Redis after each searchable batch."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from read_models.freshness import FreshnessRecord, freshness_parse
from read_models.keys import freshness_key

log = logging.getLogger(__name__)


def freshness_record(*, client: redis.Redis, group: str) -> FreshnessRecord | None:
    """The projector group's progress record; None when unknown (no batch yet, Redis down, or a record the projector
    did not write: freshness is advisory and never fails a read)."""
    try:
        raw = client.hget(freshness_key(), group)
    except redis.RedisError as error:
        log.warning("freshness unavailable: %s", error)
        return None
    if not raw:
        return None
    try:
        return freshness_parse(raw)
    except ValueError as error:  # not written by the projector: unknown, like a missing record
        log.warning("freshness record unreadable: %s", error)
        return None


def freshness_of(record: FreshnessRecord | None, now: datetime | None = None) -> dict[str, Any] | None:
    """A record as answers show it: the newest applied event's commit time, when it became searchable, the seconds
    between them (its commit-to-searchable age) and since (idle); None when unknown."""
    if record is None:
        return None
    last_event_at, updated_at = record.last_occurred_at, record.last_applied_at
    now = now or datetime.now(UTC)
    return {
        "last_event_at": last_event_at.isoformat(),
        "updated_at": updated_at.isoformat(),
        "age_seconds": round(max(0.0, (updated_at - last_event_at).total_seconds()), 3),
        "idle_seconds": round(max(0.0, (now - updated_at).total_seconds()), 3),
    }


def freshness_read(*, client: redis.Redis, group: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The group's freshness read from Redis now (`freshness_of` its record)."""
    return freshness_of(freshness_record(client=client, group=group), now)


class RecentRecords:
    """Freshness records read at most once per `max_age` seconds per (namespace key, group), in this process.

    The lists answer with freshness on every response; the projector rewrites the record once per batch, so a record
    up to `max_age` old adds at most that to what an answer reports, and saves a Redis round trip per request. An
    unknown record (Redis down included) is kept as long, so an outage costs one timeout per `max_age`, not one per
    request. `idle_seconds` is still worked out per answer. Safe across threads: at worst two of them read at once.
    """

    def __init__(self, fetch: Callable[[str], FreshnessRecord | None], clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch  # group -> its record, read now
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], tuple[float, FreshnessRecord | None]] = {}

    def get(self, group: str, max_age: float) -> FreshnessRecord | None:
        """The group's record, read again when the kept one is `max_age` seconds old or more (0: always)."""
        key = (freshness_key(), group)
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < max_age:
            return kept[1]
        record = self._fetch(group)
        with self._lock:
            if len(self._kept) >= 64:  # one entry per namespace in use: only tests and benchmarks have several
                self._kept.clear()
            self._kept[key] = (now, record)
        return record
