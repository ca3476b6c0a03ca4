"""The subject keys the projector opens sealed payloads with, read from the key topic (`events.personal_data`).

A `KafkaKeyRing` reads the compacted key topic (`events.topics.subject_keys_spec`) with a consumer of no group
(`assign`, every partition): the first `refresh` from the beginning, each later one from where the last stopped, in
both cases to the end offsets the topic had when it was called. It is loaded once at start-up (`load`); afterwards
the reader refreshes it only when an event names a subject it does not know yet (`KeyRing.key_of`), so the cost of a
refresh is the records published since the last one.

A subject still unknown after a refresh is waited for, refreshing every `KEY_WAIT_STEP` s for up to `wait` s, before
the event is given up as `SubjectKeyUnknown` (dead-lettered): the key record travels on its own topic and partition,
so an event can be appended, and read, a moment before its person's key record (another produce request of the same
relay batch, or another relay's shard that publishes a pass later). A subject given up on is not waited for again,
so a key record that is really lost costs one wait, not one per event, until a record of that subject arrives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition

from events.envelope import EventEnvelope
from events.errors import SubjectKeyUnknown, UndecodableEvent
from events.personal_data import KeyRecord, KeyRing, key_record_decode
from events.topics import subject_keys_spec

log = logging.getLogger(__name__)
POLL_MS = 500
REFRESH_TIMEOUT = 120.0  # seconds one refresh may take before it gives up (a key topic holds one record a person)
ERASED_EVENT = "user.erased"
# How long an unknown subject's key is waited for: above a relay's poll interval (1 s) plus a lease takeover (15 s).
KEY_WAIT_SECONDS = 20.0
KEY_WAIT_STEP = 0.2


class KafkaKeyRing(KeyRing):
    """A KeyRing fed from the key topic; not thread-safe (one per consumer, like its `EventReader`)."""

    def __init__(
        self, bootstrap_servers: str, *, timeout: float = REFRESH_TIMEOUT, wait: float = KEY_WAIT_SECONDS
    ) -> None:
        super().__init__()
        self.bootstrap_servers = bootstrap_servers
        self.timeout = timeout
        self.wait = wait
        self._given_up: set[str] = set()
        self._consumer: KafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []

    def key_of(self, subject_id: str, *, event_type: str = "", aggregate: str = "") -> bytes:
        """The subject's key, waited for up to `wait` s when unknown (see the module docstring)."""
        deadline = time.monotonic() + (0.0 if subject_id in self._given_up else self.wait)
        while True:
            try:
                return super().key_of(subject_id, event_type=event_type, aggregate=aggregate)
            except SubjectKeyUnknown:
                if time.monotonic() >= deadline:
                    self._given_up.add(subject_id)
                    raise
                time.sleep(KEY_WAIT_STEP)

    def load(self) -> KafkaKeyRing:
        """Read the whole key topic (start-up); returns the ring."""
        self.refresh()
        return self

    def refresh(self) -> None:
        """Apply every record published since the last refresh, up to the topic's end offsets now."""
        consumer = self._consumer or self._connect()
        ends = consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + self.timeout
        while any(consumer.position(tp) < ends[tp] for tp in self._partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the key topic was not read to its end within {self.timeout:.0f} s")
            for records in consumer.poll(timeout_ms=POLL_MS).values():
                for record in records:
                    self._take(record.key, record.value, record.offset)

    def _take(self, key: bytes | None, value: bytes | None, offset: int) -> None:
        try:
            record = key_record_decode(key, value)
        except UndecodableEvent as exc:
            log.warning("key topic record at offset %s skipped: %s", offset, exc.reason)
            return
        if record is not None:  # None: a tick
            self.apply(record)
            self._given_up.discard(record.subject_id)  # their key arrived after all

    def _connect(self) -> KafkaConsumer:
        topic = subject_keys_spec().name
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False)
        deadline = time.monotonic() + self.timeout
        while not (partitions := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                consumer.close()
                raise RuntimeError(f"Kafka did not report the partitions of {topic} within {self.timeout:.0f} s")
            consumer.topics()  # a fresh metadata request
            time.sleep(0.2)
        self._partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(self._partitions)
        consumer.seek_to_beginning(*self._partitions)
        self._consumer = consumer
        return consumer

    def close(self) -> None:
        """Close the consumer (a later refresh reconnects and reads the topic from the beginning again)."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def erased_by(keys: KeyRing | None, applied: Iterable[EventEnvelope]) -> list[str]:
    """The people the applied events erased, known to `keys` as erased from now on.

    The key topic's marker may reach the ring later than the `user.erased` event; from here on the person's sealed
    events are skipped as erased rather than opened with the key the ring still holds.
    """
    erased = [event.aggregate_id for event in applied if event.event_type == ERASED_EVENT]
    for user_id in erased:
        if keys is not None:
            keys.apply(KeyRecord(user_id, None))
    return erased
