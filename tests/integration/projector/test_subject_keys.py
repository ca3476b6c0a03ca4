"""The projector's key ring on real Kafka: a key record that lands a moment after its person's event is waited for."""

from __future__ import annotations

import threading

import pytest
from kafka import KafkaProducer

from events.errors import SubjectKeyUnknown
from events.personal_data import KeyRecord, new_key
from events.topics import subject_keys_spec
from projector.consumer.subject_keys import KafkaKeyRing


def _publish_later(servers: str, record: KeyRecord, after: float) -> threading.Timer:
    def send() -> None:
        producer = KafkaProducer(bootstrap_servers=servers, acks="all")
        producer.send(subject_keys_spec().name, key=record.kafka_key(), value=record.encode())
        producer.flush()
        producer.close()

    timer = threading.Timer(after, send)
    timer.start()
    return timer


def test_a_late_key_record_is_waited_for(kafka_bootstrap_servers: str) -> None:
    ring = KafkaKeyRing(kafka_bootstrap_servers, wait=20).load()
    record = KeyRecord("late-1", new_key())
    timer = _publish_later(kafka_bootstrap_servers, record, after=1.0)
    try:
        assert ring.key_of("late-1") == record.key  # not SubjectKeyUnknown: the wait covers the second
    finally:
        timer.join()
        ring.close()


def test_a_subject_given_up_on_is_found_once_its_key_arrives(kafka_bootstrap_servers: str) -> None:
    ring = KafkaKeyRing(kafka_bootstrap_servers, wait=0.5).load()
    try:
        with pytest.raises(SubjectKeyUnknown):
            ring.key_of("late-2")
        record = KeyRecord("late-2", new_key())
        _publish_later(kafka_bootstrap_servers, record, after=0).join()
        assert ring.key_of("late-2") == record.key
    finally:
        ring.close()
