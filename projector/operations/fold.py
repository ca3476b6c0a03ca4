"""A rebuild's fast path: the history folded in memory into its final documents, then bulk-loaded at bulk speed.

Replaying the history through the live Writer pays the Writer's round trips (writes, refreshes, searches) for every
batch of it. Folding runs the same handlers and plans (`projector.consumer.handlers.plan_for`) against documents
held in memory, applied with the apply script's own semantics (`projector.consumer.scripts.apply_in_memory`, field
versions included), so OpenSearch sees one plain bulk load of the final documents; the counts are computed once at
the end from the member documents, under one tick of the shared recount clock, exactly as a recount would. The
events published after the fold's end offsets are then replayed the ordinary way, by a catch-up seeded there.

Sealed payloads are opened with the key ring given (`projector.consumer.subject_keys`); an erased person's are
skipped, as the live path skips them, and so are theirs met after their `user.erased` (`erased_by`). The fold gives
up (returns None) on an event the live path would dead-letter (undecodable, a key not on the key topic, or one its
handler cannot take): dead letters and holds belong to the live path, so the rebuild then replays the whole history the
ordinary way. Memory: the final documents of every read model, about 2 kB each.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from opensearchpy import OpenSearch, helpers

from events.consumer import DeadLetter, Erased, EventReader, Skipped
from events.envelope import EventEnvelope
from events.personal_data import KeyRing
from projector.consumer.counts import COUNTERS, RecountClock, count_upserts
from projector.consumer.documents import field_of
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Recount, Upsert
from projector.consumer.scripts import apply_in_memory
from projector.consumer.subject_keys import erased_by
from read_models.models import READ_MODELS

log = logging.getLogger(__name__)
REWRITE_KEYS = {"posts": ("author.id",), "comments": ("author.id", "post_id")}  # the fields rewrites select by
POLL_RECORDS = 5000
LOAD_CHUNK = 2000


@dataclass
class MemoryModels:
    """The read models' documents held in memory, with the documents each rewrite key selects."""

    documents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {m.name: {} for m in READ_MODELS})
    selected: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def upsert(self, upsert: Upsert) -> dict[str, Any]:
        """Apply one upsert as the apply script would; returns the document."""
        document = apply_in_memory(self.documents[upsert.model].get(upsert.doc_id), upsert)
        self.documents[upsert.model][upsert.doc_id] = document
        for key_field in REWRITE_KEYS.get(upsert.model, ()):
            if (key := field_of(document, key_field)) is not None:
                self.selected[(upsert.model, key_field, str(key))].add(upsert.doc_id)
        return document

    def apply(self, event: EventEnvelope) -> tuple[Recount, ...]:
        """Apply one event and its follow-ups; returns the owners it asks to recount (done once, at the end)."""
        plan = plan_for(event)
        if plan is None:
            return ()
        work = plan.follow(self.upsert(plan.primary))
        for lookup in work.lookups:
            source = self.documents[lookup.model].get(lookup.doc_id)
            if source is not None and (folded := lookup.fold(source)) is not None:
                self.upsert(folded)
        for rewrite in work.rewrites:
            ((key_field, key),) = rewrite.term.items()
            for doc_id in sorted(self.selected.get((rewrite.model, key_field, str(key)), ())):
                if str(field_of(self.documents[rewrite.model][doc_id], key_field)) == str(key):
                    self.upsert(Upsert(rewrite.model, doc_id, facets=(rewrite.facet,)))
        return work.recounts

    def recount(self, owners: set[Recount], tick: int) -> None:
        """Write the counts of `owners`, computed from the member documents, under the recount clock's `tick`."""
        counted: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        for counter in COUNTERS:
            wanted = {owner.doc_id for owner in owners if owner.model == counter.owner}
            if not wanted:
                continue
            ((match_field, match_value),) = counter.counted["term"].items()
            counts: dict[str, int] = dict.fromkeys(wanted, 0)
            newest: dict[str, Any] = dict.fromkeys(wanted)
            for member in self.documents[counter.members].values():
                key = field_of(member, counter.key)
                if key is None or str(key) not in wanted or field_of(member, match_field) != match_value:
                    continue
                counts[str(key)] += 1
                if counter.newest and (value := member.get(counter.newest[1])):
                    newest[str(key)] = max(value, newest[str(key)] or value)
            for owner_id in wanted:
                counted[(counter.owner, owner_id)][counter.field] = counts[owner_id]
                if counter.newest:
                    counted[(counter.owner, owner_id)][counter.newest[0]] = newest[owner_id]
        for upsert in count_upserts(tick, counted):
            self.upsert(upsert)


@dataclass(frozen=True)
class Folded:
    """A history folded: the final documents, and where the topics' partitions stood (the next offset of each)."""

    models: MemoryModels
    offsets: dict[TopicPartition, int]
    events: int


def fold_history(
    client: OpenSearch,
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    *,
    keys: KeyRing | None,
    timeout: float,
    progress: Any,
) -> Folded | None:
    """Fold every event of `partitions`, from the beginning to their end offsets now; None when it must give up.

    Args:
        client: for the recount clock's tick (taken after the last event is folded, before the counts are read).
        consumer: a consumer of no group; it is assigned the partitions and left positioned at their ends.
        partitions: the event topics' partitions.
        keys: the subject keys sealed payloads are opened with (a `KafkaKeyRing`, loaded).
        timeout: seconds the fold may take.
        progress: a tqdm-like bar (`update(n)`).
    """
    consumer.assign(partitions)
    ends = consumer.end_offsets(partitions)
    consumer.seek_to_beginning(*partitions)
    models, reader, owners = MemoryModels(), EventReader(keys=keys), set()
    deadline, events = time.monotonic() + timeout, 0
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the history was not folded within {timeout:.0f} s")
        for tp, records in consumer.poll(timeout_ms=1000, max_records=POLL_RECORDS).items():
            for record in records:
                if record.offset >= ends[tp]:
                    break
                outcome = reader.read(record.value)
                if isinstance(outcome, Skipped | Erased):
                    continue
                if isinstance(outcome, DeadLetter):
                    log.warning("fold stopped at %s:%s@%s (%s): replaying instead", tp.topic, tp.partition,
                                record.offset, outcome.reason)  # fmt: skip
                    return None
                try:
                    owners.update(models.apply(outcome.envelope))
                    erased_by(keys, [outcome.envelope])
                except Exception as exc:  # the live path dead-letters it: leave it to that path
                    log.warning("fold stopped at %s:%s@%s (%r): replaying instead", tp.topic, tp.partition,
                                record.offset, exc)  # fmt: skip
                    return None
                events += 1
            progress.update(len(records))
    models.recount(owners, RecountClock(client).tick())
    return Folded(models, {tp: ends[tp] for tp in partitions}, events)


def load(client: OpenSearch, targets: dict[str, str], models: MemoryModels) -> int:
    """Bulk-index the folded documents into `targets` (plain index operations); returns how many were refused."""

    def actions() -> Iterator[dict[str, Any]]:
        for model, documents in models.documents.items():
            for doc_id, document in documents.items():
                yield {"_index": targets[model], "_id": doc_id, "_source": document}

    refused = 0
    for ok, item in helpers.streaming_bulk(
        client, actions(), chunk_size=LOAD_CHUNK, raise_on_error=False, max_retries=5, initial_backoff=1
    ):
        if not ok:
            refused += 1
            log.warning("the folded document was refused: %s", str(item)[:500])
    return refused
