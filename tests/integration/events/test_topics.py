"""ensure_topics against the real broker: creates what is missing, is idempotent, refuses too few partitions."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from events import EventEnvelope, encode
from events.consumer import Accepted, EventReader
from events.errors import TopicSetupError
from events.topics import EVENT_TOPICS, TopicSpec, dead_letter_spec, ensure_topics, message_key, topic_prefix
from events.types import PostEdited

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def admin(kafka_bootstrap_servers: str) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers, client_id="events-topics-test")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def unique(admin: KafkaAdminClient) -> Iterator[str]:
    """A prefix no other run uses; the topics named with it are deleted afterwards."""
    prefix = f"test-events-{uuid.uuid4().hex[:10]}"
    yield prefix
    mine = [name for name in admin.list_topics() if name.startswith(prefix)]
    if mine:
        admin.delete_topics(mine)


def _partitions(admin: KafkaAdminClient, name: str) -> int:
    (topic,) = admin.describe_topics([name])
    return len(topic["partitions"])


def _cli(servers: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers}
    command = [sys.executable, "-m", "events.topics", *args]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_missing_topics_are_created_with_their_partitions_then_found_present(
    kafka_bootstrap_servers: str, admin: KafkaAdminClient, unique: str
) -> None:
    specs = [TopicSpec(f"{unique}.posts", 12), TopicSpec(f"{unique}.users", 6)]
    dlq = dead_letter_spec(f"{unique}-group")
    first = ensure_topics(kafka_bootstrap_servers, specs=specs, extra=[dlq], timeout=20)
    assert first == {f"{unique}.posts": "created", f"{unique}.users": "created", dlq.name: "created"}
    assert dlq.name == f"{topic_prefix()}{unique}-group.dlq"
    assert [_partitions(admin, s.name) for s in (*specs, dlq)] == [12, 6, 1]
    second = ensure_topics(kafka_bootstrap_servers, specs=specs, extra=[dlq], timeout=20)
    assert set(second.values()) == {"present"}


def test_an_existing_topic_with_fewer_partitions_is_an_error_and_more_is_accepted(
    kafka_bootstrap_servers: str, admin: KafkaAdminClient, unique: str
) -> None:
    small, large = f"{unique}.small", f"{unique}.large"
    admin.create_topics({small: {"num_partitions": 1}, large: {"num_partitions": 4}}, wait_for_metadata=True)
    with pytest.raises(TopicSetupError, match=rf"{small} has 1 partitions, the contract needs at least 3"):
        ensure_topics(kafka_bootstrap_servers, specs=[TopicSpec(small, 3)], timeout=20)
    assert ensure_topics(kafka_bootstrap_servers, specs=[TopicSpec(large, 2)], timeout=20) == {large: "present"}
    assert _partitions(admin, small) == 1  # checking never alters a topic


def test_the_command_line_ensures_the_real_event_topics(kafka_bootstrap_servers: str, admin: KafkaAdminClient) -> None:
    result = _cli(kafka_bootstrap_servers)
    assert result.returncode == 0, result.stderr
    for spec in EVENT_TOPICS.values():
        assert spec.name in result.stdout
        assert _partitions(admin, spec.name) >= spec.partitions


def test_the_command_line_reports_an_unreachable_broker_in_one_line(free_port) -> None:
    result = _cli(f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.startswith("events.topics: ")


def test_events_keyed_by_aggregate_arrive_in_order_and_decode(kafka_bootstrap_servers: str, unique: str) -> None:
    topic = TopicSpec(f"{unique}.posts", 4)
    ensure_topics(kafka_bootstrap_servers, specs=[topic], timeout=20)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    sent = [
        EventEnvelope.create(
            PostEdited(post_id=f"p{n % 3}", title=f"t{n}", content="c"),
            aggregate_version=n + 1,
            correlation_id="c",
            occurred_at=at,
            subject_id="u1",
        )
        for n in range(12)
    ]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    for envelope in sent:
        producer.send(topic.name, key=message_key(envelope), value=encode(envelope))
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        topic.name, bootstrap_servers=kafka_bootstrap_servers, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    records = []
    for _ in range(10):
        records.extend(consumer)
        if len(records) >= len(sent):
            break
    consumer.close()
    reader = EventReader()
    results = [reader.read(record.value) for record in records]
    assert all(isinstance(result, Accepted) for result in results)
    received = [result.envelope for result in results]
    assert sorted(received, key=lambda e: e.aggregate_version) == sent
    for post_id in ("p0", "p1", "p2"):
        assert len({r.partition for r in records if r.key == post_id.encode()}) == 1
        versions = [e.aggregate_version for e in received if e.aggregate_id == post_id]
        assert versions == sorted(versions)
