"""Nothing wedges the projector, on real Kafka and OpenSearch: a follow-up write OpenSearch refuses for good
dead-letters its event with a hold and the stream moves on; holds survive a crash at any step between counting
and committing (the batch is redelivered and counted once), a replay releases them; no cap on how many holds are read.

Faults are real: an index made read-only (`index.blocks.write`), as a full disk makes it. A crash is either the
loop's own steps carried out up to the crash point and the loop then dropped uncommitted, or a real SIGKILL.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaConsumer, TopicPartition
from opensearchpy import OpenSearch

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE, subject_key_ring
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import comments, posts, users
from events.envelope import decode
from events.topics import dead_letter_topic, event_topics, topic_for
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.consumer.dead_letters import Origin, record_of
from projector.consumer.holds import Holds
from projector.consumer.loop import ProjectorLoop
from projector.consumer.writer import Writer
from read_models.indices import alias_of
from read_models.models import COMMENTS
from tests.integration.projector.conftest import ReadModels, register, uow
from tests.integration.projector.test_consumer_loop import cli, drain, publish_outbox, title_of
from tests.integration.projector.test_projector_process import _publish, _verify_until_clean, _write_posts


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch, private_projector: ProjectorConfig) -> str:
    """A group of its own over topics of its own (`private_projector` deletes both at the end)."""
    monkeypatch.setenv("PROJECTOR_GROUP", private_projector.group)
    return private_projector.group


@pytest.fixture
def config(group: str) -> ProjectorConfig:
    return ProjectorConfig(group=group, batch_size=200, batch_timeout=0.3, metrics_port=0)


@pytest.fixture
def loop(config: ProjectorConfig, opensearch_url: str, kafka_bootstrap_servers: str) -> Iterator[ProjectorLoop]:
    loop = bootstrap(config)
    yield loop
    loop.close()


def _write_blocked(client: OpenSearch, index: str, blocked: bool) -> None:
    client.indices.put_settings(index=index, body={"index": {"blocks.write": blocked}})


def _dead_letters(servers: str, group: str) -> list:
    reader = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, consumer_timeout_ms=2000)
    tp = TopicPartition(dead_letter_topic(group), 0)
    reader.assign([tp])
    reader.seek(tp, 0)
    records = [record_of(message) for message in reader]
    reader.close()
    return records


def test_holds_are_read_past_one_page_and_count_each_origin_once(loop: ProjectorLoop, group: str) -> None:
    holds = Holds(loop.holds.client, group, page_size=3)
    for n in range(7):
        holds.hold("t", f"key-{n}", 0, n)
    holds.hold("t", "key-0", 1, 99)
    holds.hold("t", "key-0", 1, 99)  # a redelivered batch holds the same origin again: counted once
    assert holds.held() == {("t", f"key-{n}") for n in range(7)}
    assert holds.stats() == {"held_aggregates": 7, "waiting_dead_letters": 8}
    assert not holds.release("t", "key-0", 0, 0)  # one of its two dead letters replayed: still held
    assert not holds.release("t", "key-0", 0, 0)  # replayed twice (a duplicate dead letter): nothing more
    assert holds.release("t", "key-0", 1, 99)
    assert holds.release("t", "key-0", 1, 99)  # releasing never creates a hold
    assert holds.stats() == {"held_aggregates": 6, "waiting_dead_letters": 6}


def test_a_follow_up_refused_for_good_dead_letters_its_event_and_the_stream_moves_on(
    transactional_db: None, loop: ProjectorLoop, group: str, kafka_bootstrap_servers: str
) -> None:
    author = register(f"fol{uuid.uuid4().hex[:6]}")
    post_id = posts.post_create(actor=author, title="Post", content="c", tags=[], uow=uow()).aggregate_id
    posts.post_publish(post_id=post_id, actor=author, uow=uow())
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    client, targets = loop.writer.client, loop.writer.targets

    # The comment's own document is written, its post's count (a follow-up) is refused; so is the rename's rewrite.
    _write_blocked(client, targets["posts"], True)
    try:
        first = comments.comment_add(post_id=post_id, actor=author, body="one", uow=uow()).aggregate_id
        comments.comment_edit(comment_id=first, actor=author, body="one, edited", uow=uow())
        users.user_profile_change(user_id=author.user_id, actor=author, display_name="Renamed", uow=uow())
        bystander = register(f"by{uuid.uuid4().hex[:6]}")
        publish_outbox(kafka_bootstrap_servers)
        drain(loop)  # committed: the partition moved on
    finally:
        _write_blocked(client, targets["posts"], False)
    assert client.get(index=targets["authors"], id=str(bystander.user_id))["_source"]["registered"]
    second = comments.comment_add(post_id=post_id, actor=author, body="two", uow=uow()).aggregate_id
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    assert client.get(index=targets["comments"], id=str(second))["_source"]["body"] == "two"
    # Counted from the comments' own documents: the first comment's was written, only its post's recount was refused.
    assert client.get(index=targets["posts"], id=str(post_id))["_source"]["comment_count"] == 2

    # Dead letters of different topics may interleave either way; within one aggregate they keep their order.
    letters = _dead_letters(kafka_bootstrap_servers, group)
    comment_letters = [x for x in letters if (x.origin.topic, x.key) == (event_topics()["comment"].name, str(first))]
    user_letters = [x for x in letters if (x.origin.topic, x.key) == (event_topics()["user"].name, str(author.user_id))]
    assert (len(comment_letters), len(user_letters), len(letters)) == (2, 1, 3)
    assert comment_letters[0].kind == "failed"  # the edit follows it: in its batch as failed, in a later one as held
    assert "follow-up write of posts" in comment_letters[0].reason
    assert "cluster_block_exception" in comment_letters[0].reason
    assert "follow-up write of posts" in user_letters[0].reason  # the rename reaching the post, as an upsert
    assert loop.holds.stats() == {"held_aggregates": 2, "waiting_dead_letters": 3}

    replay = cli(group, "dead-letters", "replay")
    assert replay.returncode == 0, replay.stderr
    post = client.get(index=targets["posts"], id=str(post_id))["_source"]
    assert post["comment_count"] == 2
    assert post["author"]["display_name"] == "Renamed"
    assert client.get(index=targets["comments"], id=str(first))["_source"]["body"] == "one, edited"
    assert loop.holds.stats() == {"held_aggregates": 0, "waiting_dead_letters": 0}


@pytest.mark.parametrize("crash", ["after the hold", "after the dead letter"])
def test_a_crash_between_the_steps_leaves_holds_a_replay_releases(
    transactional_db: None, config: ProjectorConfig, loop: ProjectorLoop, kafka_bootstrap_servers: str, crash: str
) -> None:
    author = register(f"cr{uuid.uuid4().hex[:6]}")
    post_id = posts.post_create(actor=author, title="v1", content="c", tags=[], uow=uow()).aggregate_id
    publish_outbox(kafka_bootstrap_servers)
    drain(loop)
    client, posts_index = loop.writer.client, loop.writer.targets["posts"]
    _write_blocked(client, posts_index, True)
    posts.post_edit(post_id=post_id, actor=author, title="v2", content="c", uow=uow())
    posts.post_edit(post_id=post_id, actor=author, title="v3", content="c", uow=uow())
    publish_outbox(kafka_bootstrap_servers)

    # The loop's steps for the failing v2, in its order, up to the crash; then it dies without committing.
    records, deadline = [], time.monotonic() + 30
    while len(records) < 2 and time.monotonic() < deadline:
        for batch in loop.consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    v2 = next(record for record in records if decode(record.value, subject_key_ring()).aggregate_version == 2)
    origin = Origin(topic_for("post"), v2.partition, v2.offset)
    loop.holds.hold(origin.topic, str(post_id), origin.partition, origin.offset)
    if crash == "after the dead letter":
        loop.dead_letters.send(v2.key, v2.value, reason="failed before the crash", kind="failed", origin=origin)
        loop.dead_letters.flush()
    loop.consumer.close(autocommit=False)

    restarted = bootstrap(config)  # the batch is redelivered: v2 is found held and dead-lettered again, v3 too
    try:
        drain(restarted)
        _write_blocked(client, posts_index, False)
        assert restarted.holds.stats() == {"held_aggregates": 1, "waiting_dead_letters": 2}  # v2 counted once
        letters = _dead_letters(kafka_bootstrap_servers, config.group)
        copies = 2 if crash == "after the dead letter" else 1
        assert [letter.origin for letter in letters].count(origin) == copies
        replay = cli(config.group, "dead-letters", "replay")
        assert replay.returncode == 0, replay.stderr
        assert title_of(restarted, post_id) == "v3"
        assert restarted.holds.stats() == {"held_aggregates": 0, "waiting_dead_letters": 0}
        posts.post_edit(post_id=post_id, actor=author, title="v4", content="c", uow=uow())
        publish_outbox(kafka_bootstrap_servers)
        drain(restarted)
        assert title_of(restarted, post_id) == "v4"  # no longer held
    finally:
        _write_blocked(client, posts_index, False)
        restarted.close()


def _lag(servers: str, group: str) -> int:
    """Records of the event topics the group has not committed (read as `projector status` reads them)."""
    reader = KafkaConsumer(bootstrap_servers=servers, group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(spec.name, p) for spec in event_topics().values()
                      for p in reader.partitions_for_topic(spec.name) or ()]  # fmt: skip
        return sum(end - (reader.committed(tp) or 0) for tp, end in reader.end_offsets(partitions).items())
    finally:
        reader.close(autocommit=False)


def test_a_projector_killed_among_dead_letters_leaves_no_stuck_hold_after_a_replay(
    transactional_db: None, start_projector: Callable[[], subprocess.Popen], private_projector: ProjectorConfig,
    kafka_bootstrap_servers: str, opensearch_url: str,
) -> None:  # fmt: skip
    group, client = private_projector.group, OpenSearch(opensearch_url)
    first = start_projector()
    while not client.indices.exists_alias(name=alias_of(COMMENTS)):
        assert first.poll() is None, "the projector died at start-up"
        time.sleep(0.2)
    _write_blocked(client, alias_of(COMMENTS), True)  # every comment fails: 60 dead letters, each with its hold
    relay = OutboxRelay(KafkaPublisher(kafka_bootstrap_servers), "test-relay", SleepWakeUp(), RelaySettings())
    try:
        _write_posts(60)
        _publish(relay)
        holds, deadline = Holds(client, group), time.monotonic() + 90
        while holds.stats()["held_aggregates"] < 10:
            assert time.monotonic() < deadline, "no dead letters within 90 s"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_projector()
        deadline = time.monotonic() + 120
        while _lag(kafka_bootstrap_servers, group):
            assert time.monotonic() < deadline, "the restarted projector did not catch up within 120 s"
            time.sleep(0.5)
    finally:
        _write_blocked(client, alias_of(COMMENTS), False)
        relay.publisher.close()
    assert holds.stats()["held_aggregates"] == 60
    replay = cli(group, "dead-letters", "replay")
    assert replay.returncode == 0, replay.stderr
    assert holds.stats() == {"held_aggregates": 0, "waiting_dead_letters": 0}
    report = _verify_until_clean(client, timeout=60)
    assert report.ok, report.text()
    assert second.poll() is None
    assert len(_dead_letters(kafka_bootstrap_servers, group)) >= 60  # duplicates of a killed batch are harmless


def test_a_bulk_too_large_for_opensearch_is_halved_until_it_goes_through(
    transactional_db: None, new_read_models: Callable[[], ReadModels], opensearch_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    models = new_read_models()
    author = register(f"big{uuid.uuid4().hex[:6]}")
    for n in range(200):  # ~19 MB of posts in one batch
        posts.post_create(actor=author, title=f"Big {n}", content="word " * 19_000, tags=[], uow=uow())
    rows = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE).order_by("id")
    events = [decode(bytes(row.payload), subject_key_ring()) for row in rows]
    writer = Writer(OpenSearch(opensearch_url, timeout=60), models.targets, max_attempts=2, max_backoff=0.2)
    # A real refusal: OpenSearch's in-flight requests breaker turns away any request over its limit with a 429.
    breaker = "network.breaker.inflight_requests.limit"
    models.client.cluster.put_settings(body={"transient": {breaker: "4mb"}})
    try:
        with caplog.at_level(logging.WARNING, logger="projector.consumer.writer"):
            applied, failed = writer.apply(events)
    finally:
        models.client.cluster.put_settings(body={"transient": {breaker: None}})
    assert not failed
    assert len(applied) == len(events)
    assert any("halving" in message and "circuit breaker" in message for message in caplog.messages)
    models.client.indices.refresh(index=models.targets["posts"])
    assert models.client.count(index=models.targets["posts"])["count"] == 200
