"""Heartbeats: each long-running process says, every few seconds, which backing services it reaches.

The query service's status page reads them, so it can show the health of the command database and Kafka without
ever opening a connection to them itself. A heartbeat is advisory: writing one never fails its process (Redis may be
down). Records live in one Redis hash per deployment, namespaced by PROJECTOR_INDEX_PREFIX like the read models. The
hash has a TTL that every beat renews (TTL_SECONDS): it is re-created within one interval, so Redis may evict it
when full.

A component may also keep a short history of some of its numbers (`charted`: the projector's lag, events per second
and commit-to-searchable age), one sample per beat, for the status page's charts. Each component's history is a
Redis sorted set scored by the sample's time, bounded here and only here: samples older than HISTORY_SECONDS go with
every beat, at most HISTORY_SAMPLES are kept, and the key expires HISTORY_SECONDS after the last beat.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis

from runtime.settings import index_prefix

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 5.0
STALE_AFTER_SECONDS = 3 * INTERVAL_SECONDS
TTL_SECONDS = 3600  # the hash goes an hour after the last beat of any component (the status page then knows none)
HISTORY_SECONDS = 15 * 60  # the charts' window: older samples are trimmed, and an idle history expires after it
HISTORY_SAMPLES = int(HISTORY_SECONDS / INTERVAL_SECONDS)  # one sample per beat fills the window (180)


def heartbeats_key() -> str:
    """The Redis hash of every component's last heartbeat."""
    return f"{index_prefix()}system:heartbeats"


def heartbeat_history_key(component: str) -> str:
    """The Redis sorted set of one component's recent samples (JSON members scored by their time)."""
    return f"{index_prefix()}system:heartbeats:history:{component}"


class Heartbeat:
    """Writes one component's heartbeat at most every INTERVAL_SECONDS, and a sample of its `charted` details."""

    def __init__(self, client: redis.Redis, component: str, charted: tuple[str, ...] = ()) -> None:
        self.client = client
        self.component = component
        self.charted = charted
        self._last = 0.0

    def due(self) -> bool:
        """Whether the next heartbeat would be written (INTERVAL_SECONDS since the last)."""
        return time.monotonic() - self._last >= INTERVAL_SECONDS

    def beat(self, reaches: dict[str, bool], **details: Any) -> None:
        """Record which services this component reached (`{"kafka": True, ...}`) and any details, if `due`."""
        if not self.due():
            return
        self._last = time.monotonic()
        now = datetime.now(UTC)
        record = {"at": now.isoformat(), "reaches": reaches, **details}
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(heartbeats_key(), self.component, json.dumps(record))
            pipe.expire(heartbeats_key(), TTL_SECONDS)
            sample = {name: details[name] for name in self.charted if name in details}
            if sample:
                history, score = heartbeat_history_key(self.component), now.timestamp()
                pipe.zadd(history, {json.dumps({"at": record["at"], **sample}): score})
                pipe.zremrangebyscore(history, "-inf", f"({score - HISTORY_SECONDS}")
                pipe.zremrangebyrank(history, 0, -HISTORY_SAMPLES - 1)
                pipe.expire(history, HISTORY_SECONDS)
            pipe.execute()
        except redis.RedisError as error:
            log.debug("heartbeat not written: %s", error)


def heartbeats_read(client: redis.Redis, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Every component's last heartbeat, each with `age_seconds` and `stale` (older than STALE_AFTER_SECONDS)."""
    now = now or datetime.now(UTC)
    out = {}
    for component, raw in client.hgetall(heartbeats_key()).items():
        record = json.loads(raw)
        age = (now - datetime.fromisoformat(record["at"])).total_seconds()
        out[component.decode() if isinstance(component, bytes) else component] = {
            **record, "age_seconds": round(age, 1), "stale": age > STALE_AFTER_SECONDS,
        }  # fmt: skip
    return out


def heartbeat_history_read(client: redis.Redis, component: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """One component's samples of the last HISTORY_SECONDS, oldest first (each with its `at`)."""
    now = now or datetime.now(UTC)
    members = client.zrangebyscore(heartbeat_history_key(component), now.timestamp() - HISTORY_SECONDS, "+inf")
    return [json.loads(member) for member in members]
