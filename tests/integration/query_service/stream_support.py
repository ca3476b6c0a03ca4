"""What the live-stream tests share: a fan-out in a thread, in-process connections, server processes, clients."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import socket
import sys
import threading
import types
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import channels
import redis
import redis.asyncio as aioredis
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from bench.support import free_port, process
from infra.process import port_in_use, wait_until
from query_service.adapters import opensearch, redis_client
from query_service.stream import notices
from query_service.stream.fanout import BATCH, Fanout
from query_service.stream.routing import websocket_application
from read_models.keys import channel_group, fanout_position_key


def _channels_testing() -> None:
    """Make `channels.testing` importable without its package __init__, which imports the live-server test case
    and with it daphne: this project serves ASGI with uvicorn and has no daphne. Its modules are unchanged."""
    if "channels.testing" not in sys.modules:
        package = types.ModuleType("channels.testing")
        package.__path__ = [str(Path(channels.__file__).parent / "testing")]
        sys.modules["channels.testing"] = package


_channels_testing()
from channels.testing.websocket import WebsocketCommunicator  # noqa: E402

WAIT = 10.0  # seconds any single expected frame may take


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario on a fresh loop, closing the channel layer's connections of that loop afterwards.

    The layer object is dropped too: one whose receive was still pending when its loop ended keeps counting it, and
    the next loop's first receive would then wait on a lock of the old loop.
    """
    from channels.layers import channel_layers, get_channel_layer

    async def main() -> None:
        try:
            await scenario()
        finally:
            await get_channel_layer().close_pools()

    try:
        asyncio.run(main())
    finally:
        channel_layers.backends.clear()


