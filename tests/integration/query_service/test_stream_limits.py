"""Per-client limits of the live stream and bounded documents in its frames (real Redis and OpenSearch).

Connections are counted per client address in Redis, so two uvicorn processes share the count; a connection over
the limit is opened and closed at once with 4028. A subscribe frame over the per-minute limit of its connection, or
of its client address over all its connections (counted in Redis), closes with 4029; when Redis cannot count, the
connection's own limit still holds.
Every refusal is proved by the close frame that arrives with its code. A connection keeps its lease and its group
membership alive, so Redis evicting the group (when full) costs a resume, not live delivery for good.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from channels.layers import get_channel_layer
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from events.stream import CloseCode
from infra.process import wait_until
from query_service.adapters import redis_client
from read_models.keys import channel_group, stream_clients_key, stream_subscribes_key
from read_models.notices import OMITTED_FIELD
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import (
    WAIT,
    connect,
    fanout_thread,
    run,
    server_processes,
    subscribe,
    tip,
)


async def closed_with(port: int) -> tuple[int | None, str]:
    """Open a connection and return the close code and reason the server then sends (it must close it)."""
    client = await ws_connect(f"ws://127.0.0.1:{port}/stream", open_timeout=WAIT)
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(client.recv(), WAIT)
    assert client.close_code is not None
    return client.close_code, client.close_reason or ""


async def in_force(port: int) -> Any:
    """An open connection whose subscription is in force (the answer to a later bad frame came)."""
    client = await ws_connect(f"ws://127.0.0.1:{port}/stream", open_timeout=WAIT)
    await client.send(json.dumps({"type": "subscribe", "resume_from": tip()}))
    await client.send(json.dumps({"type": "confirm"}))
    assert json.loads(await asyncio.wait_for(client.recv(), WAIT))["type"] == "error"
    return client


def test_connections_over_the_per_client_limit_are_closed_with_4028_whichever_process_serves_them(
    story: Story, tmp_path: Path
) -> None:
    env = {"STREAM_MAX_CONNECTIONS_PER_CLIENT": "2"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    async def scenario(port_a: int, port_b: int) -> None:
        first, second = await in_force(port_a), await in_force(port_b)
        for port in (port_a, port_b):
            code, reason = await closed_with(port)
            assert code == CloseCode.TOO_MANY_CONNECTIONS
            assert "at most 2 open connections per client" in reason
        await first.close()  # its lease is given back once its server hears of the close
        leases = redis_client().zcard
        assert wait_until(lambda: leases(stream_clients_key("127.0.0.1")) == 1, timeout=WAIT, interval=0.05)
        again = await in_force(port_b)
        await again.close()
        await second.close()

    with (
        server_processes(story.prefix, tmp_path / "a", **env) as port_a,
        server_processes(story.prefix, tmp_path / "b", **env) as port_b,
    ):
        asyncio.run(scenario(port_a, port_b))


def test_leases_of_a_crashed_worker_lapse_and_stop_counting(story: Story, settings: Any) -> None:
    settings.STREAM_MAX_CONNECTIONS_PER_CLIENT = 2
    client, key = redis_client(), stream_clients_key("unknown")  # in process, connections have no address
    seconds, micros = client.time()
    now = seconds * 1000 + micros // 1000
    client.zadd(key, {"crashed-1": now - 1, "crashed-2": now - 1})  # leases nobody renewed: lapsed

    async def scenario() -> None:
        first = await connect()
        assert await subscribe(first) == []  # admitted: the lapsed leases no longer count
        [held] = client.zrange(key, 0, -1)  # its own lease only: the lapsed ones were dropped
        assert not held.startswith(b"crashed")
        assert 0 < client.ttl(key) <= settings.STREAM_CONNECTION_LEASE_SECONDS  # it goes by itself, unrenewed
        client.zadd(key, {"live-elsewhere": now + 60_000})  # a lease another worker holds
        refused = await connect()
        closed = await refused.receive_output(timeout=WAIT)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == CloseCode.TOO_MANY_CONNECTIONS
        await refused.disconnect()
        await first.disconnect()

    run(scenario)
    assert client.zrange(key, 0, -1) == [b"live-elsewhere"]  # the connection gave its lease back


def test_subscribe_frames_over_the_per_minute_limit_close_the_connection_with_4029(story: Story, settings: Any) -> None:
    settings.STREAM_MAX_SUBSCRIBES_PER_MINUTE = 3
    settings.STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE = 100

    async def scenario() -> None:
        client = await connect()
        for _ in range(3):
            assert await subscribe(client, aggregate_types=["post"]) == []
        await client.send_json_to({"type": "subscribe", "tags": ["again"]})
        closed = await client.receive_output(timeout=WAIT)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == CloseCode.TOO_MANY_SUBSCRIBES
        assert "at most 3 subscribe frames a minute on one connection" in closed["reason"]
        await client.disconnect()

    run(scenario)
    # The story's namespace is the test's own, so is this window: the refused frame was refused before the address
    # counted it.
    assert len(redis_client().zrange(stream_subscribes_key("unknown"), 0, -1)) == 3


def test_subscribe_frames_are_counted_per_client_address_over_all_its_connections(story: Story, settings: Any) -> None:
    settings.STREAM_MAX_SUBSCRIBES_PER_MINUTE = 100
    settings.STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE = 3
    key = stream_subscribes_key("unknown")  # in process, connections have no address
    redis_client().delete(key)  # (the story's namespace is the test's own: nothing is there)

    async def scenario() -> None:
        first, second = await connect(), await connect()
        for _ in range(2):
            assert await subscribe(first, aggregate_types=["post"]) == []
        assert await subscribe(second, aggregate_types=["post"]) == []  # the client's third frame of the minute
        await second.send_json_to({"type": "subscribe", "tags": ["again"]})  # its fourth: a new connection buys none
        closed = await second.receive_output(timeout=WAIT)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == CloseCode.TOO_MANY_SUBSCRIBES
        assert "at most 3 subscribe frames a minute from one client address" in closed["reason"]
        await second.disconnect()
        await first.disconnect()

    try:
        run(scenario)
        assert len(redis_client().zrange(key, 0, -1)) == 3  # the refused frame was not counted
        assert 0 < redis_client().pttl(key) <= 60_000  # the window goes by itself
    finally:
        redis_client().delete(key)


def test_subscribe_frames_are_held_to_the_per_connection_limit_when_redis_cannot_count(
    story: Story, settings: Any, free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The service's Redis client points at a port nothing listens on (the channel layer, configured at start, still
    reaches Redis): the address count fails, and the connection's own limit closes it."""
    settings.STREAM_MAX_SUBSCRIBES_PER_MINUTE = 3
    settings.STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE = 1
    settings.STREAM_MAX_FILTER_VALUES = 1  # a subscription over it is answered with an error frame, without Redis
    too_wide = {"type": "subscribe", "aggregate_types": ["post", "comment"]}

    async def scenario() -> None:
        client = await connect()  # let in uncounted
        for _ in range(3):  # each frame is counted on the connection, then refused for its filters
            await client.send_json_to(too_wide)
            assert "at most 1 filter values" in (await client.receive_json_from(timeout=WAIT))["message"]
        await client.send_json_to(too_wide)
        closed = await client.receive_output(timeout=WAIT)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == CloseCode.TOO_MANY_SUBSCRIBES
        assert "at most 3 subscribe frames a minute on one connection" in closed["reason"]
        await client.disconnect()

    try:
        with monkeypatch.context() as env, caplog.at_level(logging.WARNING, "query_service.stream.consumers"):
            env.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
            redis_client.cache_clear()
            run(scenario)
    finally:
        redis_client.cache_clear()  # the story's Redis again
    warnings = [r.getMessage() for r in caplog.records if "counted per connection only" in r.getMessage()]
    assert len(warnings) == 3, warnings  # the address count failed for each frame it saw (it would refuse the 2nd)
    assert redis_client().exists(stream_subscribes_key("unknown")) == 0


