"""Kafka is the real broker: partitions, the idempotent producer with acks=all, group commits and resumption."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from projector.consumer.app import wait_for_partitions

PARTITIONS = 3


@pytest.fixture
def topic(kafka_bootstrap_servers: str) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers, client_id="smoke-admin")
    admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
    try:
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


def _consumer(servers: str, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )


def _drain(consumer: KafkaConsumer, expected: int) -> list:
    """Read until `expected` records arrived or the consumer stays idle past its timeout."""
    records = []
    for _ in range(10):  # joining the group may take more than one idle timeout
        records.extend(consumer)
        if len(records) >= expected:
            break
    return records


def test_topic_has_the_partitions_it_was_created_with(kafka_bootstrap_servers: str, topic: str) -> None:
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers)
    try:
        # Creating a topic is asynchronous: the broker reports its partitions once their leaders are elected.
        wait_for_partitions(consumer, [topic], timeout=30)
        assert consumer.partitions_for_topic(topic) == set(range(PARTITIONS))
    finally:
        consumer.close()


def test_group_consumer_resumes_from_its_committed_offset(kafka_bootstrap_servers: str, topic: str) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    keys = [f"aggregate-{n % 4}".encode() for n in range(20)]
    for n, key in enumerate(keys):
        producer.send(topic, key=key, value=f"{n}".encode())
    producer.flush()
    producer.close()

    group = f"smoke-group-{uuid.uuid4().hex[:8]}"
    first = _consumer(kafka_bootstrap_servers, topic, group)
    seen = _drain(first, expected=20)
    first.commit()
    first.close()
    assert sorted(int(record.value) for record in seen) == list(range(20))
    # Same key, same partition, in the order produced: the per-aggregate order the whole system relies on.
    for key in set(keys):
        in_partition = [r for r in seen if r.key == key]
        assert len({r.partition for r in in_partition}) == 1
        assert [int(r.value) for r in in_partition] == sorted(int(r.value) for r in in_partition)

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    for n in range(20, 25):
        producer.send(topic, key=b"aggregate-0", value=f"{n}".encode())
    producer.flush()
    producer.close()

    second = _consumer(kafka_bootstrap_servers, topic, group)
    resumed = _drain(second, expected=5)
    committed = {p: second.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
    second.close()
    assert sorted(int(record.value) for record in resumed) == [20, 21, 22, 23, 24]
    assert sum(offset or 0 for offset in committed.values()) == 20
