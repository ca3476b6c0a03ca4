"""The outbox relay on real PostgreSQL and Kafka: exactly the committed events, in per-aggregate order, nothing lost."""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from command_service.apps.outbox.models import OutboxEvent, RelayLease
from command_service.apps.outbox.subject_keys import KEY_RECORD_AGGREGATE, subject_key_ring
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import posts
from events.envelope import decode, encode
from tests.integration.command_service.conftest import (
    KafkaTail,
    Writer,
    assert_per_aggregate_order,
    pending_count,
    uow,
    wait_until_sent,
)


def _relay(servers: str, owner: str = "test-relay", batch_size: int = 500) -> OutboxRelay:
    return OutboxRelay(KafkaPublisher(servers), owner, SleepWakeUp(), RelaySettings(batch_size=batch_size))


def _drain(relay: OutboxRelay) -> None:
    while pending_count():
        relay.run_once()


def _outbox_ids() -> set[str]:
    """The events of the outbox (key records are no events: `apps.outbox.subject_keys`)."""
    rows = OutboxEvent.objects.exclude(aggregate_type=KEY_RECORD_AGGREGATE)
    return {str(event_id) for event_id in rows.values_list("event_id", flat=True)}


def test_n_writes_produce_exactly_n_events_in_aggregate_order(
    writer: Writer, kafka_tail: KafkaTail, kafka_bootstrap_servers: str
) -> None:
    author = writer.user()
    for _ in range(10):
        writer.post_with_history(author, edits=3)  # 5 events each
    expected = _outbox_ids()
    assert len(expected) == 1 + 10 * 5

    relay = _relay(kafka_bootstrap_servers, batch_size=7)  # several passes, batches cut through aggregates
    _drain(relay)
    relay.publisher.close()

    events = kafka_tail.read_until(lambda got: len(got) >= len(expected))
    assert Counter(event.event_id for event in events) == Counter(expected)  # each exactly once
    assert_per_aggregate_order(kafka_tail.by_partition())
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0


def test_a_row_committed_after_a_later_id_is_still_published(
    writer: Writer, kafka_tail: KafkaTail, kafka_bootstrap_servers: str
) -> None:
    author = writer.user()
    relay = _relay(kafka_bootstrap_servers)
    _drain(relay)
    early_has_id, release_early = threading.Event(), threading.Event()
    early_post: list[int] = []

    def slow_transaction() -> None:
        # Takes its outbox id first, commits last.
        with transaction.atomic():
            early_post.append(
                posts.post_create(actor=author, title="early", content="c", tags=[], uow=uow()).aggregate_id
            )
            early_has_id.set()
            release_early.wait(30)

    thread = threading.Thread(target=slow_transaction)
    thread.start()
    assert early_has_id.wait(30)
    late_post = posts.post_create(actor=author, title="late", content="c", tags=[], uow=uow()).aggregate_id
    relay.run_once()  # publishes the later id while the earlier one is still uncommitted
    assert OutboxEvent.objects.get(aggregate_type="post", aggregate_id=str(late_post)).sent_at is not None

    release_early.set()
    thread.join(30)
    early_row = OutboxEvent.objects.get(aggregate_type="post", aggregate_id=str(early_post[0]))
    late_row = OutboxEvent.objects.get(aggregate_type="post", aggregate_id=str(late_post))
    assert early_row.pk < late_row.pk  # the scenario really committed out of id order
    assert early_row.sent_at is None
    relay.run_once()
    relay.publisher.close()
    assert OutboxEvent.objects.get(pk=early_row.pk).sent_at is not None
    events = kafka_tail.read_until(lambda got: str(early_row.event_id) in {e.event_id for e in got})
    assert {str(early_row.event_id), str(late_row.event_id)} <= {event.event_id for event in events}


def test_relay_killed_mid_stream_and_restarted_loses_nothing(
    writer: Writer, kafka_tail: KafkaTail, start_relay
) -> None:
    author = writer.user()
    for _ in range(150):
        writer.post_with_history(author, edits=2)  # 4 events each: 601 in all
    expected = _outbox_ids()

    first = start_relay("--batch-size", "20", "--poll-interval", "0.2")
    deadline = time.monotonic() + 60
    while OutboxEvent.objects.filter(sent_at__isnull=False).count() < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert 0 < pending_count() < len(expected), "the relay should die with part of the outbox still pending"

    start_relay("--batch-size", "20", "--poll-interval", "0.2")
    wait_until_sent()
    events = kafka_tail.read_until(lambda got: {e.event_id for e in got} >= expected)
    assert {event.event_id for event in events} == expected  # nothing lost; a resend carries the same event_id
    assert_per_aggregate_order(kafka_tail.by_partition())


