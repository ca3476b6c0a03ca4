"""Redis is the real server: pub/sub between two connections, and a stream read back in order."""

from __future__ import annotations

import time
import uuid

import redis


def test_publish_reaches_a_subscriber_on_another_connection(redis_url: str) -> None:
    channel = f"smoke:{uuid.uuid4().hex}"
    with redis.Redis.from_url(redis_url) as subscriber_client, redis.Redis.from_url(redis_url) as publisher:
        pubsub = subscriber_client.pubsub()
        pubsub.subscribe(channel)
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        assert publisher.publish(channel, b"hello") == 1
        deadline = time.monotonic() + 10
        message = None
        while message is None and time.monotonic() < deadline:
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        pubsub.close()
    assert message is not None
    assert (message["channel"], message["data"]) == (channel.encode(), b"hello")


def test_server_reports_its_version_and_keeps_a_stream_in_order(redis_url: str) -> None:
    key = f"smoke:stream:{uuid.uuid4().hex}"
    with redis.Redis.from_url(redis_url) as client:
        assert int(client.info("server")["redis_version"].split(".")[0]) >= 6
        try:
            ids = [client.xadd(key, {"n": str(n)}) for n in range(5)]
            entries = client.xrange(key)
        finally:
            client.delete(key)
    assert [entry_id for entry_id, _ in entries] == ids
    assert [fields[b"n"] for _, fields in entries] == [b"0", b"1", b"2", b"3", b"4"]
