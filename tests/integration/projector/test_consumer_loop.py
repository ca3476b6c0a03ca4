"""The projector's consumer loop on real Kafka, OpenSearch and Redis: poison events are dead-lettered with their
reason and origin, the stream keeps moving, a held aggregate's later events wait, and a replay applies them in order.

Events come from the command service's own code, published by the real outbox relay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import RebalanceInProgressError
from opensearchpy import OpenSearch

from command_service.apps.outbox.models import OutboxEvent
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import posts
from events.topics import event_topics, topic_for
from projector.consumer.app import ProjectorConfig, bootstrap, group_consumer, prepare, wait_for_partitions
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.holds import Holds
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.subject_keys import KafkaKeyRing
from projector.consumer.writer import Writer
from read_models.keys import notice_stream
from tests.integration.projector.conftest import register, uow

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"projector-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PROJECTOR_GROUP", name)
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", f"{name}-")
    return name


@pytest.fixture
def loop(group: str, opensearch_url: str, kafka_bootstrap_servers: str, redis_url: str) -> Iterator[ProjectorLoop]:
    loop = bootstrap(ProjectorConfig(group=group, batch_size=200, batch_timeout=0.3, metrics_port=0))
    yield loop
    loop.close()
    loop.writer.client.indices.delete(index=f"{group}-*")


def publish_outbox(servers: str) -> None:
    """Run the real relay until the outbox is drained."""
    relay = OutboxRelay(KafkaPublisher(servers), "test-relay", SleepWakeUp(), RelaySettings())
    while OutboxEvent.objects.filter(sent_at__isnull=True).exists():
        relay.run_once()
    relay.publisher.close()


def drain(loop: ProjectorLoop) -> None:
    """Run batches until the loop has committed every partition of its topics up to its end: its position past the
    last record published proves everything was handled (not a run of passes that found nothing)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        loop.run_once()
        if assignment := list(loop.consumer.assignment()):
            ends = loop.consumer.end_offsets(assignment)
            if all((loop.consumer.committed(tp) or 0) >= end for tp, end in ends.items()):
                return
    raise AssertionError("the loop did not commit every record of its topics within 120 s")


