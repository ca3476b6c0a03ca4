"""Fixtures for the command service on real PostgreSQL and Kafka: writers, relay processes, a reader of new events."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from kafka import KafkaConsumer, TopicPartition

from command_service.apps.outbox.models import OutboxEvent
from command_service.apps.unit_of_work import DjangoUnitOfWork
from command_service.domain.actors import Actor
from command_service.services import posts, users
from command_service.services.unit_of_work import EventContext
from events.envelope import EventEnvelope, decode
from events.errors import SubjectKeyUnknown
from events.personal_data import KeyRing, key_record_decode
from events.topics import event_topics, subject_keys_spec
from tests.integration.conftest import run_database_url

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_url: str) -> None:
    """These tests are about PostgreSQL's concurrency: fail (never skip) on another database."""
    if connection.vendor != "postgresql":
        pytest.fail("the command-service integration tests need DATABASE_URL to name PostgreSQL; run `make test`")


@pytest.fixture(autouse=True)
def _no_throttles(settings: Any) -> None:
    """The API requests here are about concurrency, not rate limits (tests/api/test_throttling_api.py): none apply."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


def uow() -> DjangoUnitOfWork:
    """A unit of work with a fresh correlation id."""
    return DjangoUnitOfWork(EventContext(correlation_id=str(uuid.uuid4())))


@dataclass
class Writer:
    """Writes through the real services, as the API does."""

    def user(self) -> Actor:
        name = f"u{uuid.uuid4().hex[:12]}"
        written = users.user_register(username=name, password="correct-horse", display_name=name, uow=uow())
        return Actor(user_id=written.aggregate_id)

    def post_with_history(self, author: Actor, edits: int) -> int:
        """A post created, edited `edits` times and published: 2 + edits events, versions 1 .. 2 + edits."""
        post_id = posts.post_create(actor=author, title="t", content="c", tags=["a"], uow=uow()).aggregate_id
        for n in range(edits):
            posts.post_edit(post_id=post_id, actor=author, title=f"t{n}", content=f"c{n}", uow=uow())
        posts.post_publish(post_id=post_id, actor=author, uow=uow())
        return post_id


@pytest.fixture
def writer(transactional_db: None) -> Writer:
    return Writer()


class KafkaTail:
    """Reads the event topics and the key topic from the offsets they had when the test began; opens the sealed
    payloads with the keys read, as any consumer of the contract does (`events.personal_data`)."""

    def __init__(self, servers: str) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, consumer_timeout_ms=1000)
        self.key_topic = subject_keys_spec().name
        self.partitions = [
            TopicPartition(name, p)
            for name in [*(spec.name for spec in event_topics().values()), self.key_topic]
            for p in sorted(self.consumer.partitions_for_topic(name) or ())
        ]
        self.consumer.assign(self.partitions)
        self.start = self.consumer.end_offsets(self.partitions)
        for tp, offset in self.start.items():
            self.consumer.seek(tp, offset)
        self.records: list = []
        self.keys = KeyRing()

    def _poll(self) -> None:
        for batch in self.consumer.poll(timeout_ms=500).values():
            for record in batch:
                if record.topic != self.key_topic:
                    self.records.append(record)
                elif (key_record := key_record_decode(record.key, record.value)) is not None:
                    self.keys.apply(key_record)

    def read_until(self, predicate: Callable[[list[EventEnvelope]], bool], timeout: float = 60) -> list[EventEnvelope]:
        """Poll until `predicate(events so far)` holds; events in arrival order per partition."""
        deadline = time.monotonic() + timeout
        while True:
            self._poll()
            try:
                events = [decode(record.value, self.keys) for record in self.records]
            except SubjectKeyUnknown:  # a key record published by another shard's pass, not read yet
                events = []
            if predicate(events) or time.monotonic() > deadline:
                return events

    def by_partition(self) -> dict[tuple[str, int], list[EventEnvelope]]:
        """Decoded events per (topic, partition), in partition order."""
        out: dict[tuple[str, int], list[EventEnvelope]] = {}
        for record in self.records:
            out.setdefault((record.topic, record.partition), []).append(decode(record.value, self.keys))
        return out


@pytest.fixture
def kafka_tail(kafka_bootstrap_servers: str) -> Iterator[KafkaTail]:
    tail = KafkaTail(kafka_bootstrap_servers)
    yield tail
    tail.consumer.close()


def relay_env(kafka_bootstrap_servers: str) -> dict[str, str]:
    """The environment of a relay process on this test's database."""
    return {
        **os.environ,
        "DATABASE_URL": run_database_url(),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def start_relay(kafka_bootstrap_servers: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts `python -m command_service outbox_relay` processes; stops any left running at the end."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = (tmp_path / f"relay-{len(started)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "command_service", "outbox_relay", *args],
            cwd=REPO_ROOT, env=relay_env(kafka_bootstrap_servers), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def pending_count() -> int:
    """Outbox rows not yet marked sent."""
    return OutboxEvent.objects.filter(sent_at__isnull=True).count()


def wait_until_sent(timeout: float = 90) -> None:
    """Wait until the relay(s) marked every outbox row sent."""
    deadline = time.monotonic() + timeout
    while pending_count() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pending_count() == 0, f"{pending_count()} outbox rows still pending after {timeout} s"


def assert_per_aggregate_order(by_partition: dict[tuple[str, int], list[EventEnvelope]]) -> None:
    """Within each partition, every aggregate's first deliveries come in version order (a resend may repeat)."""
    for events in by_partition.values():
        newest: dict[tuple[str, str], int] = {}
        for event in events:
            aggregate = (event.aggregate_type, event.aggregate_id)
            seen = newest.get(aggregate, 0)
            assert event.aggregate_version <= seen + 1, f"{aggregate} jumped from v{seen} to v{event.aggregate_version}"
            newest[aggregate] = max(seen, event.aggregate_version)
