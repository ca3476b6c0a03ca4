"""Counts recomputed from the member documents, never kept as state: the cost of an event does not grow with history.

A post's `comment_count` and `last_commented_at`, an author's `comment_count` and `published_post_count` are read
from the documents they count (the comments and posts read models already hold one document per member, each
version-guarded). Handlers name the owners an event may change (`projector.consumer.plans.Recount`); once a batch's
own documents are searchable, the writer recounts the touched owners with one aggregation per counter for the whole
batch (`recount_searches`) and writes the results (`count_upserts`). Nothing grows inside an owner's document, and
no script's work depends on its history; an aggregation's work grows with the members it counts, once per batch.

Order-safety, with any number of writers (replicas, a rebuild sharing the new indices after its swap): every
recount first advances a shared recount clock (`CLOCK_SOURCE`, one counter document in OpenSearch, strictly
increasing across all writers) and only then reads; its counts are written under a facet guarded by that tick, so
an owner keeps the counts of the latest tick. The latest tick's read saw every member change: a change it missed
became searchable after that read, hence after that tick, and the recount requested after the change took a later
tick. Duplicates and replays only recount again; a crash before the recount redelivers the batch, which recounts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from projector.consumer.plans import Facet, Recount, Upsert
from read_models.keys import clock_index

CLOCK_GUARD = "count_clock"  # the owner document's field holding the tick of its latest counts
CLOCK_DOC = "recounts"
# Strictly increasing and never behind the wall clock (microseconds): deleting the clock index does not step back.
CLOCK_SOURCE = "long n = ctx._source.n == null ? 0L : ((Number) ctx._source.n).longValue(); ctx._source.n = Math.max(n + 1L, params.now);"  # noqa: E501
CLOCK_INDEX_BODY = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {"dynamic": "strict", "properties": {"n": {"type": "long", "index": False}}},
}
CHUNK = 500  # owners per aggregation
NEWEST_HITS = 3  # dates are indexed to the millisecond: the newest member's exact text is the max of a few hits


@dataclass(frozen=True)
class Counter:
    """One counted field: how many `members` documents name the owner in `key` and match `counted`.

    Attributes:
        owner: the read model holding the count.
        field: the count's field.
        members: the read model counted.
        key: the member field holding the owner's id.
        counted: the query clause of the members that count.
        newest: (owner field, member field): also keep the newest counted member's value of that field.
    """

    owner: str
    field: str
    members: str
    key: str
    counted: dict[str, Any]
    newest: tuple[str, str] | None = None


COUNTERS = (
    Counter("posts", "comment_count", "comments", "post_id", {"term": {"deleted": False}},
            newest=("last_commented_at", "created_at")),
    Counter("authors", "comment_count", "comments", "author.id", {"term": {"deleted": False}}),
    Counter("authors", "published_post_count", "posts", "author.id", {"term": {"status": "published"}}),
)  # fmt: skip
OWNER_DEFAULTS = {"authors": {"registered": False}}  # an author counted before registering stays unlisted


@dataclass(frozen=True)
class Search:
    """One aggregation: `counter` over the owners `ids`, as a search of the `counter.members` read model."""

    counter: Counter
    ids: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        """The search body: the counted members of these owners, bucketed by owner."""
        buckets: dict[str, Any] = {"terms": {"field": self.counter.key, "size": len(self.ids),
                                             "shard_size": len(self.ids)}}  # fmt: skip
        if self.counter.newest:
            member_field = self.counter.newest[1]
            buckets["aggs"] = {"newest": {"top_hits": {
                "size": NEWEST_HITS, "sort": [{member_field: "desc"}], "_source": [member_field]}}}  # fmt: skip
        query = {"bool": {"filter": [{"terms": {self.counter.key: list(self.ids)}}, self.counter.counted]}}
        return {"size": 0, "track_total_hits": False, "query": query, "aggs": {"owners": buckets}}


def recount_searches(recounts: Iterable[Recount]) -> list[Search]:
    """The aggregations that recount these owners: per counter of their read model, CHUNK owners at a time."""
    owners: dict[str, set[str]] = {}
    for recount in recounts:
        owners.setdefault(recount.model, set()).add(recount.doc_id)
    searches = []
    for counter in COUNTERS:
        ids = sorted(owners.get(counter.owner, ()))
        searches.extend(Search(counter, tuple(ids[i : i + CHUNK])) for i in range(0, len(ids), CHUNK))
    return searches


def counts_of(search: Search, response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields each owner of `search` gets from its response (zero and None for owners without members)."""
    counter = search.counter
    found = {str(bucket["key"]): bucket for bucket in response["aggregations"]["owners"]["buckets"]}
    counts = {}
    for owner_id in search.ids:
        bucket = found.get(owner_id)
        fields: dict[str, Any] = {counter.field: bucket["doc_count"] if bucket else 0}
        if counter.newest:
            owner_field, member_field = counter.newest
            values = [hit["_source"].get(member_field) for hit in bucket["newest"]["hits"]["hits"]] if bucket else []
            fields[owner_field] = max((value for value in values if value), default=None)
        counts[owner_id] = fields
    return counts


def count_upserts(tick: int, counted: dict[tuple[str, str], dict[str, Any]]) -> list[Upsert]:
    """The writes of recounted owners ({(model, id): fields}), guarded by the recount's tick."""
    return [
        Upsert(model, doc_id, facets=(Facet(CLOCK_GUARD, tick, fields),), defaults=OWNER_DEFAULTS.get(model, {}))
        for (model, doc_id), fields in sorted(counted.items())
    ]


class RecountClock:
    """The shared recount clock: one counter document every writer of the read models advances before it recounts."""

    def __init__(self, client: OpenSearch) -> None:
        self.client = client
        self._ready = False

    def tick(self) -> int:
        """Advance the clock and return its new value (creating its index the first time)."""
        if not self._ready:
            if not self.client.indices.exists(index=clock_index()):
                try:
                    self.client.indices.create(index=clock_index(), body=CLOCK_INDEX_BODY)
                except RequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
            self._ready = True
        script = {"source": CLOCK_SOURCE, "params": {"now": time.time_ns() // 1000}}
        response = self.client.update(
            index=clock_index(), id=CLOCK_DOC, body={"script": script, "scripted_upsert": True, "upsert": {}},
            retry_on_conflict=50, params={"_source": "true"},
        )  # fmt: skip
        return int(response["get"]["_source"]["n"])
