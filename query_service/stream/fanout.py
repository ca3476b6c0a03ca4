"""The fan-out: reads the projector's notice stream and sends every entry to the subscribers' channel-layer group.

It keeps its place in Redis (`read_models.keys.fanout_position_key`), so a restart resumes where it stopped, without
a gap; the first run starts at the stream's end. Messages name the entry before them (see
`query_service.stream.notices`), so subscribers detect anything the channel layer dropped, and ignore a position they
already have: several fan-out replicas only duplicate messages, which subscribers drop. When the stream is idle it
sends a heartbeat naming its position, so a subscriber also learns of lost messages at the end of a burst. Nothing is
skipped while Redis or OpenSearch is away: the same batch is retried until it goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.layers import BaseChannelLayer
from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException

from query_service.stream import notices
from query_service.stream.positions import bounds_from_info
from read_models.keys import channel_group, fanout_position_key, notice_stream
from read_models.notices import Entry

log = logging.getLogger(__name__)
BATCH = 500
BLOCK_MS = 1000
MAX_BACKOFF_SECONDS = 5.0


class Fanout:
    """One fan-out replica: `run()` until `stop` is set."""

    def __init__(
        self, *, client: aioredis.Redis, search: OpenSearch, layer: BaseChannelLayer, batch: int = BATCH
    ) -> None:
        self.client = client
        self.search = search
        self.layer = layer
        self.batch = batch
        self.ready = asyncio.Event()  # set once the start position is known: notices from then on go out
        self.sent = 0

    async def start(self) -> tuple[str, str | None]:
        """Where to read from, and the `previous` of the first message (None if entries were trimmed meanwhile)."""
        saved = await self.client.get(fanout_position_key())
        try:
            info = await self.client.xinfo_stream(notice_stream())
        except redis.ResponseError:
            info = None
        bounds = bounds_from_info(info)
        if saved is None:  # first run: from the end; remember it now, so a restart misses nothing after this
            await self.client.set(fanout_position_key(), bounds.last)
            return bounds.last, bounds.last
        position = saved.decode()
        if not bounds.retains(position):
            log.warning("notices after the fan-out's position %s were trimmed: subscribers will resync", position)
            return position, None
        return position, position

    async def run(self, stop: asyncio.Event) -> None:
        """Send batches until `stop` is set; errors of Redis or OpenSearch are retried with a growing pause."""
        with contextlib.suppress(_Stopped):
            await self._run(stop)

    async def _run(self, stop: asyncio.Event) -> None:
        position, previous = await _retrying(stop, self.start)
        self.ready.set()
        group = channel_group()
        log.info("fan-out of %s to group %s from %s", notice_stream(), group, position)
        while not stop.is_set():
            entries = await _retrying(stop, self._read, position)
            if not entries:  # idle: say where the stream is, so a subscriber that lost the last messages learns it
                await _retrying(stop, self.layer.group_send, group, notices.heartbeat(position))
                continue
            items = await _retrying(stop, asyncio.to_thread, notices.build_items, entries, previous, self.search)
            for message in notices.batch_messages(items):
                await _retrying(stop, self.layer.group_send, group, message)
            position = previous = items[-1]["position"]
            self.sent += len(items)
            await _retrying(stop, self.client.set, fanout_position_key(), position)

    async def _read(self, position: str) -> list[Entry]:
        response = await self.client.xread({notice_stream(): position}, count=self.batch, block=BLOCK_MS)
        return response[0][1] if response else []


class _Stopped(Exception):
    """Asked to stop while waiting out a failure."""


async def _retrying[T](stop: asyncio.Event, call: Callable[..., Awaitable[T]], *args: Any) -> T:
    pause = 0.1
    while True:
        try:
            return await call(*args)
        except (redis.RedisError, OpenSearchException, OSError) as error:
            log.warning("fan-out: %s; retrying in %.1f s", error, pause)
        if stop.is_set():
            raise _Stopped
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_BACKOFF_SECONDS)
