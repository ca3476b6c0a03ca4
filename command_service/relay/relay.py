"""The outbox relay: publishes committed outbox rows to Kafka in per-aggregate order, then marks them sent.

It never reads "rows after the last id I saw": ids are assigned before commit and transactions commit out of id
order, so such a cursor would skip a row forever. Each pass reads every unsent row of the shards this relay
leases, oldest first; a row that commits late is simply there on the next pass. An aggregate's rows are in id
order because each of its changes is made on the committed previous version (see `_save_if_unchanged`).

Writes never wait for Kafka: while it is down the rows pile up in the outbox, and the relay backs off and
catches up when it returns. A crash between publishing and marking sent publishes those rows again on restart,
with the same event_id: at-least-once delivery, made exactly-once in effect by the consumers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.db import DatabaseError, close_old_connections, connection

from command_service.apps.outbox.models import OutboxEvent
from command_service.relay.key_ticks import KeyTicks
from command_service.relay.leases import ShardLeases
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.wake_up import WakeUp
from runtime.heartbeats import Heartbeat

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Sends outbox rows somewhere and says which ids arrived."""

    def publish(self, rows: list[OutboxEvent]) -> list[int]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RelaySettings:
    """How a relay paces itself."""

    batch_size: int = 500
    poll_interval: float = 1.0  # the fallback when no wake-up arrives
    max_backoff: float = 30.0
    lease_ttl: timedelta = timedelta(seconds=15)
    retention: timedelta = timedelta(days=7)
    prune_interval: timedelta = timedelta(minutes=5)


class OutboxRelay:
    """One relay process's loop; several may run, each publishing the shards it leases.

    `also_prune` are other parts' clean-ups, run on the relay's prune schedule (the command service's only periodic
    process): each deletes what has expired by the time it is given and says how many rows went. `key_ticks` keeps
    the key topic's compaction bound (`command_service.relay.key_ticks`).
    """

    def __init__(
        self,
        publisher: Publisher | KafkaPublisher,
        owner: str,
        wake_up: WakeUp,
        settings: RelaySettings,
        heartbeat: Heartbeat | None = None,
        also_prune: Sequence[Callable[[datetime], int]] = (),
        key_ticks: KeyTicks | None = None,
    ):
        self.publisher = publisher
        self.heartbeat = heartbeat
        self.also_prune = tuple(also_prune)
        self.key_ticks = key_ticks
        self.leases = ShardLeases(owner, settings.lease_ttl)
        self.wake_up = wake_up
        self.settings = settings
        self._last_prune = datetime.min.replace(tzinfo=UTC)
        self._shards: list[int] = []
        self._leases_renewed = datetime.min.replace(tzinfo=UTC)

    def run_once(self) -> tuple[int, int]:
        """One pass: refresh leases, publish a batch of pending rows, mark what arrived. Returns (pending, sent)."""
        shards = self._held_shards(datetime.now(UTC))
        if not shards:
            return 0, 0
        pending = OutboxEvent.objects.filter(sent_at__isnull=True, shard__in=shards).order_by("id")
        rows = list(pending[: self.settings.batch_size])
        if not rows:
            return 0, 0
        delivered = self.publisher.publish(rows)
        if delivered:
            OutboxEvent.objects.filter(pk__in=delivered, sent_at__isnull=True).update(sent_at=datetime.now(UTC))
            log.info("published %d events", len(delivered), extra={"count": len(delivered)})
        return len(rows), len(delivered)

    def _held_shards(self, now: datetime, due: timedelta | None = None) -> list[int]:
        """The leased shards, renewed every third of the lease's time to live (or `due`) rather than on every pass."""
        if now - self._leases_renewed >= (self.settings.lease_ttl / 3 if due is None else due):
            self._shards = self.leases.refresh(now)
            self._leases_renewed = now
        return self._shards

    def prune(self, now: datetime) -> int:
        """Delete sent rows older than the retention, then run the other clean-ups; how many rows went."""
        sent, _ = OutboxEvent.objects.filter(sent_at__lt=now - self.settings.retention).delete()
        return sent + sum(prune(now) for prune in self.also_prune)

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Loop until `should_stop()`: publish, back off while Kafka fails, wait for a wake-up when idle."""
        backoff = 0.0
        check_connection = True
        try:
            while not should_stop():
                if check_connection:  # after an idle wait or a failure; a woken pass goes straight to its rows
                    close_old_connections()
                check_connection = False
                reaches = {"database": True, "kafka": True}
                try:
                    pending, sent = self.run_once()
                    self._maybe_prune()
                    if self.key_ticks is not None:
                        self.key_ticks.maybe_tick()
                    if pending < self.settings.batch_size:  # about to wait: renew now, so a wake-up finds it done
                        self._held_shards(datetime.now(UTC), due=self.settings.lease_ttl / 6)
                    reaches["kafka"] = sent >= pending
                except Exception as error:
                    log.exception("relay pass failed")
                    pending, sent = 1, 0
                    reaches["database" if isinstance(error, DatabaseError) else "kafka"] = False
                if self.heartbeat is not None:
                    # which database the command service runs on ("PostgreSQL", "SQLite"), for the status page
                    self.heartbeat.beat(reaches, pending=pending, database_engine=connection.display_name)
                if pending and sent < pending:  # Kafka (or the database) failed: back off, then retry
                    backoff = min(max(backoff * 2, 0.5), self.settings.max_backoff)
                    time.sleep(backoff)
                    check_connection = True
                    continue
                backoff = 0.0
                if pending < self.settings.batch_size:  # drained: wait for a commit's wake-up or the poll
                    check_connection = not self.wake_up.wait(self.settings.poll_interval)
        finally:
            self.leases.release_all()
            self.publisher.close()
            self.wake_up.close()

    def _maybe_prune(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_prune >= self.settings.prune_interval:
            self._last_prune = now
            pruned = self.prune(now)
            if pruned:
                log.info("pruned %d rows", pruned, extra={"count": pruned})