def cli(group: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROJECTOR_GROUP": group, "PROJECTOR_INDEX_PREFIX": f"{group}-"}
    return subprocess.run(
        [sys.executable, "-m", "projector", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def record_at(servers: str, topic: str, partition: int, offset: int) -> bytes:
    """The value of the Kafka record at (topic, partition, offset)."""
    reader = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    where = TopicPartition(topic, partition)
    try:
        reader.assign([where])
        reader.seek(where, offset)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if records := reader.poll(timeout_ms=1000, max_records=1).get(where):
                assert records[0].offset == offset
                return records[0].value
        raise AssertionError(f"no record at {topic}[{partition}]@{offset}")
    finally:
        reader.close()


def title_of(loop: ProjectorLoop, post_id: int) -> str:
    return loop.writer.client.get(index=loop.writer.targets["posts"], id=str(post_id))["_source"]["title"]


def test_poison_events_are_dead_lettered_held_and_replayed_in_order(
    transactional_db: None, loop: ProjectorLoop, group: str, kafka_bootstrap_servers: str, redis_url: str
) -> None:
    author = register(f"poe{uuid.uuid4().hex[:6]}")
    held_post = posts.post_create(actor=author, title="v1", content="c", tags=[], uow=uow()).aggregate_id
    other_post = posts.post_create(actor=author, title="other v1", content="c", tags=[], uow=uow()).aggregate_id
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    assert title_of(loop, held_post) == "v1"

    # The posts index refuses writes (as it would with a full disk): the event fails and is dead-lettered.
    posts_index = loop.writer.targets["posts"]
    loop.writer.client.indices.put_settings(index=posts_index, body={"index": {"blocks.write": True}})
    try:
        posts.post_edit(post_id=held_post, actor=author, title="v2", content="c", uow=uow())
        publish_outbox(kafka_bootstrap_servers)
        drain(loop)
    finally:
        loop.writer.client.indices.put_settings(index=posts_index, body={"index": {"blocks.write": False}})

    # Later events of the held post wait; other aggregates flow; undecodable bytes are parked too.
    posts.post_edit(post_id=held_post, actor=author, title="v3", content="c", uow=uow())
    posts.post_edit(post_id=other_post, actor=author, title="other v2", content="c", uow=uow())
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    producer.send(topic_for("post"), key=b"not-a-post", value=b"\x00 not json")
    producer.close()
    drain(loop)
    assert title_of(loop, held_post) == "v1"
    assert title_of(loop, other_post) == "other v2"

    listing = cli(group, "dead-letters", "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.strip().splitlines()
    assert len(lines) == 3
    assert "failed" in lines[0]
    assert "cluster_block_exception" in lines[0]
    assert "held" in lines[1]
    assert f"key={held_post}" in lines[1]
    assert "undecodable" in lines[2]
    assert "key=not-a-post" in lines[2]
    shown = json.loads(cli(group, "dead-letters", "show", "0").stdout)
    assert shown["origin"]["topic"] == topic_for("post")
    assert (shown["message"]["aggregate_version"], "sealed_payload" in shown["message"]) == (2, True)
    at_origin = json.loads(record_at(kafka_bootstrap_servers, **shown["origin"]))  # where it says it came from
    assert at_origin["event_id"] == shown["message"]["event_id"]

    replay = cli(group, "dead-letters", "replay")
    assert replay.returncode == 1  # applied both held events, then stopped at the bytes no release can read
    assert "stopped at offset 2" in replay.stderr
    assert title_of(loop, held_post) == "v3"
    assert cli(group, "dead-letters", "skip").returncode == 0
    assert cli(group, "dead-letters", "replay").stdout.strip().endswith("replayed 0 dead letters")

    # The hold is released: the post's next event flows directly.
    posts.post_edit(post_id=held_post, actor=author, title="v4", content="c", uow=uow())
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    assert title_of(loop, held_post) == "v4"
    status = cli(group, "status")
    assert '"held_aggregates": 0' in status.stdout  # the skip released the undecodable key's hold too
    assert "3 written, 0 not replayed" in status.stdout


def test_each_applied_event_is_announced_after_it_is_searchable(
    transactional_db: None, loop: ProjectorLoop, kafka_bootstrap_servers: str, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stream = notice_stream()
    start = client.xinfo_stream(stream)["last-generated-id"] if client.exists(stream) else "0-0"
    search, posts_index = loop.writer.client, loop.writer.targets["posts"]
    # No periodic refresh: a search finds a write only once the projector refreshed, as it must before announcing.
    search.indices.put_settings(index=posts_index, body={"index": {"refresh_interval": "-1"}})
    author = register(f"ann{uuid.uuid4().hex[:6]}")
    post_id = posts.post_create(actor=author, title="Announced", content="c", tags=["x"], uow=uow()).aggregate_id
    at_notice: list[tuple[int, int | None]] = []  # (a notice's version, what a search found the moment it came)

    def watch_notices() -> None:
        position, deadline = start, time.monotonic() + 60
        while len(at_notice) < 2 and time.monotonic() < deadline:
            for _, entries in client.xread({stream: position}, block=500) or []:
                for entry_id, fields in entries:
                    position, event = entry_id, json.loads(fields["event"])
                    if (event["aggregate_type"], event["aggregate_id"]) != ("post", str(post_id)):
                        continue
                    query = {"query": {"ids": {"values": [str(post_id)]}}}
                    hits = search.search(index=posts_index, body=query)["hits"]["hits"]  # a search: no realtime get
                    at_notice.append((event["aggregate_version"], hits[0]["_source"]["post_version"] if hits else None))

    watcher = threading.Thread(target=watch_notices)
    watcher.start()
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    posts.post_edit(post_id=post_id, actor=author, title="Announced", content="c, again", uow=uow())
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    watcher.join(60)
    assert [version for version, _ in at_notice] == [1, 2], at_notice
    for version, searchable in at_notice:
        assert (searchable or 0) >= version, f"version {version} announced while a search found {searchable}"
    created = [
        json.loads(fields["document"])
        for _, fields in client.xrange(stream, min=f"({start}")
        if fields["event_type"] == "post.created" and json.loads(fields["event"])["aggregate_id"] == str(post_id)
    ]
    assert created
    assert created[-1]["title"] == "Announced"
    assert "comment_states" not in created[-1]  # bookkeeping stays private


class CommitRefusingConsumer(KafkaConsumer):
    """A real member of the group whose every commit is refused, as a rebalancing member's commits are.

    kafka-python 3.0 can lose the end of a join and leave a member that refuses every commit for ever; no public
    call reaches that state on purpose, so this member stands in for it.
    """

    def commit(self, offsets: object = None, timeout_ms: int | None = None) -> None:
        raise RebalanceInProgressError("refused: this member stands in for one stuck in a rebalance")


def test_a_member_whose_commits_stay_refused_is_replaced_and_nothing_is_lost(
    transactional_db: None, group: str, kafka_bootstrap_servers: str, opensearch_url: str
) -> None:
    author = register(f"rej{uuid.uuid4().hex[:6]}")
    post_id = posts.post_create(actor=author, title="Committed at last", content="c", tags=[], uow=uow()).aggregate_id
    publish_outbox(kafka_bootstrap_servers)
    members: list[KafkaConsumer] = []

    def connect() -> KafkaConsumer:
        if members:
            consumer = group_consumer(group, 200)
        else:
            topics = [spec.name for spec in event_topics().values()]
            consumer = CommitRefusingConsumer(bootstrap_servers=kafka_bootstrap_servers, group_id=group,
                                              enable_auto_commit=False, auto_offset_reset="earliest")  # fmt: skip
            consumer.subscribe(topics)
            wait_for_partitions(consumer, topics)
        members.append(consumer)
        return consumer

    client = OpenSearch(opensearch_url)
    targets = prepare(client, ProjectorConfig(group=group, batch_size=200, batch_timeout=0.3, metrics_port=0))
    settings = LoopSettings(batch_size=200, batch_timeout=0.3, rejoin_after=1.0)
    dead_letters = DeadLetterWriter(kafka_bootstrap_servers, group)
    keys = KafkaKeyRing(kafka_bootstrap_servers).load()
    loop = ProjectorLoop(
        connect, Writer(client, targets), dead_letters, Holds(client, group), None, settings, keys=keys
    )
    try:
        requeued, deadline = 0, time.monotonic() + 60
        while len(members) < 2 and time.monotonic() < deadline:
            requeued += loop.run_once().requeued  # never raises: a refused commit is not an outage
        assert len(members) == 2, "the member whose commits were refused was never replaced"
        assert requeued > 0

        drain(loop)
        assert title_of(loop, post_id) == "Committed at last"
        ends = loop.consumer.end_offsets(list(loop.consumer.assignment()))
        assert {tp: loop.consumer.committed(tp) for tp, end in ends.items() if end} == {
            tp: end for tp, end in ends.items() if end
        }, "the replacement commits everything"
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
        assert len(admin.describe_groups([group])[group]["members"]) == 1, "the refusing member left the group"
        admin.close()
    finally:
        loop.close()
        client.indices.delete(index=f"{group}-*")