def test_several_relays_share_the_outbox_without_duplicates_or_reordering(
    writer: Writer, kafka_tail: KafkaTail, start_relay
) -> None:
    relays = [start_relay("--batch-size", "25", "--poll-interval", "0.2", "--owner", f"r{n}") for n in range(3)]
    author = writer.user()
    for _ in range(60):
        writer.post_with_history(author, edits=3)
    wait_until_sent()
    expected = _outbox_ids()
    events = kafka_tail.read_until(lambda got: len(got) >= len(expected))
    assert Counter(event.event_id for event in events) == Counter(expected)  # no double send in the normal path
    assert_per_aggregate_order(kafka_tail.by_partition())
    # Leases are renewed every third of their 15 s TTL: within a few renewals all three hold a share of the shards.
    owners: set[str] = set()
    deadline = time.monotonic() + 30
    while owners != {"r0", "r1", "r2"} and time.monotonic() < deadline:
        owners = set(RelayLease.objects.filter(expires_at__gt=datetime.now(UTC)).values_list("owner", flat=True))
        time.sleep(0.5)
    assert owners == {"r0", "r1", "r2"}
    assert all(relay.poll() is None for relay in relays)


def test_a_commit_wakes_an_idle_relay_long_before_its_poll(writer: Writer, kafka_tail: KafkaTail, start_relay) -> None:
    author = writer.user()
    start_relay("--poll-interval", "3600")  # without a wake-up it would not look again for an hour
    wait_until_sent()
    _wait_until_a_relay_listens()
    post_id = str(posts.post_create(actor=author, title="wake up", content="c", tags=[], uow=uow()).aggregate_id)
    # The deadline is far above the wake-up's tens of milliseconds and far below the hour: only the commit's NOTIFY
    # can have made the relay look again, so the event is in Kafka at all.
    events = kafka_tail.read_until(lambda got: post_id in {e.aggregate_id for e in got}, timeout=60)
    assert [e.event_type for e in events if e.aggregate_id == post_id] == ["post.created"]
    wait_until_sent(timeout=60)


def test_a_row_committed_without_a_notification_is_published_by_the_poll(
    writer: Writer, kafka_tail: KafkaTail, start_relay
) -> None:
    author = writer.user()
    template = OutboxEvent.objects.get(
        aggregate_id=str(posts.post_create(actor=author, title="t", content="c", tags=[], uow=uow()).aggregate_id)
    )
    start_relay("--poll-interval", "1")
    wait_until_sent()
    _wait_until_a_relay_listens()
    silent = _insert_without_notify(template)  # as if its NOTIFY had been lost: only the poll can find it
    events = kafka_tail.read_until(lambda got: silent in {e.event_id for e in got}, timeout=60)
    assert silent in {event.event_id for event in events}
    wait_until_sent(timeout=60)


def _insert_without_notify(template: OutboxEvent) -> str:
    """An outbox row written straight through the ORM (the unit of work would NOTIFY): the template's event as the
    aggregate's next version, with a new event id; returns that id."""
    envelope = dataclasses.replace(
        decode(bytes(template.payload), subject_key_ring()),
        event_id=str(uuid.uuid4()),
        aggregate_version=template.aggregate_version + 1,
    )
    OutboxEvent.objects.create(
        event_id=envelope.event_id,
        event_type=template.event_type,
        aggregate_type=template.aggregate_type,
        aggregate_id=template.aggregate_id,
        aggregate_version=envelope.aggregate_version,
        topic=template.topic,
        key=template.key,
        shard=template.shard,
        payload=encode(envelope),
        created_at=datetime.now(UTC),
    )
    return envelope.event_id


def _wait_until_a_relay_listens(timeout: float = 30) -> None:
    """Until the relay is idle, its wake-up connection LISTENing for commits."""
    deadline = time.monotonic() + timeout
    while not _a_relay_listens():
        assert time.monotonic() < deadline, "the idle relay never LISTENed for commits"
        time.sleep(0.1)


def _a_relay_listens() -> bool:
    """Whether a session on this database has LISTENed (the relay's wake-up connection)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %%'"
        )
        return cursor.fetchone()[0] > 0


def test_sent_rows_are_pruned_after_the_retention_and_pending_ones_never(
    writer: Writer, kafka_bootstrap_servers: str
) -> None:
    author = writer.user()
    for _ in range(3):
        posts.post_create(actor=author, title="t", content="c", tags=[], uow=uow())
    relay = _relay(kafka_bootstrap_servers)
    _drain(relay)
    relay.publisher.close()
    now = datetime.now(UTC)
    old, recent, *_ = OutboxEvent.objects.order_by("id")
    OutboxEvent.objects.filter(pk=old.pk).update(sent_at=now - relay.settings.retention - timedelta(minutes=1))
    OutboxEvent.objects.filter(pk=recent.pk).update(sent_at=None)  # as if still pending, however old
    assert relay.prune(now) == 1
    remaining = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert recent.pk in remaining
    assert len(remaining) == 4  # the registration, two posts and the author's key record
