"""The event contract: one versioned definition of every domain event, shared by all sides.

The command service writes events (through its outbox), the projector reads them from Kafka, the query service
forwards them to live subscribers, and outside subscribers read the same topics. All of them use this package,
which is pure Python (no Django, no network at import time), or its published form: the JSON Schemas in
`events/schemas/` and the AsyncAPI document `docs/asyncapi.json`, both generated from this code.

- `envelope`: `EventEnvelope`, `encode` (to JSON bytes) and `decode` (the only way in; raises `UndecodableEvent`
  or `UnsupportedEvent` and nothing else).
- `types`: one frozen dataclass per payload, registered by (event type, schema version) with its aggregate type.
- `upcasters`: `upcast_<type>_vN_to_vN+1` functions; `decode` lifts old payloads to the current version.
  `user.registered` is at version 2; version 1 (one `name` field) is the shape of an earlier release.
- `schemas`, `asyncapi`: the generators of the committed schemas and AsyncAPI document.
- `topics`: topic names, partition counts, keys, dead-letter topics, and `ensure_topics`.
- `consumer`: `EventReader`, the policy for unknown types, newer versions and undecodable messages.
- `stream`: the frames of the query service's WebSocket stream.

Denormalization: how does the projector build a post document with its author's current name and avatar without
reading the command database? It uses both of the two usual answers, so that neither's weakness remains:

1. Events that create content (`post.created`, `comment.added`) carry an `AuthorSnapshot` of the author as the
   command side saw them in the same transaction. A post can be projected completely from its own topic, even
   when the projector has never seen that user's events (new consumer group, user topic lagging, rebuild of one
   index).
2. The projector also keeps its own author view, fed by `user.registered` and `user.profile_changed` (and the
   new version of `user.deactivated` / `user.reactivated`), and re-renders the author's content when it changes.
   Snapshots alone would leave old posts with old names.

Kafka orders events within a topic partition only; user and post events travel on different topics, so a post
created just after a rename can reach the projector before the rename (or after it). The snapshot's
`user_version` (the user's `aggregate_version` it reflects) settles it: the projector keeps whichever of snapshot
and author view has the higher user version, so every post converges to the newest profile whatever the arrival
order across topics.

The name `events` is also the top-level package of the PyPI distribution `Events`, a dependency of opensearch-py;
see `events._shadowed` for how this package stays importable by both.
"""

from events.envelope import MAX_MESSAGE_BYTES, EventEnvelope, decode, encode
from events.errors import (
    MessageTooLarge,
    UndecodableEvent,
    UnknownEventType,
    UnsupportedEvent,
    UnsupportedSchemaVersion,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "EventEnvelope",
    "MessageTooLarge",
    "UndecodableEvent",
    "UnknownEventType",
    "UnsupportedEvent",
    "UnsupportedSchemaVersion",
    "decode",
    "encode",
]


def __getattr__(name: str) -> object:
    """`Events` and `EventsException` of the shadowed PyPI package, for opensearch-py's `from events import Events`."""
    from events._shadowed import EXPORTS, shadowed_module

    if name in EXPORTS:
        return getattr(shadowed_module(), name)
    raise AttributeError(f"module 'events' has no attribute {name!r}")
