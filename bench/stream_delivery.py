"""WebSocket delivery latency of the live stream: notice written to Redis -> event frame received, many subscribers.

Needs the local services (`make services`). Run: `make bench-stream` or `uv run python -m bench.stream_delivery`
(options: --subscribers, --notices, --rate, --batch, --workers, --size, --deflate). It starts the query service under
uvicorn (2 workers, on TCP_NODELAY through `query_service.serve`) and one fan-out as processes, on a namespace of
their own (PROJECTOR_INDEX_PREFIX and QUERY_CHANNEL_PREFIX), opens the subscribers with the `websockets` client,
then writes notices through the projector's own `Notices` at a steady rate: each the latest edit of a published post
of its own (the posts are indexed first, since delivery checks each notice against the read model), so each goes
to every subscriber. The latency of a frame is its receipt time minus its stream id's time, which Redis
stamps when the notice is written. Everything it creates in Redis and OpenSearch is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch, helpers
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.support import base_env, free_port, percentile, process
from events.envelope import EventEnvelope
from events.types import PostEdited
from infra.process import port_in_use, wait_until
from projector.consumer.live_indices import ensure_live_indices
from projector.consumer.notices import Notices
from projector.consumer.writer import Applied
from read_models.keys import fanout_position_key
from runtime.redis_clients import redis_client
from runtime.settings import opensearch_url, redis_url

AT = datetime.now(UTC)


class Subscriber:
    """One connection: receives until it has `expected` events, recording each latency in ms."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies: list[float] = []
        self.close_code: int | None = None

    async def run(self, client: ClientConnection, done: asyncio.Event) -> None:
        """Receive event frames (the position is read without parsing the whole frame)."""
        try:
            async for text in client:
                now = time.time() * 1000
                start = text.index('"position":"') + 12
                self.latencies.append(now - int(text[start : text.index("-", start)]))
                if len(self.latencies) >= self.expected:
                    break
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else 1006
        done.set()


async def subscribe(port: int, resume_from: str) -> ClientConnection:
    """A connection subscribed to post events (in force on return: a bad frame after it is answered last)."""
    client = await connect(f"ws://127.0.0.1:{port}/stream", open_timeout=60, max_queue=None)
    await client.send(json.dumps({"type": "subscribe", "aggregate_types": ["post"], "resume_from": resume_from}))
    await client.send(json.dumps({"type": "confirm"}))
    assert json.loads(await client.recv())["type"] == "error"
    return client


def post_document(n: int, size: int) -> dict:
    """Post n+1 as its edit (version 2) leaves it: published, so every subscriber gets its notice."""
    return {"id": str(n + 1), "title": "Bench", "content": f"edit {n} " + "x" * size, "status": "published",
            "deleted": False, "tags": ["bench"], "author": {"id": "1"}, "published_at": AT.isoformat(),
            "post_version": 2}  # fmt: skip


def index_posts(search: OpenSearch, prefix: str, count: int, size: int) -> None:
    """The read model the notices are checked against at delivery: every post already at its edit's version."""
    alias = ensure_live_indices(search, prefix)["posts"]
    actions = ({"_index": alias, "_id": str(n + 1), "_source": post_document(n, size)} for n in range(count))
    helpers.bulk(search, actions, refresh=True)


def write_notices(count: int, rate: float, size: int, batch: int) -> None:
    """`count` notices at `rate` per second, `batch` at a time (the projector publishes a batch in one pipeline)."""
    notices = Notices(redis_client(), "projector")
    started = time.monotonic()
    for first in range(0, count, batch):
        applied = []
        for n in range(first, min(first + batch, count)):
            document = post_document(n, size)
            edit = PostEdited(document["id"], "Bench", document["content"])
            applied.append(Applied(EventEnvelope.create(edit, aggregate_version=2, correlation_id="b"), document))
        notices.publish(applied)
        pause = started + (first + batch) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)


