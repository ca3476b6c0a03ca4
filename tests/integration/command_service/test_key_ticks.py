"""The relay's key-topic ticks on real Kafka: one per partition, and the recent erased markers sent again."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_ERASED, KEY_RECORD_AGGREGATE
from command_service.relay.key_ticks import KeyTicks
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import users
from events.personal_data import KeyRecord, key_record_decode
from events.topics import subject_keys_spec
from tests.integration.command_service.conftest import Writer, pending_count, uow


def _key_topic_after(consumer: KafkaConsumer, start: dict[TopicPartition, int]) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, value) of every key-topic record appended after `start`, read to the end offsets now."""
    for tp, offset in start.items():
        consumer.seek(tp, offset)
    ends = consumer.end_offsets(list(start))
    records = []
    for _ in range(100):  # bounded: a handful of records
        if all(consumer.position(tp) >= end for tp, end in ends.items()):
            return records
        for batch in consumer.poll(timeout_ms=300).values():
            records += [(record.partition, record.key, record.value) for record in batch]
    raise AssertionError("the key topic was not read to its end")


def test_a_tick_reaches_every_partition_and_recent_markers_go_again(
    writer: Writer, kafka_bootstrap_servers: str
) -> None:
    author = writer.user()
    users.user_erase(user_id=author.user_id, actor=author, password="correct-horse", uow=uow())
    publisher = KafkaPublisher(kafka_bootstrap_servers)
    relay = OutboxRelay(publisher, "tick-test", SleepWakeUp(), RelaySettings())
    while pending_count():
        relay.run_once()
    marker = OutboxEvent.objects.get(aggregate_type=KEY_RECORD_AGGREGATE, aggregate_id=str(author.user_id))
    assert marker.event_type == KEY_ERASED[0]  # the erasure deleted the key record, published or not
    spec = subject_keys_spec()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers, enable_auto_commit=False)
    partitions = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
    consumer.assign(partitions)
    start = consumer.end_offsets(partitions)

    ticks = KeyTicks(publisher, interval=3600)
    assert ticks.maybe_tick()
    assert not ticks.maybe_tick()  # not due again for an hour

    appended = _key_topic_after(consumer, start)
    publisher.close()
    consumer.close()
    tick_partitions = sorted(p for p, key, value in appended if key_record_decode(key, value) is None)
    assert tick_partitions == list(range(spec.partitions))
    records = [key_record_decode(key, value) for _, key, value in appended]
    assert KeyRecord(str(author.user_id), None) in records
