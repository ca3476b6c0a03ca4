"""The consumer-group loop: bounded batches in, read models and dead letters out, offsets committed last.

One pass: poll up to `batch_size` records for at most `batch_timeout` seconds; read each (decode, skip or
dead-letter; a sealed payload of an erased person is skipped); dead-letter held aggregates' events; apply the rest
through the Writer (which waits until they are searchable); dead-letter what failed and hold its aggregate; note the
people the batch erased in the key ring; publish notices; purge the erased people's other copies (the live loop's
`Erasure`); flush the dead letters; then commit the offsets. A crash anywhere before the commit redelivers the
batch, which the version guards make harmless.

A commit refused because the group is rebalancing is not an outage: the batch is rewound and read again (by this
member or the partition's new owner) and the loop carries on at once. If commits are still refused `rejoin_after`
seconds later, the consumer is replaced by a fresh one from `connect`: kafka-python 3.0 can lose the end of a join
that completes between two polls, leaving a member that believes it is rebalancing for ever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import CommitFailedError, RebalanceInProgressError

from events.consumer import Accepted, DeadLetter, Erased, EventReader, Skipped
from events.envelope import EventEnvelope
from events.personal_data import KeyRing
from projector.consumer import metrics
from projector.consumer.dead_letters import DeadLetterWriter, Origin
from projector.consumer.erasure import Erasure
from projector.consumer.holds import Holds
from projector.consumer.notices import Notices
from projector.consumer.subject_keys import erased_by
from projector.consumer.tally import Tally
from projector.consumer.writer import Writer

log = logging.getLogger(__name__)
GROUP_CHANGED = (RebalanceInProgressError, CommitFailedError)  # the commit's generation is over or ending


@dataclass(frozen=True)
class LoopSettings:
    """Batch bounds, and how long refused commits are borne before the consumer is replaced."""

    batch_size: int = 500
    batch_timeout: float = 0.5
    rejoin_after: float = 30.0


@dataclass
class BatchResult:
    """What one pass did."""

    records: int = 0
    applied: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    requeued: int = 0  # read but not committed because the group was changing: they will be read again


class ProjectorLoop:
    """Drives one consumer of the projector's group.

    `keys` opens sealed payloads (without it they are dead-lettered as of an unknown key); `erasure` purges erased
    people beyond the read models the writer keeps (the live loop's; a rebuild's has none, like its notices).
    """

    def __init__(
        self,
        connect: Callable[[], KafkaConsumer],
        writer: Writer,
        dead_letters: DeadLetterWriter,
        holds: Holds,
        notices: Notices | None,
        settings: LoopSettings,
        *,
        keys: KeyRing | None = None,
        erasure: Erasure | None = None,
    ) -> None:
        self.connect = connect
        self.consumer = connect()
        self.writer = writer
        self.dead_letters = dead_letters
        self.holds = holds
        self.notices = notices
        self.settings = settings
        self.keys = keys
        self.erasure = erasure
        self.reader = EventReader(keys=keys)
        self.tally = Tally()  # what the heartbeat reports of the batches since the last one
        self._refused = 0  # commits refused since the last accepted one
        self._first_refused_at = 0.0

    def run_once(self) -> BatchResult:
        """One batch, committed.

        On a commit refused by a rebalance the batch is rewound and reported as requeued; on any other failure the
        consumer is rewound to the batch's start and the error raised.
        """
        timeout_ms = int(self.settings.batch_timeout * 1000)
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.settings.batch_size)
        if not polled:
            return BatchResult()
        try:
            result = self._process(polled)
        except GROUP_CHANGED as error:
            self._rewind(polled)
            return self._commit_refused(polled, error)
        except BaseException:
            self._rewind(polled)
            raise
        self._refused = 0
        return result

    def close(self) -> None:
        """Leave the group and flush the dead letters."""
        self.consumer.close()
        self.dead_letters.close()
        if self.keys is not None:
            self.keys.close()

    def _rewind(self, polled: dict[TopicPartition, list]) -> None:
        """Not committed: read these again on the next pass (partitions the group took away need nothing)."""
        assigned = self.consumer.assignment()
        for tp, records in polled.items():
            if tp in assigned:
                self.consumer.seek(tp, records[0].offset)

    def _commit_refused(self, polled: dict[TopicPartition, list], error: Exception) -> BatchResult:
        """Carry on through a rebalance; replace a consumer whose commits stay refused for `rejoin_after`.

        A rebalance refuses a commit or two; three or more in a row spanning `rejoin_after` mean the member will not
        recover by itself.
        """
        records = sum(len(batch) for batch in polled.values())
        metrics.COMMITS_REFUSED.inc()
        if not self._refused:
            self._first_refused_at = time.monotonic()
        self._refused += 1
        refused_for = time.monotonic() - self._first_refused_at
        if self._refused < 3 or refused_for < self.settings.rejoin_after:
            log.info("commit refused while the group changes (%s); %d records will be read again", error, records)
        else:
            log.warning("commits refused for %.0f s (%s); rejoining the group with a new consumer", refused_for, error)
            metrics.REJOINS.inc()
            self.consumer.close(autocommit=False)
            self.consumer = self.connect()
            self._refused = 0
        return BatchResult(records=records, requeued=records)

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
                if isinstance(outcome, Skipped | Erased):  # erased: gone for good, its deletions came in the clear
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
        erased = erased_by(self.keys, (item.event for item in applied))
        if self.notices is not None:  # a rebuild stays silent: the live stream already announced these events
            self.notices.publish(applied if self.erasure is None else self.erasure.announced(applied))
        if self.erasure is not None:
            self.erasure.erase(erased)  # after the notices: the batch's own are purged with the older ones
        self.dead_letters.flush()
        self.consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
        self.tally.batch(
            ((tp.topic, len(records)) for tp, records in polled.items()),
            ((context[item.event.event_id][1].topic, item.event.occurred_at) for item in applied),
        )
        if applied:
            newest = max(item.event.occurred_at for item in applied)
            metrics.COMMIT_TO_SEARCHABLE.set((datetime.now(UTC) - newest).total_seconds())
        metrics.BATCH_SECONDS.set(time.monotonic() - started)
        return result

    def _dead_letter(
        self, record: object, origin: Origin, key: str, reason: str, kind: str, held: set[tuple[str, str]]
    ) -> None:
        """Hold the aggregate behind this origin (first: see `projector.consumer.holds`), then write the dead letter."""
        self.holds.hold(origin.topic, key, origin.partition, origin.offset)
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
                progress.update(result.records - result.requeued)

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