async def measure(port: int, args: argparse.Namespace, tip: str) -> list[Subscriber]:
    """Open the subscribers, write the notices, wait for every frame (or 60 s)."""
    subscribers, count = args.subscribers, args.notices
    clients = []
    for start in range(0, subscribers, 50):  # in waves, not to flood the accept queue
        clients += await asyncio.gather(*(subscribe(port, tip) for _ in range(start, min(start + 50, subscribers))))
    print(f"{len(clients)} subscribers connected")
    subs = [Subscriber(count) for _ in clients]
    events = [asyncio.Event() for _ in clients]
    pairs = zip(subs, clients, events, strict=True)
    tasks = [asyncio.create_task(sub.run(client, done)) for sub, client, done in pairs]
    began = time.monotonic()
    await asyncio.to_thread(write_notices, count, args.rate, args.size, args.batch)
    print(f"{count} notices written in {time.monotonic() - began:.1f} s")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(done.wait() for done in events)), 60)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
    return subs


def report(subs: list[Subscriber], count: int) -> None:
    """Counts and latency percentiles."""
    latencies = [value for sub in subs for value in sub.latencies]
    closed = [sub.close_code for sub in subs if sub.close_code is not None]
    print(f"frames received: {len(latencies)} of {count * len(subs)}; connections closed early: {len(closed)} "
          f"{sorted(set(closed))}")  # fmt: skip
    if latencies:
        print(f"delivery latency (notice written -> frame received): p50 {statistics.median(latencies):.1f} ms  "
              f"p90 {percentile(latencies, 90):.1f} ms  p99 {percentile(latencies, 99):.1f} ms  "
              f"max {max(latencies):.1f} ms")  # fmt: skip


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=5.0, help="notices written per second")
    parser.add_argument("--notices", type=int, help="how many (default: 30 seconds' worth)")
    parser.add_argument("--size", type=int, default=500, help="bytes of post content per notice")
    parser.add_argument("--batch", type=int, default=1, help="notices per write")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--deflate", action="store_true", help="let clients negotiate permessage-deflate")
    args = parser.parse_args()
    args.notices = args.notices or round(args.rate * 30)
    prefix = f"bench-stream-{uuid.uuid4().hex[:8]}-"
    os.environ["PROJECTOR_INDEX_PREFIX"] = prefix  # this process's notices go to the same namespace
    # Every subscriber connects from 127.0.0.1: the per-client connection limit must let them all in.
    env = base_env(PROJECTOR_INDEX_PREFIX=prefix, QUERY_CHANNEL_PREFIX=f"{prefix}query", REDIS_URL=redis_url(),
                   DJANGO_SETTINGS_MODULE="query_service.config.settings",
                   STREAM_MAX_CONNECTIONS_PER_CLIENT=str(args.subscribers + 1))  # fmt: skip
    port = free_port()
    uvicorn = [sys.executable, "-m", "query_service.serve", "query_service.config.asgi:application",
               "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
               "--ws-per-message-deflate", "true" if args.deflate else "false"]  # fmt: skip
    client = redis_client()
    search = OpenSearch(opensearch_url(), timeout=60)
    print(f"stream delivery: {args.subscribers} subscribers, {args.notices} notices at {args.rate:g}/s "
          f"({args.batch} per write), {args.size} B content, uvicorn x{args.workers} "
          f"(permessage-deflate {'on' if args.deflate else 'off'}) + 1 fan-out")  # fmt: skip
    with tempfile.TemporaryDirectory() as logs:
        try:
            index_posts(search, prefix, args.notices, args.size)
            with (
                process(uvicorn, env, Path(logs) / "uvicorn.log"),
                process([sys.executable, "-m", "query_service", "stream_fanout"], env, Path(logs) / "fanout.log"),
            ):
                if not wait_until(
                    lambda: client.exists(fanout_position_key()) == 1 and port_in_use(port),
                    timeout=60,
                    interval=0.1,
                ):
                    raise RuntimeError("the query service or the fan-out did not start")
                tip = client.get(fanout_position_key()).decode()
                subs = asyncio.run(measure(port, args, tip))
            report(subs, args.notices)
        finally:
            search.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
            for pattern in (f"{prefix}*", f"{prefix}query*"):
                keys = list(client.scan_iter(pattern))
                if keys:
                    client.delete(*keys)


if __name__ == "__main__":
    main()
