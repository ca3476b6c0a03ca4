"""Publishing outbox rows to Kafka: the idempotent producer, acks from every in-sync replica, keyed by aggregate."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE
from events.personal_data import tick_record

log = logging.getLogger(__name__)


class KafkaPublisher:
    """Sends rows in order and says which arrived; the producer is created lazily and re-created after failures."""

    def __init__(self, bootstrap_servers: str, *, timeout_seconds: float = 10.0) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.timeout_ms = int(timeout_seconds * 1000)
        self._producer: KafkaProducer | None = None

    def _connect(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id="outbox-relay",
                acks="all",
                enable_idempotence=True,
                max_in_flight_requests_per_connection=5,  # the idempotent producer keeps order up to 5
                # publish() flushes right after handing a batch over, and a flush makes every record sendable at
                # once: linger never delays a record, it only keeps a batch being handed over in few requests.
                linger_ms=5,
                max_block_ms=self.timeout_ms,
                request_timeout_ms=self.timeout_ms,
                delivery_timeout_ms=3 * self.timeout_ms,
            )
        return self._producer

    def publish(self, rows: Sequence[OutboxEvent]) -> list[int]:
        """Send `rows` (in outbox order) and return the ids that Kafka acknowledged.

        An aggregate's rows count as delivered only up to its first failure, so a retry resends the failed one and
        everything after it: per-aggregate order holds, at the price of a possible duplicate (same event_id).
        Key records go first and are acknowledged before any event of the batch is sent (none is, if one failed):
        a consumer reading an event of this batch can already read its person's key (`events.personal_data`).
        """
        try:
            producer = self._connect()
        except KafkaError as exc:
            log.warning("Kafka is unreachable: %s", exc)
            return []
        keys = [row for row in rows if row.aggregate_type == KEY_RECORD_AGGREGATE]
        delivered = self._send(producer, keys) if keys else []
        if len(delivered) < len(keys):
            return delivered
        return delivered + self._send(producer, [row for row in rows if row.aggregate_type != KEY_RECORD_AGGREGATE])

    def _send(self, producer: KafkaProducer, rows: Sequence[OutboxEvent]) -> list[int]:
        futures = []
        for row in rows:
            try:
                future = producer.send(
                    row.topic,
                    key=row.key.encode(),
                    value=bytes(row.payload),
                    headers=[("event_type", row.event_type.encode()), ("event_id", str(row.event_id).encode())],
                )
            except KafkaError as exc:  # no metadata in time: Kafka is down; keep what was handed over so far
                log.warning("stopped sending a batch: %s", exc)
                break
            futures.append((row, future))
        try:
            producer.flush(timeout=3 * self.timeout_ms / 1000)
        except KafkaError as exc:
            log.warning("flush failed: %s", exc)
        return _delivered_in_order(futures)

    def send_ticks(self, topic: str, partitions: int) -> None:
        """Append a tick to each of `topic`'s first `partitions` partitions and wait for them (raises KafkaError)."""
        producer = self._connect()
        futures = []
        for partition in range(partitions):
            key, value = tick_record(partition)
            futures.append(producer.send(topic, key=key, value=value, partition=partition))
        producer.flush(timeout=3 * self.timeout_ms / 1000)
        for future in futures:
            future.get(timeout=0)

    def close(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None


def _delivered_in_order(futures: list) -> list[int]:
    failed_aggregates: set[tuple[str, str]] = set()
    delivered = []
    for row, future in futures:
        aggregate = (row.aggregate_type, row.aggregate_id)
        ok = future.is_done and future.succeeded()
        if ok and aggregate not in failed_aggregates:
            delivered.append(row.pk)
        elif not ok:
            failed_aggregates.add(aggregate)
    return delivered
