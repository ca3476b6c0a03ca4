"""The dead-letter topic: the original message (same key and bytes) with why and where it came from, in headers."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaProducer

from events.topics import dead_letter_topic

REASON_MAX = 2000


@dataclass(frozen=True)
class Origin:
    """Where a message was read."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class DeadLetterRecord:
    """A message read back from the dead-letter topic."""

    offset: int
    key: str
    value: bytes
    reason: str
    kind: str
    origin: Origin
    failed_at: str


def headers_of(reason: str, kind: str, origin: Origin) -> list[tuple[str, bytes]]:
    """The dead-letter headers of a message."""
    return [
        ("dlq.reason", reason[:REASON_MAX].encode()),
        ("dlq.kind", kind.encode()),
        ("dlq.topic", origin.topic.encode()),
        ("dlq.partition", str(origin.partition).encode()),
        ("dlq.offset", str(origin.offset).encode()),
        ("dlq.failed_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()),
    ]


def record_of(message: object) -> DeadLetterRecord:
    """Read a consumed dead-letter message back into its parts."""
    headers = {name: value.decode() for name, value in (message.headers or [])}
    return DeadLetterRecord(
        offset=message.offset,
        key=(message.key or b"").decode(errors="replace"),
        value=message.value,
        reason=headers.get("dlq.reason", ""),
        kind=headers.get("dlq.kind", ""),
        origin=Origin(
            headers.get("dlq.topic", ""), int(headers.get("dlq.partition", -1)), int(headers.get("dlq.offset", -1))
        ),
        failed_at=headers.get("dlq.failed_at", ""),
    )


class DeadLetterWriter:
    """Produces dead letters of one consumer group (idempotent producer, acks=all), flushed before offsets commit."""

    def __init__(self, bootstrap_servers: str, group: str) -> None:
        self.topic = dead_letter_topic(group)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)

    def send(self, key: bytes | None, value: bytes, *, reason: str, kind: str, origin: Origin) -> None:
        """Queue one dead letter."""
        self.producer.send(self.topic, key=key, value=value, headers=headers_of(reason, kind, origin))

    def flush(self) -> None:
        """Block until every queued dead letter is acknowledged."""
        self.producer.flush()

    def close(self) -> None:
        """Flush and close."""
        self.producer.close(timeout=10)
