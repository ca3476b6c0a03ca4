"""The Django unit of work: one database transaction holding the rows and their outbox events."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Self

from django.db import connection, transaction

from command_service.apps.outbox.models import SHARDS, WAKE_UP_CHANNEL, OutboxEvent, SubjectKey
from command_service.apps.outbox.subject_keys import KEY_ERASED, KEY_ISSUED, KEY_RECORD_AGGREGATE
from command_service.apps.repositories import DjangoComments, DjangoPosts, DjangoUsers
from command_service.apps.users.models import User as UserRow
from command_service.services.unit_of_work import EventContext, UnitOfWork
from events.envelope import EventEnvelope, encode
from events.personal_data import KeyRecord, new_key
from events.topics import message_key, subject_keys_spec, topic_for


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
        key = self._sealing_key(envelope)
        self._insert(
            envelope.event_id, envelope.event_type, envelope.aggregate_type, envelope.aggregate_id,
            envelope.aggregate_version, topic_for(envelope.aggregate_type), message_key(envelope).decode(),
            encode(envelope, key), envelope.occurred_at,
        )  # fmt: skip

    def _sealing_key(self, envelope: EventEnvelope) -> bytes | None:
        """The key the event's payload is sealed under: its subject's for a personal event, else none."""
        return self._subject_key(envelope.subject_id) if envelope.personal else None

    def _subject_key(self, subject_id: str | None) -> bytes:
        """The person's key; a new one, with its key record in the outbox, the first time they need one."""
        assert subject_id is not None  # EventEnvelope.create refuses a personal event without its subject
        existing = SubjectKey.objects.filter(subject_id=subject_id).values_list("key", flat=True).first()
        if existing is not None:
            return bytes(existing)
        if UserRow.objects.filter(pk=int(subject_id), erased_at__isnull=False).exists():  # never a key again
            raise ValueError(f"subject {subject_id} was erased: nothing personal may be written about them")
        key = new_key()
        # A concurrent first event of the same person: get_or_create's savepoint lets the loser read the winner's key.
        row, created = SubjectKey.objects.get_or_create(
            subject_id=subject_id, defaults={"key": key, "created_at": self.now()}
        )
        if not created:
            return bytes(row.key)
        self._add_key_record(KeyRecord(subject_id, key), KEY_ISSUED)
        return key

    def forget_subject(self, subject_id: int) -> None:
        subject = str(subject_id)
        SubjectKey.objects.filter(subject_id=subject).delete()
        OutboxEvent.objects.filter(aggregate_type=KEY_RECORD_AGGREGATE, aggregate_id=subject).delete()
        self._add_key_record(KeyRecord(subject, None), KEY_ERASED)

    def _add_key_record(self, record: KeyRecord, kind: tuple[str, int]) -> None:
        event_type, version = kind
        self._insert(
            str(uuid.uuid4()), event_type, KEY_RECORD_AGGREGATE, record.subject_id, version, subject_keys_spec().name,
            record.kafka_key().decode(), record.encode(), self.now(),
        )  # fmt: skip

    def _insert(
        self, event_id: str, event_type: str, aggregate_type: str, aggregate_id: str, version: int, topic: str,
        key: str, payload: bytes, created_at: datetime,
    ) -> None:  # fmt: skip
        """One outbox row, in its aggregate's shard; the relay is woken at commit."""
        OutboxEvent.objects.create(
            event_id=event_id, event_type=event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
            aggregate_version=version, topic=topic, key=key, shard=outbox_shard(aggregate_type, aggregate_id),
            payload=payload, created_at=created_at,
        )  # fmt: skip
        self._wake_up_relay()

    def _wake_up_relay(self) -> None:
        """On PostgreSQL, NOTIFY the relay; it is delivered at commit, or never if the transaction rolls back.

        Only a hint: the relay polls anyway, and on other databases polling is all there is.
        """
        if connection.vendor == "postgresql" and not self._wake_up_sent:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [WAKE_UP_CHANNEL])
            self._wake_up_sent = True
