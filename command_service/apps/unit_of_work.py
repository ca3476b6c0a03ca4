"""The Django unit of work: one database transaction holding the rows and their outbox events."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from django.db import connection, transaction

from command_service.apps.outbox.models import SHARDS, WAKE_UP_CHANNEL, OutboxEvent
from command_service.apps.repositories import DjangoComments, DjangoPosts, DjangoUsers
from command_service.services.unit_of_work import EventContext, UnitOfWork
from events.envelope import EventEnvelope, encode
from events.topics import message_key, topic_for


def outbox_shard(aggregate_type: str, aggregate_id: str) -> int:
    """The outbox shard of an aggregate: stable across processes, so one relay at a time owns its events."""
    return zlib.crc32(f"{aggregate_type}:{aggregate_id}".encode()) % SHARDS


class DjangoUnitOfWork(UnitOfWork):
    """Rows and events in one database transaction, which this unit owns.

    A service's `with uow:` block opens the transaction and ends it. A caller that must do more in the same
    transaction (an idempotent POST stores its response with the write, api/idempotency.py) holds it open around
    the service call with `with uow.transaction():`; the service's block then joins it instead of nesting a
    savepoint, and everything commits or rolls back when the caller's block ends.
    """

    def __init__(self, context: EventContext) -> None:
        super().__init__(context)
        self.users = DjangoUsers()
        self.posts = DjangoPosts()
        self.comments = DjangoComments()
        self._atomic: transaction.Atomic | None = None
        self._held = False
        self._committed = False
        self._wake_up_sent = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold this unit's transaction open for the whole block: it commits at the end, or rolls back on an error."""
        with transaction.atomic():
            self._held = True
            try:
                yield
            finally:
                self._held = False

    def __enter__(self) -> Self:
        super().__enter__()
        self._atomic = transaction.atomic(savepoint=not self._held)  # held: join the caller's block, no savepoint
        self._atomic.__enter__()
        self._committed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and not self._committed:
            transaction.set_rollback(True)
        assert self._atomic is not None
        self._atomic.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._committed = True

    def rollback(self) -> None:
        self._committed = False

    def _add_to_outbox(self, envelope: EventEnvelope) -> None:
        OutboxEvent.objects.create(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            aggregate_type=envelope.aggregate_type,
            aggregate_id=envelope.aggregate_id,
            aggregate_version=envelope.aggregate_version,
            topic=topic_for(envelope.aggregate_type),
            key=message_key(envelope).decode(),
            shard=outbox_shard(envelope.aggregate_type, envelope.aggregate_id),
            payload=encode(envelope),
            created_at=envelope.occurred_at,
        )
        self._wake_up_relay()

    def _wake_up_relay(self) -> None:
        """On PostgreSQL, NOTIFY the relay; it is delivered at commit, or never if the transaction rolls back.

        Only a hint: the relay polls anyway, and on other databases polling is all there is.
        """
        if connection.vendor == "postgresql" and not self._wake_up_sent:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [WAKE_UP_CHANNEL])
            self._wake_up_sent = True
