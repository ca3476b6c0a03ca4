"""The names of the read side's shared state in Redis and OpenSearch, all namespaced by PROJECTOR_INDEX_PREFIX.

The projector writes notices, progress and holds under these names; the query service's fan-out, stream and
freshness reads find them by the same names. One prefix (`runtime.settings.index_prefix`) keeps deployments (or
test runs) sharing one Redis and one cluster apart. Progress and holds are per consumer group: the live projector's
is `runtime.settings.projector_group()`. The notice stream and its dedupe set carry the hash tag `{live}`, so that in
a Redis Cluster they share the slot the projector's one script per batch needs (a prefix must not hold braces).

Redis evicts only keys with a TTL when it is full (`runtime.settings.REDIS_MAXMEMORY_POLICY`), so a key has a TTL
exactly when the system re-creates it: the freshness record (rewritten with every batch; FRESHNESS_TTL_SECONDS),
the heartbeats (`runtime.heartbeats`), the stream's per-client connection leases (`stream_clients_key`) and
subscribe windows (`stream_subscribes_key`), the channel layer's queues and groups (channels-redis sets theirs) and
the command service's throttle windows (Django's cache).
The notice stream, its dedupe set, its byte count and the fan-out's position have none: losing them would lose or
repeat notices without a word, and retention bounds them instead.
"""

from __future__ import annotations

import re

from runtime.settings import index_prefix

NOTICE_SLOT = "{live}"  # a Redis Cluster hash tag: the stream and its dedupe set share one slot (one script uses both)
FRESHNESS_TTL_SECONDS = 7 * 86_400  # an idle projector's record outlives a long weekend; every batch renews it


def notice_stream() -> str:
    """The Redis stream of notices; namespaced like the read models it announces."""
    return f"{index_prefix()}{NOTICE_SLOT}:events"


def notice_seen_key() -> str:
    """The Redis sorted set of the notices written to `notice_stream` (`<type>:<id>:<version>`, scored by when):
    a redelivered event's notice is written once. In the stream's cluster slot."""
    return f"{index_prefix()}{NOTICE_SLOT}:events:seen"


def notice_bytes_key() -> str:
    """The Redis counter of the encoded bytes `notice_stream` holds (what its byte budget trims by). In its slot."""
    return f"{index_prefix()}{NOTICE_SLOT}:events:bytes"


def stream_clients_key(client: str) -> str:
    """The Redis sorted set of one client address's open stream connections (leases scored by their expiry)."""
    return f"{index_prefix()}live:clients:{client}"


def stream_subscribes_key(client: str) -> str:
    """The Redis sorted set of one client address's subscribe frames of the last minute (scored by when sent)."""
    return f"{index_prefix()}live:subscribes:{client}"


def freshness_key() -> str:
    """The Redis hash of each consumer group's progress (a field per group, see `read_models.freshness`)."""
    return f"{index_prefix()}projector:freshness"


def fanout_position_key() -> str:
    """The Redis key holding the id of the last notice the query service's fan-out sent."""
    return f"{index_prefix()}live:fanout:position"


def channel_group() -> str:
    """The channel-layer group every stream subscriber joins (the characters and length a group name allows)."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", f"{index_prefix()}live")[:90]


def holds_index(group: str) -> str:
    """The OpenSearch index of a consumer group's held aggregates."""
    return f"{index_prefix()}projector-holds-{group}"


def clock_index() -> str:
    """The OpenSearch index of the recount clock every projector writer shares (`projector.consumer.counts`)."""
    return f"{index_prefix()}projector-clock"
