"""Held aggregates: after one of an aggregate's events is dead-lettered, its later events follow it there.

That keeps the aggregate's order (a later event applied first would make the replayed one stale) while every
other aggregate flows. A hold is keyed by Kafka topic and message key (the aggregate id), so it works even for
bytes that never decoded. It lives in an OpenSearch document with two counters, updated atomically:
`dead_lettered` (the live projector increments it *before* producing each dead letter) and `replayed` (the replay
command increments it after applying one). The replay releases the hold only when the two are equal, so a dead
letter written while a replay runs is never left behind a released hold.
"""

from __future__ import annotations

from opensearchpy import OpenSearch

from read_models.keys import holds_index

COUNT = """
def s = ctx._source;
if (s.dead_lettered == null) { s.dead_lettered = 0; s.replayed = 0; s.topic = params.topic; s.key = params.key; }
s[params.counter] += 1;
"""
RELEASE = """
if (ctx._source.replayed >= ctx._source.dead_lettered) { ctx.op = 'delete'; } else { ctx.op = 'noop'; }
"""
BODY = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {
        "properties": {
            "topic": {"type": "keyword"},
            "key": {"type": "keyword"},
            "dead_lettered": {"type": "integer"},
            "replayed": {"type": "integer"},
        }
    },
}


def hold_id(topic: str, key: str) -> str:
    """The document id of a hold."""
    return f"{topic}|{key}"


class Holds:
    """The holds of one consumer group."""

    def __init__(self, client: OpenSearch, group: str) -> None:
        self.client = client
        self.index = holds_index(group)

    def ensure_index(self) -> None:
        """Create the holds index the first time."""
        if not self.client.indices.exists(index=self.index):
            self.client.indices.create(index=self.index, body=BODY)

    def held(self) -> set[tuple[str, str]]:
        """Every held (topic, key), read fresh: a replay may have released some."""
        response = self.client.search(index=self.index, body={"size": 10_000, "query": {"match_all": {}}})
        return {(hit["_source"]["topic"], hit["_source"]["key"]) for hit in response["hits"]["hits"]}

    def count(self, topic: str, key: str, counter: str) -> None:
        """Add one to `dead_lettered` or `replayed` of a hold (creating it), visible to searches at once."""
        self.client.update(
            index=self.index,
            id=hold_id(topic, key),
            body={
                "script": {"source": COUNT, "params": {"topic": topic, "key": key, "counter": counter}},
                "scripted_upsert": True,
                "upsert": {},
            },
            retry_on_conflict=10,
            refresh="wait_for",
        )

    def release_if_caught_up(self, topic: str, key: str) -> bool:
        """Delete the hold if everything dead-lettered for it was replayed; True when it is gone."""
        response = self.client.update(
            index=self.index,
            id=hold_id(topic, key),
            body={"script": {"source": RELEASE}},
            retry_on_conflict=10,
            refresh="wait_for",
            ignore=404,
        )
        return response.get("result") == "deleted" or response.get("status") == 404

    def stats(self) -> dict[str, int]:
        """How many aggregates are held and how many of their dead letters wait for a replay."""
        held = waiting = 0
        response = self.client.search(index=self.index, body={"size": 10_000, "query": {"match_all": {}}})
        for hit in response["hits"]["hits"]:
            held += 1
            waiting += hit["_source"]["dead_lettered"] - hit["_source"]["replayed"]
        return {"held_aggregates": held, "waiting_dead_letters": waiting}
