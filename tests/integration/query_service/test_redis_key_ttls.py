"""Redis evicts only keys with a TTL (volatile-ttl), so every key kind the system writes has one exactly when the
system re-creates it. Each key is written here by the code that writes it in production, on the real Redis.

No TTL (losing them would lose or repeat notices silently): the notice stream, its dedupe set and byte count, the
fan-out's position. A TTL: the freshness record, the heartbeats, the stream's connection leases and subscribe
windows, the channel layer's groups and queues, and the command service's throttle counters.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from command_service.config.limits import throttle_cache
from query_service.adapters import redis_client
from read_models.keys import (
    FRESHNESS_TTL_SECONDS,
    channel_group,
    fanout_position_key,
    freshness_key,
    notice_bytes_key,
    notice_seen_key,
    notice_stream,
    stream_clients_key,
    stream_subscribes_key,
)
from runtime import heartbeats
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import connect, fanout_thread, run, subscribe

NO_TTL = -1  # Redis' TTL of a key that exists and never expires (-2: no such key)


def ttl(key: str) -> int:
    return redis_client().ttl(key)


def test_the_notice_stream_and_its_companions_have_no_ttl_and_the_freshness_record_has_one(story: Story) -> None:
    author = story.register("ttl")
    story.post(author, "Kept")
    story.project()
    assert [ttl(key) for key in (notice_stream(), notice_seen_key(), notice_bytes_key())] == [NO_TTL] * 3
    assert 0 < ttl(freshness_key()) <= FRESHNESS_TTL_SECONDS


def test_heartbeats_have_a_ttl_that_each_beat_renews(story: Story) -> None:
    client = redis_client()
    heartbeats.Heartbeat(client, "relay ttl:1").beat({"postgres": True, "kafka": True})
    client.expire(heartbeats.heartbeats_key(), 5)
    heartbeats.Heartbeat(client, "relay ttl:2").beat({"postgres": True, "kafka": True})
    assert heartbeats.TTL_SECONDS - 60 < ttl(heartbeats.heartbeats_key()) <= heartbeats.TTL_SECONDS


def test_the_fanout_position_has_none_and_the_channel_layer_lease_and_subscribe_keys_have_one(story: Story) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        other = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])  # nobody reads its channels
        idle = await other.new_channel()
        await other.group_add(channel_group(), idle)
        await other.send(idle, {"type": "stream.heartbeat", "position": "0-0"})
        client = await connect()
        await subscribe(client)
        seen["lease"] = ttl(stream_clients_key("unknown"))
        seen["subscribes"] = redis_client().pttl(stream_subscribes_key("unknown"))  # the window, in ms
        queue = f"{other.prefix}{idle.partition('!')[0]}!"  # channels-redis keeps a process's queues under one key
        seen["layer"] = {key: ttl(key) for key in (f"{other.prefix}:group:{channel_group()}", queue)}
        await client.disconnect()
        await other.group_discard(channel_group(), idle)
        await other.close_pools()

    with fanout_thread():
        assert ttl(fanout_position_key()) == NO_TTL
        run(scenario)
    assert 0 < seen["lease"] <= settings.STREAM_CONNECTION_LEASE_SECONDS
    assert 0 < seen["subscribes"] <= 60_000
    assert all(value > 0 for value in seen["layer"].values()), seen["layer"]


def test_the_command_services_throttle_counters_have_their_window_as_ttl(story: Story) -> None:
    config = throttle_cache()
    cache = RedisCache(config["LOCATION"], {"KEY_PREFIX": config["KEY_PREFIX"], "OPTIONS": config["OPTIONS"]})
    cache.set("throttle_login_address_127.0.0.1", [1.0], 60)  # as DRF's SimpleRateThrottle writes a window
    key = cache.make_and_validate_key("throttle_login_address_127.0.0.1")
    assert key.startswith(story.prefix)
    assert 0 < ttl(key) <= 60
