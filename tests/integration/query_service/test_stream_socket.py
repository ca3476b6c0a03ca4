"""The stream over a real socket: uvicorn and the fan-out as processes, clients on the `websockets` library."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from events.stream import CloseCode
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import WAIT, SocketClient, server_processes, tip, wait_group_empty


async def subscribed(port: int, **frame: Any) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """A connection whose subscription is in force, and the frames its handling sent (caught-up events).

    A subscription has no reply of its own: a bad frame sent right after it is answered once it is handled.
    """
    client = await connect(f"ws://127.0.0.1:{port}/stream", open_timeout=WAIT)
    await client.send(json.dumps({"type": "subscribe", **frame}))
    await client.send(json.dumps({"type": "confirm"}))
    received = []
    while (reply := json.loads(await asyncio.wait_for(client.recv(), WAIT)))["type"] != "error":
        received.append(reply)
    return client, received


async def events(client: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` frames, which must be event frames."""
    frames = [json.loads(await asyncio.wait_for(client.recv(), WAIT)) for _ in range(count)]
    assert {frame["type"] for frame in frames} == {"event"}
    return frames


def published(story: Story, count: int) -> list[str]:
    author = story.register(f"writer{len(story.users)}")
    post_ids = [str(story.post(author, f"Post {n}")) for n in range(count)]
    story.project()
    return post_ids


def post_ids(frames: list[dict[str, Any]]) -> list[str]:
    return [frame["event"]["aggregate_id"] for frame in frames]


def test_over_a_real_socket_a_reconnecting_client_gets_what_it_missed_in_order_then_live_events(
    story: Story, tmp_path: Path
) -> None:
    async def scenario(port: int) -> None:
        client, _ = await subscribed(port, aggregate_types=["post"], resume_from=tip())
        first = published(story, 3)
        seen = await events(client, 3)
        await client.close()
        missed = published(story, 5)
        client, caught_up = await subscribed(port, aggregate_types=["post"], resume_from=seen[-1]["position"])
        live = published(story, 2)
        marker = published(story, 1)  # announced after the above: anything more would come before it
        *after, last = await events(client, 3)
        assert post_ids([last]) == marker
        await client.close()
        wait_group_empty()
        assert post_ids(seen) == first
        assert post_ids(caught_up) == missed
        assert post_ids(after) == live
        assert all(frame["document"]["status"] == "published" for frame in seen + caught_up + after)

    with server_processes(story.prefix, tmp_path) as port:
        asyncio.run(scenario(port))


def big_posts(story: Story, count: int, size: int) -> None:
    """`count` published posts, each with about `size` bytes of content, projected and announced: each goes out as
    one frame whose document carries the content (delivery sends only what the read models hold now), as long as
    `size` is within a notice's document bound (NOTICE_MAX_DOCUMENT_BYTES)."""
    author = story.register("big")
    for n in range(count):
        story.post(author, f"Big {n}", f"post {n} " + "x" * size, tags=("big",))
    story.project()


def test_over_a_real_socket_a_client_that_stops_reading_is_closed_with_4008_and_resuming_recovers_everything(
    story: Story, tmp_path: Path
) -> None:
    # 10 MB: well over what the kernel buffers for one socket, each document within a notice's bound (32 KiB)
    count, size = 400, 25_000

    timeouts = {"STREAM_SEND_TIMEOUT_SECONDS": "1", "STREAM_CLOSE_GRACE_SECONDS": "20"}
    with server_processes(story.prefix, tmp_path, **timeouts) as port:
        slow = SocketClient(port, receive_buffer=4096)
        slow.subscribe(aggregate_types=["post"], resume_from=tip())
        big_posts(story, count, size)
        # Not reading: the server's sends block; it gives up after 1 s, leaves the group and closes behind the backlog.
        wait_group_empty()
        received = []
        while (frame := slow.receive()) is not None:
            received.append(frame)
        slow.close()
        assert slow.close_code == CloseCode.RESUME_REQUIRED
        assert "resume_from" in slow.close_reason
        assert 0 < len(received) < count
        again = SocketClient(port)
        rest = again.subscribe(aggregate_types=["post"], resume_from=received[-1]["position"])
        again.close()
        wait_group_empty()
    titles = [frame["document"]["title"] for frame in received + rest]
    assert titles == [f"Big {n}" for n in range(count)]
