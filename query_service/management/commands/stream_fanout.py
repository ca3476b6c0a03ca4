"""`python -m query_service stream_fanout`: relay the projector's notices to live subscribers until SIGTERM/Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import redis.asyncio as aioredis
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand

from query_service.adapters import opensearch
from query_service.stream.fanout import Fanout
from runtime.redis_clients import redis_timeouts
from runtime.settings import redis_url


class Command(BaseCommand):
    """Runs one fan-out replica (see `query_service.stream.fanout`); several are harmless."""

    help = "Relay the projector's notice stream to the WebSocket subscribers through the channel layer."

    def handle(self, *args: Any, **options: Any) -> None:
        """Run until a stop signal; the batch in flight is sent first."""
        asyncio.run(_main())


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    client = aioredis.Redis.from_url(redis_url(), **redis_timeouts())  # above the fan-out's 1 s blocking read
    try:
        await Fanout(client=client, search=opensearch(), layer=get_channel_layer()).run(stop)
    finally:
        await client.aclose()
