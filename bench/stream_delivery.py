"""WebSocket delivery latency of the live stream: notice written to Redis -> event frame received, many subscribers.

Needs the local services (`make services`). Run: `make bench-stream` or `uv run python -m bench.stream_delivery`
(options: --subscribers, --notices, --rate, --samples, --window, --batch, --workers, --size, --deflate). It starts the
query service under uvicorn (2 workers, on TCP_NODELAY through `query_service.serve`) and one fan-out as processes,
on a namespace of their own (PROJECTOR_INDEX_PREFIX and QUERY_CHANNEL_PREFIX). Each of `--samples` samples opens the
subscribers (1,000 by default, P8) with the `websockets` client, then writes notices through the projector's own
`Notices` at a steady rate: each the latest edit of a published post of the sample's own (the posts are indexed first,
since delivery checks each notice against the read model), so each goes to every subscriber. The latency of a frame
is its receipt time minus its stream id's time, which Redis stamps when the notice is written. A sample waits up to
`--window` seconds after its last notice; a frame due that has not arrived by then is counted as not arrived, and the
percentiles are over every frame due, a missing one ranking above every arrived one (so a p99 that falls on one
reads `not arrived`, never a figure from the frames that made it). Connections that fail or close early and frames
other than events are counted too. All subscribers live in this one client process, whose own event loop is part of
what is measured at high counts. Everything it creates in Redis and OpenSearch is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch, helpers
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.stats import Failures, machine_line, spread
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
EVENT_FRAME = '{"type":"event","position":"'  # how `events.stream.event_frame_text` starts; the id's ms follow


class Subscriber:
    """One connection: receives until it has `expected` events, recording each latency in ms; any other frame
    (a resync or error frame, where an event was due) is counted by its type, never dropped."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies: list[float] = []
        self.other: Counter[str] = Counter()
        self.close_code: int | None = None

    async def run(self, client: ClientConnection, done: asyncio.Event) -> None:
        """Receive event frames (the position is read without parsing the whole frame)."""
        try:
            async for text in client:
                now = time.time() * 1000
                if not text.startswith(EVENT_FRAME):
                    self.other[frame_type(text)] += 1
                    continue
                self.latencies.append(now - int(text[len(EVENT_FRAME) : text.index("-", len(EVENT_FRAME))]))
                if len(self.latencies) >= self.expected:
                    break
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else 1006
        done.set()


def frame_type(text: str | bytes) -> str:
    """A frame's `type`, `unreadable` when it has none."""
    try:
        return str(json.loads(text).get("type", "unreadable"))
    except (ValueError, AttributeError):
        return "unreadable"


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


def write_notices(first: int, count: int, rate: float, size: int, batch: int) -> None:
    """Notices of posts `first`... (`count` of them) at `rate` per second, `batch` at a time (the projector publishes
    a batch in one pipeline). Each sample has posts of its own: a notice is written once per (aggregate, version)."""
    notices = Notices(redis_client(), "projector")
    started = time.monotonic()
    for offset in range(0, count, batch):
        applied = []
        for n in range(first + offset, first + min(offset + batch, count)):
            document = post_document(n, size)
            edit = PostEdited(document["id"], "Bench", document["content"])
            applied.append(Applied(EventEnvelope.create(edit, aggregate_version=2, correlation_id="b"), document))
        notices.publish(applied)
        pause = started + (offset + batch) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)


@dataclass
class Sample:
    """What one sample's subscribers got, and what did not get that far."""

    subs: list[Subscriber]
    notices: int
    connect_failures: list[str]
    window: float

    @property
    def expected(self) -> int:
        """Event frames due: every notice to every subscriber that connected."""
        return self.notices * len(self.subs)

    @property
    def latencies(self) -> list[float]:
        """Every received event frame's latency in ms, however late it came within the window."""
        return [value for sub in self.subs for value in sub.latencies]

    def percentile(self, p: float) -> float:
        """The p-th percentile (nearest rank) over every frame due: one that did not arrive within the window counts
        as later than any that did (inf when the rank falls on it), so a missing frame is never left out."""
        received = self.latencies
        return percentile(received + [math.inf] * (self.expected - len(received)), p) if self.expected else math.nan

    def failures(self) -> Failures:
        """Frames not arrived, connections that failed to open or closed early, frames other than events."""
        failures = Failures()
        failures.add("subscriber failed to connect", self.connect_failures[0] if self.connect_failures else "",
                     count=len(self.connect_failures))  # fmt: skip
        failures.add(f"frame not arrived within {self.window:g} s of the last notice",
                     count=self.expected - len(self.latencies))  # fmt: skip
        codes = sorted({sub.close_code for sub in self.subs if sub.close_code is not None})
        failures.add("connection closed early", f"codes {codes}", count=sum(sub.close_code is not None
                                                                              for sub in self.subs))  # fmt: skip
        for sub in self.subs:
            for kind, n in sub.other.items():
                failures.add(f"{kind} frame instead of an event", count=n)
        return failures


