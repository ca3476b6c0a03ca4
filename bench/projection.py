"""What the projector benchmarks share: a private namespace per sample, producing, the live loop, the raw-bulk peer.

Each sample runs in a `Namespace`: its own EVENTS_TOPIC_PREFIX (topics `<run>.content.*`, the dead-letter topic)
and PROJECTOR_INDEX_PREFIX (read-model aliases and indices, the holds index, the Redis notice stream and freshness
key, all `<run>-...`), and its own consumer group `<run>`. Everything it created is deleted on the way out,
whatever happened. The loop under test is the live projector's, built by `projector.consumer.app.bootstrap`
(Writer on the aliases, dead letters, holds, notices to Redis), so what is measured is today's wiring.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from opensearchpy import OpenSearch, helpers

from bench.support import delete_namespace
from events.consumer import EventReader
from events.envelope import EventEnvelope, encode
from events.personal_data import KeyRecord, new_key
from events.topics import message_key, subject_keys_spec, topic_for
from projector.consumer.app import ProjectorConfig, bootstrap, group_consumer
from projector.consumer.loop import ProjectorLoop
from read_models.documents import public_document
from read_models.indices import alias_of
from read_models.keys import holds_index
from read_models.models import READ_MODELS
from runtime.settings import kafka_bootstrap_servers


@dataclass
class Namespace:
    """One sample's private topics, indices, Redis keys and consumer group (see the module docstring)."""

    run: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")

    @property
    def index_prefix(self) -> str:
        return f"{self.run}-"

    @contextlib.contextmanager
    def active(self) -> Iterator[Namespace]:
        """Set the prefixes for the duration, then delete every topic, index, key and group of the run."""
        saved = {name: os.environ.get(name) for name in ("EVENTS_TOPIC_PREFIX", "PROJECTOR_INDEX_PREFIX")}
        os.environ["EVENTS_TOPIC_PREFIX"] = f"{self.run}."
        os.environ["PROJECTOR_INDEX_PREFIX"] = self.index_prefix
        try:
            yield self
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self.clean()

    def clean(self) -> None:
        """Delete what the run created."""
        delete_namespace(self.run, self.run, self.index_prefix)


def produce(events: list[EventEnvelope], keys: dict[str, bytes] | None = None) -> float:
    """Write the events to their topics (prefix in force), keyed by aggregate; returns seconds.

    With `keys` (subject id -> key), each subject's key record goes to the key topic first and every personal
    payload is sealed under its subject's key, as the outbox writes them; without, payloads go in the clear.
    """
    started = time.monotonic()
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap_servers(), linger_ms=20, batch_size=512 * 1024, acks="all"
    )
    try:
        for subject_id, key in (keys or {}).items():
            record = KeyRecord(subject_id, key)
            producer.send(subject_keys_spec().name, key=record.kafka_key(), value=record.encode())
        producer.flush()
        for event in events:
            key = keys.get(event.subject_id) if keys and event.subject_id else None
            producer.send(topic_for(event.aggregate_type), key=message_key(event), value=encode(event, key))
        producer.flush()
    finally:
        producer.close()
    return time.monotonic() - started


def subject_keys_of(events: list[EventEnvelope]) -> dict[str, bytes]:
    """A fresh key for every subject of `events`."""
    return {subject: new_key() for subject in sorted({e.subject_id for e in events if e.subject_id is not None})}


class Progress:
    """Counts the records the loop consumed, with the time after each batch (a `catch_up` progress object)."""

    def __init__(self) -> None:
        self.n = 0
        self.marks: list[tuple[float, int]] = [(time.monotonic(), 0)]

    def update(self, k: int) -> None:
        self.n += k
        if k:
            self.marks.append((time.monotonic(), self.n))

    def seconds_between(self, low: int, high: int) -> tuple[float, int]:
        """(seconds, records) from the batch that reached `low` records to the batch that reached `high`."""
        start = next((m for m in reversed(self.marks) if m[1] <= low), self.marks[0])
        end = next((m for m in self.marks if m[1] >= high), self.marks[-1])
        return end[0] - start[0], end[1] - start[1]


def live_loop(namespace: Namespace, batch_size: int) -> ProjectorLoop:
    """The live projector's loop in `namespace`, joined to its group, positioned at the (empty) topics' start.

    Joining first keeps the group's join and partition assignment out of the measured time.
    """
    config = ProjectorConfig(group=namespace.run, batch_size=batch_size, batch_timeout=0.5, metrics_port=0)
    loop = bootstrap(config)
    loop.catch_up(timeout=120)  # nothing to read yet: returns once the partitions are assigned
    return loop


def project(loop: ProjectorLoop, expected: int, budget: float) -> tuple[Progress, bool]:
    """Let the loop consume `expected` records or run out of `budget` seconds; returns (progress, finished)."""
    progress = Progress()
    deadline = progress.marks[0][0] + budget
    try:
        while progress.n < expected:
            before = progress.n
            loop.catch_up(timeout=deadline - time.monotonic(), progress=progress)
            if progress.n == before:  # at the end of the topics: fewer records than expected
                break
    except TimeoutError:
        return progress, False
    return progress, progress.n >= expected


def read_floor(namespace: Namespace, expected: int, batch_size: int, budget: float) -> float:
    """Seconds a consumer of a fresh group takes only to poll and read (decode) `expected` records: the floor.

    It joins first (outside the clock), like `live_loop`; what it measures is what any projector built on
    kafka-python and this event contract spends before writing anything.
    """
    consumer = group_consumer(f"{namespace.run}-floor", batch_size)
    reader = EventReader()
    try:
        deadline = time.monotonic() + budget
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=100, max_records=1)  # joins; nothing read is counted (it is re-read below)
        consumer.seek_to_beginning()
        started = time.monotonic()
        seen = 0
        while seen < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=batch_size).values():
                for record in records:
                    reader.read(record.value)
                seen += len(records)
        return time.monotonic() - started
    finally:
        consumer.close(autocommit=False)
        group = f"{namespace.run}-floor"
        delete_namespace(group, group, f"{group}-")  # only the group exists under this name


def read_documents(client: OpenSearch, prefix: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{model: {id: public document}} of every read model behind `prefix`'s aliases."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model in READ_MODELS:
        alias = alias_of(model, prefix)
        client.indices.refresh(index=alias)
        hits = helpers.scan(client, index=alias, query={"query": {"match_all": {}}}, size=1000)
        out[model.name] = {hit["_id"]: public_document(hit["_source"]) for hit in hits}
    return out


def raw_bulk(client: OpenSearch, documents: dict[str, dict[str, dict[str, Any]]], prefix: str) -> tuple[int, float]:
    """The peer: bulk-load the same documents into fresh indices with the same mappings; returns (docs, seconds).

    One client, chunks of 1000, one refresh at the end: what loading the final state directly costs.
    """
    for model in READ_MODELS:
        client.indices.create(index=f"{prefix}raw-{model.name}", body=model.body())
    actions = [
        {"_index": f"{prefix}raw-{model}", "_id": doc_id, "_source": source}
        for model, docs in documents.items()
        for doc_id, source in docs.items()
    ]
    started = time.monotonic()
    helpers.bulk(client, actions, chunk_size=1000, request_timeout=300)
    client.indices.refresh(index=f"{prefix}raw-*")
    return len(actions), time.monotonic() - started


def dead_letters(client: OpenSearch, group: str) -> int:
    """How many aggregates the run's projector held (each one dead-lettered at least one event)."""
    index = holds_index(group)
    if not client.indices.exists(index=index):
        return 0
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])