def test_a_document_over_the_notice_bound_goes_out_without_its_large_text_and_says_so(story: Story) -> None:
    author = story.register("long")
    start = tip()
    big = story.post(author, "Long read", "word " * 8_000, tags=("long",))  # 40 kB of content: over 32 KiB
    small = story.post(author, "Short read", "A few words.", tags=("long",))
    story.project()

    async def scenario() -> None:
        client = await connect()
        received = await subscribe(client, aggregate_types=["post"], resume_from=start)
        await client.disconnect()
        by_post = {(f["event"]["aggregate_id"], f["event"]["event_type"]): f for f in received}
        bounded = by_post[(str(big), "post.published")]["document"]
        assert OMITTED_FIELD in bounded
        assert bounded[OMITTED_FIELD] == ["content"]
        assert "content" not in bounded
        assert bounded["title"] == "Long read"
        assert bounded["status"] == "published"
        whole = by_post[(str(small), "post.published")]["document"]
        assert whole["content"] == "A few words."
        assert OMITTED_FIELD not in whole
        assert len(json.dumps(bounded)) <= 32 * 1024

    run(scenario)


def test_a_connection_whose_group_membership_vanished_joins_again_and_is_told_to_resume(
    story: Story, settings: Any
) -> None:
    settings.STREAM_CONNECTION_LEASE_SECONDS = 3  # kept alive every second
    author = story.register("evicted")

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client, aggregate_types=["post"])
            redis_client().delete(f"{get_channel_layer().prefix}:group:{channel_group()}")  # as if Redis evicted it
            story.post(author, "Sent to nobody")
            story.project()
            # Joined again within a second, the connection hears of a position it never reached and asks for a resume.
            closed = await client.receive_output(timeout=WAIT)
            assert closed["type"] == "websocket.close"
            assert closed["code"] == CloseCode.RESUME_REQUIRED
            await client.disconnect()

    run(scenario)