@contextlib.contextmanager
def fanout_thread(batch: int = BATCH) -> Iterator[Fanout]:
    """A fan-out on its own event loop in a thread (its own Redis client and channel layer), ready on entry.

    Args:
        batch: stream entries read at a time (1: one channel message per entry).
    """
    ready, box = threading.Event(), {}

    async def main() -> None:
        client = aioredis.Redis.from_url(os.environ["REDIS_URL"])
        layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
        box["fanout"] = Fanout(client=client, search=opensearch(), layer=layer, batch=batch)
        box["stop"], box["loop"] = asyncio.Event(), asyncio.get_running_loop()
        task = asyncio.create_task(box["fanout"].run(box["stop"]))
        await box["fanout"].ready.wait()
        ready.set()
        await task
        await layer.close_pools()
        await client.aclose()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT), "the fan-out did not start"
    try:
        yield box["fanout"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(WAIT)


async def connect(origin: str | None = None) -> WebsocketCommunicator:
    """An in-process connection to /stream (the application with its origin check), connected."""
    headers = [(b"origin", origin.encode())] if origin else []
    communicator = WebsocketCommunicator(websocket_application(), "/stream", headers=headers)
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    return communicator


async def subscribe(communicator: WebsocketCommunicator, **frame: Any) -> list[dict[str, Any]]:
    """Subscribe (from the stream's end now unless `resume_from` is given) and return once the subscription is in
    force, with the frames its handling sent (resync_required, caught-up events).

    A subscription has no reply of its own: a bad frame sent right after it is answered only once it is handled.
    """
    frame.setdefault("resume_from", tip())
    await communicator.send_json_to({"type": "subscribe", **frame})
    await communicator.send_json_to({"type": "confirm"})
    received = []
    while (reply := await communicator.receive_json_from(timeout=WAIT))["type"] != "error":
        received.append(reply)
    return received


def group_size() -> int:
    """How many connections the channel layer has in the stream's group now (any channel-layer prefix)."""
    client = redis_client()
    return sum(client.zcard(key) for key in client.scan_iter(f"*:group:{channel_group()}"))


def wait_group_empty() -> None:
    """Wait until the server has let every connection leave the group (it does once it hears of the close)."""
    emptied = wait_until(lambda: group_size() == 0, timeout=WAIT, interval=0.05)
    assert emptied, "connections were left in the channel-layer group"


def tip() -> str:
    """The id of the newest notice (0-0 before the first)."""
    return notices.stream_bounds(redis_client()).last


async def frames(communicator: WebsocketCommunicator, count: int) -> list[dict[str, Any]]:
    """The next `count` frames. Whether more follow is not waited out: see `frames_until`."""
    return [await communicator.receive_json_from(timeout=WAIT) for _ in range(count)]


async def frames_until(communicator: WebsocketCommunicator, last: tuple[str, str]) -> list[dict[str, Any]]:
    """Every frame up to and including the event frame of `last` (event type, aggregate id), which must come.

    Frames go out in stream order, so when `last` was projected after the writes of interest (by a later
    `Story.project()`), whatever those sent comes before it: the frames returned are all there were, proved by a
    frame that arrived rather than by a quiet window.
    """
    received = []
    while True:
        received.append(frame := await communicator.receive_json_from(timeout=WAIT))
        if frame["type"] == "event" and kinds([frame]) == [last]:
            return received


async def heartbeats(position: str, count: int) -> None:
    """Wait until `count` fan-out heartbeats naming `position` reached the subscribers' group (an idle fan-out
    sends one a second), as seen by a channel of the test's own in that group."""
    from channels.layers import get_channel_layer

    layer, group = get_channel_layer(), channel_group()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        seen = 0
        while seen < count:
            message = await asyncio.wait_for(layer.receive(channel), WAIT)
            seen += message["type"] == notices.HEARTBEAT_TYPE and message["position"] == position
    finally:
        await layer.group_discard(group, channel)


def kinds(received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(event type, aggregate id) of each event frame."""
    return [(frame["event"]["event_type"], frame["event"]["aggregate_id"]) for frame in received]


@contextlib.contextmanager
def server_processes(prefix: str, log_dir: Path, **env: str) -> Iterator[int]:
    """uvicorn with the query service and a fan-out, as processes on the test's namespace; yields the port."""
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "query_service.config.settings",
        "PROJECTOR_INDEX_PREFIX": prefix,
        "QUERY_CHANNEL_PREFIX": f"{prefix}query",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    uvicorn = [sys.executable, "-m", "uvicorn", "query_service.config.asgi:application", "--port", str(port)]
    fanout = [sys.executable, "-m", "query_service", "stream_fanout"]
    with process(uvicorn, full_env, log_dir / "uvicorn.log"), process(fanout, full_env, log_dir / "fanout.log"):
        assert wait_until(lambda: port_in_use(port), timeout=30, interval=0.05), "uvicorn did not listen"
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        started = wait_until(lambda: client.exists(f"{prefix}live:fanout:position") == 1, timeout=30, interval=0.05)
        assert started, "the fan-out did not start"
        assert fanout_position_key() == f"{prefix}live:fanout:position"
        yield port


class SocketClient:
    """A WebSocket client on a plain blocking socket (websockets' Sans-I/O protocol) that reads only when asked.

    An asyncio client keeps reading into its own buffers whatever its queue limits say; this one can truly stop
    reading, with a receive buffer as small as `receive_buffer`, like a client on a slow link.
    """

    def __init__(self, port: int, *, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket()
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)  # before connecting
        self.sock.connect(("127.0.0.1", port))
        self.sock.settimeout(WAIT)
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/stream"), max_size=None)
        self.protocol.send_request(self.protocol.connect())
        self.frames: collections.deque[dict[str, Any]] = collections.deque()
        self._flush()
        while self.protocol.state is State.CONNECTING:
            self._read()
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def send_json(self, data: dict[str, Any]) -> None:
        """Send one text frame."""
        self.protocol.send_text(json.dumps(data).encode())
        self._flush()

    def receive(self) -> dict[str, Any] | None:
        """The next frame, or None once the server closed the connection (see `close_code`)."""
        while not self.frames and self.protocol.close_rcvd is None:
            self._read()
        return self.frames.popleft() if self.frames else None

    def subscribe(self, **frame: Any) -> list[dict[str, Any]]:
        """Subscribe; returns once the subscription is in force, with the frames its handling sent (see `subscribe`)."""
        self.send_json({"type": "subscribe", **frame})
        self.send_json({"type": "confirm"})
        received = []
        while (reply := self.receive()) is not None and reply["type"] != "error":
            received.append(reply)
        return received

    @property
    def close_code(self) -> int | None:
        """The server's close code, once it closed."""
        return self.protocol.close_rcvd.code if self.protocol.close_rcvd else None

    @property
    def close_reason(self) -> str:
        """The server's close reason."""
        return self.protocol.close_rcvd.reason if self.protocol.close_rcvd else ""

    def close(self) -> None:
        """Drop the connection."""
        self.sock.close()

    def _read(self) -> None:
        data = self.sock.recv(1 << 16)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.frames.append(json.loads(event.data))
        self._flush()
        if not data and self.protocol.close_rcvd is None:
            raise ConnectionError("the server dropped the connection without a close frame")

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)