async def measure(port: int, args: argparse.Namespace, tip: str, first: int) -> Sample:
    """Open the subscribers, write the notices, wait for every frame until `--window` s after the last notice."""
    subscribers, count = args.subscribers, args.notices
    clients, failed = [], []
    for start in range(0, subscribers, 50):  # in waves, not to flood the accept queue
        wave = min(start + 50, subscribers) - start
        for result in await asyncio.gather(*(subscribe(port, tip) for _ in range(wave)), return_exceptions=True):
            if isinstance(result, BaseException):
                failed.append(f"{type(result).__name__}: {result}")
            else:
                clients.append(result)
    print(f"{len(clients)} subscribers connected, {len(failed)} failed", flush=True)
    subs = [Subscriber(count) for _ in clients]
    events = [asyncio.Event() for _ in clients]
    pairs = zip(subs, clients, events, strict=True)
    tasks = [asyncio.create_task(sub.run(client, done)) for sub, client, done in pairs]
    began = time.monotonic()
    await asyncio.to_thread(write_notices, first, count, args.rate, args.size, args.batch)
    print(f"{count} notices written in {time.monotonic() - began:.1f} s", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(done.wait() for done in events)), args.window)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
    return Sample(subs, count, failed, args.window)


def ms(value: float) -> str:
    """Milliseconds to one decimal; `not arrived` for a frame that did not."""
    return "not arrived" if math.isinf(value) else f"{value:.1f} ms"


def report(n: int, sample: Sample) -> None:
    """A sample's counts and latency percentiles (over every frame due)."""
    received = sample.latencies
    print(f"sample {n}: frames received {len(received)} of {sample.expected} due "
          f"({len(sample.subs)} subscribers x {sample.notices} notices)")  # fmt: skip
    if sample.expected:
        print(f"  delivery latency (notice written -> frame received), over every frame due: "
              f"p50 {ms(sample.percentile(50))}  p90 {ms(sample.percentile(90))}  p99 {ms(sample.percentile(99))}  "
              f"max {ms(sample.percentile(100))}")  # fmt: skip
    print(f"  {sample.failures().text()}", flush=True)


def closing(samples: list[Sample]) -> list[str]:
    """Medians (min-max, n) across the samples (inf: a rank fell on a frame that did not arrive), all failures."""
    failures = Failures()
    for sample in samples:
        for kind, count in sample.failures().counts().items():
            failures.add(kind, count=count)
    return [
        f"median (min-max, n) of {len(samples)} samples, ms: "
        + "  ".join(f"p{p} {spread(s.percentile(p) for s in samples).text()}" for p in (50, 90, 99, 100)),
        f"frames received {sum(len(s.latencies) for s in samples)} of {sum(s.expected for s in samples)} due; "
        f"{failures.text()}",
    ]


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000, help="WebSocket subscribers (P8: 1,000)")
    parser.add_argument("--rate", type=float, default=5.0, help="notices written per second")
    parser.add_argument("--notices", type=int, help="how many a sample (default: 30 seconds' worth)")
    parser.add_argument("--samples", type=int, default=3, help="samples, each with new connections and new posts")
    parser.add_argument("--window", type=float, default=60, help="seconds after the last notice a frame may arrive")
    parser.add_argument("--size", type=int, default=500, help="bytes of post content per notice")
    parser.add_argument("--batch", type=int, default=1, help="notices per write")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--deflate", action="store_true", help="let clients negotiate permessage-deflate")
    args = parser.parse_args()
    args.notices = args.notices or round(args.rate * 30)
    if not (args.subscribers >= 1 and args.notices >= 1 and args.samples >= 1 and args.rate > 0 and args.window > 0):
        parser.error("--subscribers, --notices, --samples, --rate and --window must be positive")
    prefix = f"bench-stream-{uuid.uuid4().hex[:8]}-"
    os.environ["PROJECTOR_INDEX_PREFIX"] = prefix  # this process's notices go to the same namespace
    # Every subscriber connects from 127.0.0.1: the per-client connection limit must let them all in (twice over: a
    # sample's connections may hold their leases a moment after the sample closed them).
    env = base_env(PROJECTOR_INDEX_PREFIX=prefix, QUERY_CHANNEL_PREFIX=f"{prefix}query", REDIS_URL=redis_url(),
                   DJANGO_SETTINGS_MODULE="query_service.config.settings",
                   STREAM_MAX_CONNECTIONS_PER_CLIENT=str(2 * args.subscribers + 1))  # fmt: skip
    port = free_port()
    uvicorn = [sys.executable, "-m", "query_service.serve", "query_service.config.asgi:application",
               "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
               "--ws-per-message-deflate", "true" if args.deflate else "false"]  # fmt: skip
    client = redis_client()
    search = OpenSearch(opensearch_url(), timeout=60)
    print(machine_line("before"))
    print(f"stream delivery: {args.subscribers} subscribers, {args.samples} samples of {args.notices} notices at "
          f"{args.rate:g}/s ({args.batch} per write), {args.size} B content, uvicorn x{args.workers} "
          f"(permessage-deflate {'on' if args.deflate else 'off'}) + 1 fan-out; a frame may arrive up to "
          f"{args.window:g} s after the last notice; every subscriber is in this one client process",
          flush=True)  # fmt: skip
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as logs:
        try:
            index_posts(search, prefix, args.notices * args.samples, args.size)
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
                for n in range(1, args.samples + 1):
                    tip = client.get(fanout_position_key()).decode()
                    samples.append(asyncio.run(measure(port, args, tip, first=(n - 1) * args.notices)))
                    report(n, samples[-1])
        finally:
            search.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
            for pattern in (f"{prefix}*", f"{prefix}query*"):
                keys = list(client.scan_iter(pattern))
                if keys:
                    client.delete(*keys)
    for line in closing(samples):
        print(line)
    print(machine_line("after"))
    if not any(sample.latencies for sample in samples):
        sys.exit("no frame arrived")


if __name__ == "__main__":
    main()
