"""The consumer-group loop: bounded batches in, read models and dead letters out, offsets committed last.

One pass: poll up to `batch_size` records for at most `batch_timeout` seconds; read each (decode, skip or
dead-letter); dead-letter held aggregates' events; apply the rest through the Writer (which waits until they are
searchable); dead-letter what failed and hold its aggregate; publish notices; flush the dead letters; then commit
the offsets. A crash anywhere before the commit redelivers the batch, which the version guards make harmless.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from events.consumer import Accepted, DeadLetter, EventReader, Skipped
from events.envelope import EventEnvelope
from projector import metrics
from projector.dead_letters import DeadLetterWriter, Origin
from projector.holds import Holds
from projector.notices import Notices
from projector.writer import Writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopSettings:
    """Batch bounds."""

    batch_size: int = 500
    batch_timeout: float = 0.5


@dataclass
class BatchResult:
    """What one pass did."""

    records: int = 0
    applied: int = 0
    skipped: int = 0
    dead_lettered: int = 0


class ProjectorLoop:
    """Drives one consumer of the projector's group."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        writer: Writer,
        dead_letters: DeadLetterWriter,
        holds: Holds,
        notices: Notices | None,
        settings: LoopSettings,
    ) -> None:
        self.consumer = consumer
        self.writer = writer
        self.dead_letters = dead_letters
        self.holds = holds
        self.notices = notices
        self.settings = settings
        self.reader = EventReader()

    def run_once(self) -> BatchResult:
        """One batch, committed; on any failure the consumer is rewound to the batch's start and the error raised."""
        timeout_ms = int(self.settings.batch_timeout * 1000)
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.settings.batch_size)
        if not polled:
            return BatchResult()
        try:
            return self._process(polled)
        except BaseException:
            for tp, records in polled.items():  # not committed: read them again on the next pass
                self.consumer.seek(tp, records[0].offset)
            raise

    def _process(self, polled: dict[TopicPartition, list]) -> BatchResult:
        result = BatchResult()
        started = time.monotonic()
        held = self.holds.held()
        accepted: list[tuple[EventEnvelope, object]] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in polled.items():
            for record in records:
                result.records += 1
                offsets[tp] = record.offset + 1
                origin = Origin(tp.topic, tp.partition, record.offset)
                key = (record.key or b"").decode(errors="replace")
                outcome = self.reader.read(record.value)
                if isinstance(outcome, Skipped):
                    result.skipped += 1
                    metrics.EVENTS_PROCESSED.labels(outcome.event_type).inc()
                elif isinstance(outcome, DeadLetter):
                    self._dead_letter(record, origin, key, outcome.reason, outcome.kind, held)
                    result.dead_lettered += 1
                elif (tp.topic, key) in held:
                    self._dead_letter(record, origin, key, "held behind an earlier dead letter", "held", held)
                    result.dead_lettered += 1
                else:
                    assert isinstance(outcome, Accepted)
                    accepted.append((outcome.envelope, (record, origin, key)))
        applied, failed = self.writer.apply([envelope for envelope, _ in accepted])
        context = {envelope.event_id: extra for envelope, extra in accepted}
        for failure in failed:
            record, origin, key = context[failure.event.event_id]
            metrics.EVENTS_FAILED.labels(failure.event.event_type).inc()
            self._dead_letter(record, origin, key, failure.reason, "failed", held)
            result.dead_lettered += 1
        for item in applied:
            metrics.EVENTS_PROCESSED.labels(item.event.event_type).inc()
        result.applied = len(applied)
        if self.notices is not None:  # a rebuild stays silent: the live stream already announced these events
            self.notices.publish(applied)
        self.dead_letters.flush()
        self.consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
        if applied:
            newest = max(item.event.occurred_at for item in applied)
            metrics.COMMIT_TO_SEARCHABLE.set((datetime.now(UTC) - newest).total_seconds())
        metrics.BATCH_SECONDS.set(time.monotonic() - started)
        return result

    def _dead_letter(
        self, record: object, origin: Origin, key: str, reason: str, kind: str, held: set[tuple[str, str]]
    ) -> None:
        """Hold the aggregate (count first), then write the dead letter."""
        self.holds.count(origin.topic, key, "dead_lettered")
        held.add((origin.topic, key))
        self.dead_letters.send(record.key, record.value, reason=reason, kind=kind, origin=origin)
        metrics.DEAD_LETTERED.labels(kind).inc()
        log.warning("dead-lettered %s:%s@%s: %s", origin.topic, origin.partition, origin.offset, reason[:300])

    def catch_up(
        self,
        *,
        timeout: float = 3600,
        progress: object | None = None,
        at_least: dict[TopicPartition, int] | None = None,
    ) -> None:
        """Run batches until every assigned partition reaches the end it had when called (or `at_least`).

        Events published meanwhile are left for later calls: under steady writes "no lag at all" may never happen.
        """
        deadline = time.monotonic() + timeout

        def tick() -> None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not caught up within {timeout:.0f} s")
            result = self.run_once()
            if progress is not None:
                progress.update(result.records)

        while not self.consumer.assignment():
            tick()
        targets = self.consumer.end_offsets(list(self.consumer.assignment()))
        for tp, offset in (at_least or {}).items():
            targets[tp] = max(targets.get(tp, 0), offset)
        while any(self.consumer.position(tp) < end for tp, end in targets.items()):
            tick()

    def update_lag(self) -> dict[TopicPartition, int]:
        """Consumer lag per assigned partition (also exported as a metric)."""
        assigned = list(self.consumer.assignment())
        if not assigned:
            return {}
        ends = self.consumer.end_offsets(assigned)
        lag = {tp: max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned}
        for tp, behind in lag.items():
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(behind)
        return lag
