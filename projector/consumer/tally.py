"""What one projector did between two heartbeats, per topic, for the status page's charts.

Events read per second (every record the batch committed: applied, ignored or dead-lettered) and the worst
commit-to-searchable age of the events it applied. The heartbeat carries them and `runtime.heartbeats` keeps their
recent history; a topic the projector reads but got nothing from counts 0 events per second and has no age.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime


class Tally:
    """Counts a projector's batches until `take` reports and restarts the count."""

    def __init__(self) -> None:
        self._since = time.monotonic()
        self._records: dict[str, int] = {}
        self._ages: dict[str, float] = {}

    def batch(self, read: Iterable[tuple[str, int]], applied: Iterable[tuple[str, datetime]]) -> None:
        """One committed batch: `(topic, records)` read, and `(topic, occurred_at)` of each event now searchable."""
        for topic, records in read:
            self._records[topic] = self._records.get(topic, 0) + records
        now = datetime.now(UTC)
        for topic, occurred_at in applied:
            age = max(0.0, (now - occurred_at).total_seconds())
            self._ages[topic] = max(age, self._ages.get(topic, 0.0))

    def take(self, topics: Iterable[str]) -> dict[str, dict[str, float]]:
        """Events per second and the worst age per topic since the last call (each of `topics` at least 0 events/s)."""
        elapsed = max(time.monotonic() - self._since, 1e-3)
        rates = {topic: round(self._records.get(topic, 0) / elapsed, 3) for topic in {*topics, *self._records}}
        ages = {topic: round(age, 3) for topic, age in self._ages.items()}
        self._since, self._records, self._ages = time.monotonic(), {}, {}
        return {"events_per_second": rates, "searchable_age_seconds": ages}
