"""Kafka down for a while: writes keep succeeding, the relay waits, and every event arrives after Kafka returns."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from infra.kafka.service import Kafka
from runtime.heartbeats import heartbeats_read
from tests.integration.command_service.conftest import REPO_ROOT, KafkaTail, Writer, pending_count, wait_until_sent
from tests.integration.command_service.test_outbox_relay import _outbox_ids


def _infra(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "infra", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _beat_after(client: redis.Redis, component: str, since: datetime, timeout: float = 120) -> dict[str, Any]:
    """The first heartbeat of `component` written after `since` (a pass that ended after it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = heartbeats_read(client).get(component)
        if beat and datetime.fromisoformat(beat["at"]) > since:
            return beat
        time.sleep(0.2)
    raise AssertionError(f"{component} wrote no heartbeat within {timeout} s")


def test_writes_succeed_while_kafka_is_down_and_every_event_arrives_after(
    writer: Writer, kafka_tail: KafkaTail, start_relay, redis_url: str
) -> None:
    if Kafka().running() is None:
        pytest.fail("this test stops and restarts the Kafka of `make services`, and none runs here: run `make test`")
    owner = f"outage-{uuid.uuid4().hex[:8]}"
    relay = start_relay("--poll-interval", "0.2", "--owner", owner)
    author = writer.user()
    writer.post_with_history(author, edits=1)
    wait_until_sent()

    _infra("down", "kafka")
    try:
        for _ in range(20):
            writer.post_with_history(author, edits=1)  # the writes do not touch Kafka
        written = datetime.now(UTC)
        # The relay's own word that a pass ended after the writes with Kafka unreachable (not a pause that proves
        # nothing): it tried, and marked none of them sent.
        beat = _beat_after(redis.Redis.from_url(redis_url), f"relay {owner}", written)
        assert beat["reaches"] == {"database": True, "kafka": False}
        assert beat["pending"] > 0
        assert pending_count() == 20 * 3
        assert relay.poll() is None, "the relay must outlive a Kafka outage"
    finally:
        _infra("up", "kafka")

    wait_until_sent(timeout=120)
    expected = _outbox_ids()
    events = kafka_tail.read_until(lambda got: {e.event_id for e in got} >= expected, timeout=60)
    assert {event.event_id for event in events} == expected
