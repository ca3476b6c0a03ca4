"""Held aggregates: after one of an aggregate's events is dead-lettered, its later events follow it there.

That keeps the aggregate's order (a later event applied first would make the replayed one stale) while every
other aggregate flows. A hold is keyed by Kafka topic and message key (the aggregate id), so it works even for
bytes that never decoded. It lives in one OpenSearch document holding the set `pending` of the origins
("partition:offset" in the hold's topic) of its dead letters that no replay has applied yet. The live projector
adds an origin *before* producing its dead letter; the replay removes it *after* applying the dead letter and
deletes the hold once `pending` is empty. Both are single scripted updates, so each is atomic, and both are
idempotent: adding an origin twice or removing it twice changes nothing. The set is bounded by the dead letters
actually waiting, not by the aggregate's history.

Why a SIGKILL at any step leaves nothing held for ever and loses nothing (the offsets of a batch are committed
only after its dead letters are flushed, so a crash before the commit redelivers the whole batch):

- before the origin is added: nothing was recorded; the redelivered event fails (or applies) afresh.
- after it is added, before the dead letter is produced or flushed: the hold names an origin with no dead letter
  (yet). The redelivery finds the aggregate held and dead-letters that same event with that same origin: adding it
  again is a no-op, and now the dead letter exists, so a replay applies it and removes the origin. Events of the
  aggregate before it in the batch, applied before the crash, are dead-lettered too on redelivery: replaying them
  again is harmless (the writes are version-guarded) and releases their origins.
- after the flush, before the commit: the redelivery dead-letters the event again with the same origin, so the
  topic holds two copies of one origin. The replay applies the first and removes the origin; the second applies
  as a no-op (or a stale event, which the version guards ignore) and removes nothing.
- in the replay, between applying and releasing, or before its own commit: the next replay re-applies (a no-op)
  and releases. Releasing never creates a hold.

A dead letter written while a replay runs adds its origin before it exists in the topic, so the replay cannot
empty the set past it: the hold stays until that dead letter is replayed too. Holds written by the former
two-counter scheme (`dead_lettered`, `replayed`, no `pending`) are still released by their counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opensearchpy import OpenSearch

from read_models.keys import holds_index

HOLD = """
def s = ctx._source;
if (s.topic == null) { s.topic = params.topic; s.key = params.key; }
if (s.pending == null) { s.pending = []; }
if (s.pending.contains(params.origin)) { ctx.op = 'noop'; } else { s.pending.add(params.origin); }
"""
RELEASE = """
def s = ctx._source;
def kept = new ArrayList();
boolean found = false;
if (s.pending != null) { for (o in s.pending) { if (o == params.origin) { found = true; } else { kept.add(o); } } }
s.pending = kept;
boolean legacy = s.dead_lettered != null;
if (!found && legacy) { s.replayed = (s.replayed == null ? 0 : s.replayed) + 1; }
if (kept.isEmpty() && (!legacy || s.replayed >= s.dead_lettered)) { ctx.op = 'delete'; }
else if (!found && !legacy) { ctx.op = 'noop'; }
"""
MAPPINGS = {
    "properties": {
        "topic": {"type": "keyword"},
        "key": {"type": "keyword"},
        "pending": {"type": "keyword"},
        "dead_lettered": {"type": "integer"},  # the former scheme's counters, read only for its holds
        "replayed": {"type": "integer"},
    }
}
BODY = {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPINGS}
PAGE_SIZE = 1000


def hold_id(topic: str, key: str) -> str:
    """The document id of a hold."""
    return f"{topic}|{key}"


def origin_of(partition: int, offset: int) -> str:
    """How a dead letter's origin is named in its hold's `pending` (the topic is the hold's own)."""
    return f"{partition}:{offset}"


def _waiting(source: dict[str, Any]) -> int:
    legacy = max(0, (source.get("dead_lettered") or 0) - (source.get("replayed") or 0))
    return len(source.get("pending") or ()) + legacy


class Holds:
    """The holds of one consumer group."""

    def __init__(self, client: OpenSearch, group: str, *, page_size: int = PAGE_SIZE) -> None:
        self.client = client
        self.index = holds_index(group)
        self.page_size = page_size

    def ensure_index(self) -> None:
        """Create the holds index the first time; give an older one the `pending` field."""
        if not self.client.indices.exists(index=self.index):
            self.client.indices.create(index=self.index, body=BODY)
        else:
            self.client.indices.put_mapping(index=self.index, body=MAPPINGS)

    def held(self) -> set[tuple[str, str]]:
        """Every held (topic, key), read fresh (a replay may have released some), however many there are."""
        return {(source["topic"], source["key"]) for source in self._all()}

    def hold(self, topic: str, key: str, partition: int, offset: int) -> None:
        """Hold an aggregate behind the dead letter of (topic, partition, offset); visible to searches at once.

        Idempotent: holding the same origin again (a redelivered batch) counts it once.
        """
        params = {"topic": topic, "key": key, "origin": origin_of(partition, offset)}
        self.client.update(
            index=self.index,
            id=hold_id(topic, key),
            body={"script": {"source": HOLD, "params": params}, "scripted_upsert": True, "upsert": {}},
            retry_on_conflict=10,
            refresh=True,
        )

    def release(self, topic: str, key: str, partition: int, offset: int) -> bool:
        """The dead letter of (topic, partition, offset) was replayed: drop its origin, and the hold once none is
        left. Idempotent; True when the aggregate is no longer held."""
        response = self.client.update(
            index=self.index,
            id=hold_id(topic, key),
            body={"script": {"source": RELEASE, "params": {"origin": origin_of(partition, offset)}}},
            retry_on_conflict=10,
            refresh=True,
            ignore=404,
        )
        return response.get("result") == "deleted" or response.get("status") == 404

    def stats(self) -> dict[str, int]:
        """How many aggregates are held and how many of their dead letters wait for a replay."""
        held = waiting = 0
        for source in self._all():
            held += 1
            waiting += _waiting(source)
        return {"held_aggregates": held, "waiting_dead_letters": waiting}

    def _all(self) -> Iterator[dict[str, Any]]:
        """Every hold's source, page by page (search_after on the unique (topic, key)): no cap."""
        body: dict[str, Any] = {
            "size": self.page_size,
            "query": {"match_all": {}},
            "sort": [{"topic": "asc"}, {"key": "asc"}],
            "track_total_hits": False,
        }
        while True:
            hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < self.page_size:
                return
            body = {**body, "search_after": hits[-1]["sort"]}
