"""Ticks on the key topic: what makes its compaction bound hold when no one registers or is erased.

Kafka compacts only closed segments, and closes (rolls) the active one only when a record is appended after its
`segment.ms`. An erased person's key record sitting in the active segment of a quiet partition would stay until the
next append, however long that is; so the relay appends one tick (`events.personal_data.tick_record`, one Kafka key
per partition, so compaction keeps one each and the topic does not grow) to every partition every
`SUBJECT_KEYS_TICK_SECONDS`. Several relays tick side by side harmlessly. A failed tick is logged and retried on the
next schedule; it never stops the relay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kafka.errors import KafkaError

from events.topics import subject_keys_spec, subject_keys_tick_seconds

log = logging.getLogger(__name__)


class KeyTicks:
    """Sends the ticks through `send(topic, partitions)` at most every `interval` seconds."""

    def __init__(self, send: Callable[[str, int], None], interval: float | None = None) -> None:
        self.send = send
        self.interval = subject_keys_tick_seconds() if interval is None else interval
        self._last = float("-inf")

    def maybe_tick(self) -> bool:
        """Tick when one is due; whether it was sent."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        spec = subject_keys_spec()
        try:
            self.send(spec.name, spec.partitions)
        except KafkaError as exc:
            log.warning("could not tick the key topic: %s", exc)
            return False
        return True
