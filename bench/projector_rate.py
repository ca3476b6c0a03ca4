"""Projector throughput vs a raw bulk load of the same final documents, and the rate of a full build from topics.

Needs the local services (`make services`). Run: `make bench-projector` (or `uv run python -m bench.projector_rate
--posts 100000`). It writes a synthetic history (users, then per post: created, published and 5 comments) as
contract-valid events to topics of its own (EVENTS_TOPIC_PREFIX=bench-...), projects them from the start into
fresh read models exactly as a rebuild's build phase does (the projector's own loop and writer, no notices), then
bulk-loads the resulting documents into plain indices with the same mappings, and prints both rates. Everything it
creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from opensearchpy import OpenSearch, helpers

from events.envelope import EventEnvelope, encode
from events.topics import dead_letter_spec, ensure_topics, message_key, topic_for
from events.types import AuthorSnapshot, CommentAdded, PostCreated, PostPublished, UserRegistered
from projector.consumer.app import group_consumer
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.holds import Holds
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.scripts import install_scripts
from projector.consumer.writer import Writer
from projector.operations.indices import create_indices
from read_models.documents import public_document
from read_models.models import READ_MODELS
from runtime.settings import kafka_bootstrap_servers, opensearch_url

COMMENTS_PER_POST = 5


def history(posts: int, users: int) -> list[EventEnvelope]:
    """A plausible history: users register, then each post is created, published and commented on 5 times."""
    rng = random.Random(1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[EventEnvelope] = []
    snapshots = []
    for n in range(1, users + 1):
        payload = UserRegistered(user_id=str(n), username=f"user{n}", display_name=f"User {n}", avatar_url=None, bio="")
        events.append(EventEnvelope.create(payload, aggregate_version=1, correlation_id="bench", occurred_at=start))
        snapshots.append(AuthorSnapshot(str(n), f"user{n}", f"User {n}", None, 1))
    comment_id = 0
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "the",
        "lazy",
        "dog",
        "while",
        "projectors",
        "write",
        "documents",
    ]
    for post in range(1, posts + 1):
        at = start + timedelta(seconds=post)
        author = rng.choice(snapshots)
        content = " ".join(rng.choice(words) for _ in range(120))
        created = PostCreated(str(post), author, f"Post {post} about {rng.choice(words)}", content, ("bench",), at)
        events.append(EventEnvelope.create(created, aggregate_version=1, correlation_id="bench", occurred_at=at))
        published = PostPublished(str(post), at)
        events.append(EventEnvelope.create(published, aggregate_version=2, correlation_id="bench", occurred_at=at))
        for _ in range(COMMENTS_PER_POST):
            comment_id += 1
            added = CommentAdded(str(comment_id), str(post), rng.choice(snapshots), "a comment " * 5, at)
            events.append(EventEnvelope.create(added, aggregate_version=1, correlation_id="bench", occurred_at=at))
    return events


def produce(events: list[EventEnvelope], servers: str) -> float:
    """Write the events to their topics; returns seconds."""
    started = time.monotonic()
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=20, batch_size=512 * 1024, acks="all")
    for event in events:
        producer.send(topic_for(event.aggregate_type), key=message_key(event), value=encode(event))
    producer.flush()
    producer.close()
    return time.monotonic() - started


def project(client: OpenSearch, targets: dict[str, str], servers: str, group: str, batch: int) -> tuple[int, float]:
    """Project every event from the start, as a rebuild's build phase does; returns (events, seconds)."""
    holds = Holds(client, group)
    holds.ensure_index()
    dead_letters = DeadLetterWriter(servers, group)
    loop = ProjectorLoop(
        partial(group_consumer, group, batch), Writer(client, targets), dead_letters, holds, None, LoopSettings(batch)
    )

    class Count:
        n = 0

        def update(self, k: int) -> None:
            self.n += k

    counter = Count()
    started = time.monotonic()
    loop.catch_up(progress=counter)
    seconds = time.monotonic() - started
    loop.close()
    return counter.n, seconds


def raw_bulk(client: OpenSearch, targets: dict[str, str], prefix: str) -> tuple[int, float]:
    """Bulk-load the projected documents (without bookkeeping) into plain indices; returns (documents, seconds)."""
    docs = []
    for model in READ_MODELS:
        for hit in helpers.scan(client, index=targets[model.name], query={"query": {"match_all": {}}}):
            source = public_document(hit["_source"])
            docs.append({"_index": f"{prefix}raw-{model.name}", "_id": hit["_id"], "_source": source})
    for model in READ_MODELS:
        client.indices.create(index=f"{prefix}raw-{model.name}", body=model.body())
    started = time.monotonic()
    helpers.bulk(client, docs, chunk_size=1000, request_timeout=120)
    client.indices.refresh(index=f"{prefix}raw-*")
    return len(docs), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    run = f"bench-{uuid.uuid4().hex[:6]}"
    os.environ["EVENTS_TOPIC_PREFIX"] = f"{run}."
    servers, client = kafka_bootstrap_servers(), OpenSearch(opensearch_url(), timeout=120)
    ensure_topics(servers, extra=[dead_letter_spec(run)])
    install_scripts(client)
    try:
        events = history(args.posts, args.users)
        produce_seconds = produce(events, servers)
        targets = create_indices(client, prefix=f"{run}-")
        count, project_seconds = project(client, targets, servers, run, args.batch)
        documents, bulk_seconds = raw_bulk(client, targets, f"{run}-")
    finally:
        client.indices.delete(index=f"{run}-*", ignore_unavailable=True)
        admin = KafkaAdminClient(bootstrap_servers=servers)
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(f"{run}.")])
        admin.close()
    print(f"history: {args.posts} posts x (created, published, {COMMENTS_PER_POST} comments) + {args.users} users "
          f"= {len(events)} events, produced in {produce_seconds:.1f} s")  # fmt: skip
    print(f"projector (build from topics): {count} events in {project_seconds:.1f} s = {count / project_seconds:.0f} "
          f"events/s, {documents / project_seconds:.0f} documents/s")  # fmt: skip
    print(f"raw bulk of the same {documents} final documents: {bulk_seconds:.1f} s = {documents / bulk_seconds:.0f} "
          f"documents/s")  # fmt: skip
    print(f"projector time / raw bulk time: {project_seconds / bulk_seconds:.1f}")


if __name__ == "__main__":
    main()
