"""Kafka down for a while: writes keep succeeding, the relay waits, and every event arrives after Kafka returns."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from infra.kafka.service import Kafka
from tests.integration.command_service.conftest import REPO_ROOT, KafkaTail, Writer, pending_count, wait_until_sent
from tests.integration.command_service.test_outbox_relay import _outbox_ids


def _infra(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "infra", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_writes_succeed_while_kafka_is_down_and_every_event_arrives_after(
    writer: Writer, kafka_tail: KafkaTail, start_relay
) -> None:
    if Kafka().running() is None:
        pytest.fail("this test stops and restarts the Kafka of `make services`, and none runs here: run `make test`")
    relay = start_relay("--poll-interval", "0.2")
    author = writer.user()
    writer.post_with_history(author, edits=1)
    wait_until_sent()

    _infra("down", "kafka")
    try:
        for _ in range(20):
            writer.post_with_history(author, edits=1)  # the writes do not touch Kafka
        time.sleep(3)
        assert pending_count() == 20 * 3
        assert relay.poll() is None, "the relay must outlive a Kafka outage"
    finally:
        _infra("up", "kafka")

    wait_until_sent(timeout=120)
    expected = _outbox_ids()
    events = kafka_tail.read_until(lambda got: {e.event_id for e in got} >= expected, timeout=60)
    assert {event.event_id for event in events} == expected
