"""POST /posts/ on PostgreSQL: the outbox's cost, the synchronous-indexing peer (P3), and commit -> Kafka append.

Needs the local services (`make services`). Run: `make bench-command` (SAMPLES=3 SECONDS=10 PACED_SECONDS=20), or
`uv run python -m infra exec -- python -m bench.command_write --samples 3`.

Serves the command API with gunicorn (gthread 3 x 4, as `infra.procfile`) on a scratch database, with private
topics (EVENTS_TOPIC_PREFIX; their timestamps are the broker's LogAppendTime) and a private OpenSearch index.

1. Max write rate, closed loop at `--concurrency` (after `--warmup` s of each variant, not counted), `--seconds` per
   variant and sample, `--samples` samples; within a sample the relay-stopped variants take turns in `--slices` short
   slices, and the relay is started (and stopped) once a sample, before or after them in alternate samples:
   - outbox, relay stopped: the write with its outbox row and nothing else running;
   - without outbox, relay stopped: the same view minus the outbox row (bench/command_urls.py);
   - sync index, relay stopped: the peer that indexes the post's document into OpenSearch inside the request,
     as django-opensearch-dsl's signal processor does (bench/sync_index.py);
   - unsealed outbox, relay stopped: the write with crypto-shredding switched off (its personal data in the clear:
     no key lookup, no AES-GCM; bench/command_urls.py), so "sealed / unsealed" is what erasure costs a write;
   - outbox, relay running: the real system, after the relay drained what the stopped rounds left.
   The variants rotate from sample to sample so that drift (table growth, autovacuum, neighbours) hits all alike.
   Every request is counted: a non-201 answer or a connection error is a failure, reported, never dropped; the
   latency percentiles are over every request, the rate counts the 201s.
2. Commit -> Kafka append at half the measured max rate of "outbox, relay running" (the product's own path),
   an open-loop paced load (`--paced-seconds` per sample; request i is due at start + i / rate, a late one does not
   push the others back), relay running with its defaults. Per created post, the first Kafka record of its
   post.created event is paired by aggregate id. The load goes to POST /bench/posts-commit-stamped/, the product's
   create whose unit of work also notes when it committed (bench/sync_index.py), so "commit -> append" is
   LogAppendTime minus that moment. As a check: the commit lies between the event's occurred_at (read in the
   transaction) and the client reading the 201, so "occurred -> append" bounds it from above and "answered ->
   append" from below; "occurred -> consumer" is when this bench's consumer had it. A post without a record within
   `--arrival-timeout` s is counted as missing.

Each figure is printed per sample, then as median (min-max, n) over the samples. Bounded: every loop stops at its
time limit and at `--max-requests` per worker; all traffic goes to the loopback services; the database, topics and
index are deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from opensearchpy import OpenSearch

from bench.stats import Failures, spread
from bench.support import (
    base_env,
    delete_namespace,
    free_port,
    manage,
    percentile,
    process,
    request_json,
    scratch_database,
    wait_for_http,
)
from events.topics import EVENT_TOPICS
from read_models.models import POSTS
from runtime.settings import kafka_bootstrap_servers, opensearch_url

CREATE = "/api/v1/posts/"
WITHOUT_OUTBOX = "/bench/posts-without-outbox/"
SYNC_INDEX = "/bench/posts-sync-index/"
UNSEALED = "/bench/posts-unsealed/"  # CREATE with its personal data not sealed: erasure's cost (bench/command_urls.py)
COMMIT_STAMPED = "/bench/posts-commit-stamped/"  # CREATE, its unit of work noting its commit time (bench/sync_index.py)
COMMITTED_AT = "X-Bench-Committed-At"  # bench.sync_index.COMMITTED_AT (importing that module needs Django set up)
POST = {"title": "A benchmark post", "content": "Some words. " * 50, "tags": ["bench", "load"]}
STOPPED = [("outbox, relay stopped", CREATE), ("without outbox, relay stopped", WITHOUT_OUTBOX),
           ("sync index, relay stopped", SYNC_INDEX), ("unsealed outbox, relay stopped", UNSEALED)]  # fmt: skip
RUNNING = ("outbox, relay running", CREATE)
LOG_APPEND_TIME = 1  # kafka-python's timestamp_type of a broker-stamped record


# Pure helpers (tests/unit/bench/test_command_write.py).


def due_times(rate: float, seconds: float) -> list[float]:
    """Offsets (s from the start) at which the requests of a paced load are due: `rate` a second for `seconds`."""
    if rate <= 0 or seconds <= 0:
        return []
    return [n / rate for n in range(int(rate * seconds))]


def rotated(items: list, turn: int) -> list:
    """`items` rotated left by `turn`, so each sample starts with another variant."""
    turn %= len(items) if items else 1
    return items[turn:] + items[:turn]


@dataclass(frozen=True)
class Arrival:
    """A post.created record as this bench's consumer saw it: times in epoch seconds."""

    aggregate_id: str
    occurred: float
    appended: float
    received: float


def pair_arrivals(created: Iterable[str], arrivals: Iterable[Arrival]) -> tuple[list[Arrival], int]:
    """The first arrival (earliest append) of each created aggregate, and how many created ones have none.

    A resend (at-least-once) repeats an event; only its first append counts. Arrivals of other aggregates (an
    earlier sample's) are left out.
    """
    wanted = set(created)
    first: dict[str, Arrival] = {}
    for arrival in arrivals:
        if arrival.aggregate_id in wanted:
            seen = first.get(arrival.aggregate_id)
            if seen is None or arrival.appended < seen.appended:
                first[arrival.aggregate_id] = arrival
    return list(first.values()), len(wanted) - len(first)


def ms_p50_p99(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms (nearest rank); NaN for no values."""
    if not seconds:
        return float("nan"), float("nan")
    ms = [value * 1000 for value in seconds]
    return percentile(ms, 50), percentile(ms, 99)


# Load.


@dataclass(frozen=True)
class Outcome:
    """One POST: created or not (and why not), the post's id, its commit time when the server stamped it."""

    ok: bool
    failure: str = ""
    post_id: str | None = None
    committed: float | None = None


class Client:
    """One signed-in user on a kept-alive connection; reconnects after a connection error."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def reconnect(self) -> None:
        """A fresh connection (before a measurement: the server may have closed an idle one)."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def post(self, path: str) -> Outcome:
        """POST a post."""
        headers = {"Content-Type": "application/json", "Authorization": f"Token {self.token}"}
        try:
            self.conn.request("POST", path, body=json.dumps(POST), headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            body = json.loads(data) if data else {}
        except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
            self.reconnect()
            return Outcome(False, f"{type(exc).__name__}: {exc}")
        if response.status != 201:
            return Outcome(False, f"HTTP {response.status}: {str(body)[:120]}")
        committed = response.getheader(COMMITTED_AT)
        return Outcome(True, "", str(body["id"]), float(committed) if committed else None)


@dataclass
class LoadResult:
    """One sample of one variant."""

    latencies: list[float] = field(default_factory=list)  # every request, failed ones too
    ok: int = 0
    failures: Failures = field(default_factory=Failures)
    elapsed: float = 0.0
    created: list[str] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)  # post id -> epoch time its 201 was read (after commit)
    committed: dict[str, float] = field(default_factory=dict)  # post id -> its commit time (COMMIT_STAMPED only)
    late: list[float] = field(default_factory=list)  # paced only: how late each request was sent

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def line(self) -> str:
        p50, p99 = ms_p50_p99(self.latencies)
        return (
            f"{len(self.latencies):6d} requests  {self.ok:6d} ok  {self.rate:7.1f} ok/s  p50 {p50:6.1f} ms  "
            f"p99 {p99:6.1f} ms  {self.failures.text()}"
        )


def _record(result: LoadResult, lock: threading.Lock, latency: float, outcome: Outcome) -> None:
    answered = time.time()
    with lock:
        result.latencies.append(latency)
        if outcome.ok and outcome.post_id is not None:
            result.ok += 1
            result.created.append(outcome.post_id)
            result.answered[outcome.post_id] = answered
            if outcome.committed is not None:
                result.committed[outcome.post_id] = outcome.committed
    if not outcome.ok:
        result.failures.add("post", outcome.failure)


def closed_loop(
    clients: list[Client], path: str, seconds: float, max_requests: int, into: LoadResult | None = None
) -> LoadResult:
    """Each client POSTs back to back for `seconds` (at most `max_requests` each); adds to `into` if given."""
    result, lock = into or LoadResult(), threading.Lock()
    for client in clients:
        client.reconnect()
    stop_at = time.monotonic() + seconds

    def worker(client: Client) -> None:
        for _ in range(max_requests):
            if time.monotonic() >= stop_at:
                return
            started = time.perf_counter()
            outcome = client.post(path)
            _record(result, lock, time.perf_counter() - started, outcome)

    began = time.monotonic()
    _in_threads(worker, clients)
    result.elapsed += time.monotonic() - began
    return result


def paced(clients: list[Client], path: str, rate: float, seconds: float) -> LoadResult:
    """Open-loop load: request i is due at start + i / rate; a free client sends the next due one."""
    due = due_times(rate, seconds)
    result, lock = LoadResult(), threading.Lock()
    next_index = iter(range(len(due)))
    for client in clients:
        client.reconnect()
    began = time.monotonic() + 0.05

    def worker(client: Client) -> None:
        while True:
            with lock:
                n = next(next_index, None)
            if n is None:
                return
            wait = began + due[n] - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sent = time.monotonic()
            outcome = client.post(path)
            done = time.monotonic()
            _record(result, lock, done - sent, outcome)
            with lock:
                result.late.append(max(0.0, sent - began - due[n]))

    _in_threads(worker, clients)
    result.elapsed = max(time.monotonic() - began, seconds)
    return result


def _in_threads(worker, clients: list[Client]) -> None:
    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# Kafka.


class Tail(threading.Thread):
    """Reads the private posts topic from its end; records every post.created record's times."""

    def __init__(self, servers: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
        partitions = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or ())]
        self.consumer.assign(partitions)
        for tp, offset in self.consumer.end_offsets(partitions).items():
            self.consumer.seek(tp, offset)
        self.arrivals: list[Arrival] = []
        self.not_broker_stamped = 0
        self.lock = threading.Lock()
        self.running = True

    def run(self) -> None:
        while self.running:
            for records in self.consumer.poll(timeout_ms=200).values():
                received = time.time()
                for record in records:
                    # The envelope's clear fields: the payload is sealed, and this tail holds no keys.
                    event = json.loads(record.value)
                    self.not_broker_stamped += record.timestamp_type != LOG_APPEND_TIME
                    occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
                    arrival = Arrival(event["aggregate_id"], occurred, record.timestamp / 1000, received)
                    with self.lock:
                        self.arrivals.append(arrival)
        self.consumer.close()

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def wait_for(self, created: list[str], timeout: float) -> tuple[list[Arrival], int]:
        """Pair `created` with arrivals, waiting up to `timeout` s for the missing ones."""
        deadline = time.monotonic() + timeout
        while True:
            paired, missing = pair_arrivals(created, self.snapshot())
            if not missing or time.monotonic() > deadline:
                return paired, missing
            time.sleep(0.2)


def create_topics(servers: str, prefix: str) -> None:
    """The private event topics, their records stamped by the broker at append (LogAppendTime)."""
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        config = {"message.timestamp.type": "LogAppendTime"}
        admin.create_topics([NewTopic(prefix + spec.name, spec.partitions, 1, topic_configs=config)
                             for spec in EVENT_TOPICS.values()])  # fmt: skip
    finally:
        admin.close()


# The relay.


def relay_ready(db_url: str, timeout: float = 120) -> None:
    """Wait until the outbox is drained and the relay LISTENs (it is idle, waiting for commits)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            pending = conn.execute("SELECT count(*) FROM outbox_events WHERE sent_at IS NULL").fetchone()[0]
            listening = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %%'"
            ).fetchone()[0]
            if not pending and listening:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the relay did not drain the outbox and LISTEN within {timeout} s")


@contextlib.contextmanager
def relay(env: dict[str, str], db_url: str, log: Path) -> Iterator[None]:
    """The outbox relay with its defaults, running and caught up for the block's duration."""
    with process(["python", "-m", "command_service", "outbox_relay"], env, log):
        relay_ready(db_url)
        yield


# The run.


def register(port: int, count: int) -> list[str]:
    """`count` users' tokens."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tokens = []
    for n in range(count):
        user = {"username": f"bench{n}", "password": "bench-password", "display_name": f"Bench {n}"}
        status, _ = request_json(conn, "POST", "/api/v1/users/", user)
        assert status == 201, status
        status, body = request_json(conn, "POST", "/api/v1/auth/token/", {k: user[k] for k in ("username", "password")})
        tokens.append(body["token"])
    return tokens


def figure(label: str, values: list[float], unit: str, fmt: str = ".1f") -> str:
    return f"    {label:<22} {spread(values).text(fmt, unit)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3, help="samples of every figure (at least 3 for a median)")
    parser.add_argument("--seconds", type=float, default=10, help="length of one closed-loop sample")
    parser.add_argument("--slices", type=int, default=4, help="turns the relay-stopped variants take in a sample")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of each variant before the samples")
    parser.add_argument("--paced-seconds", type=float, default=20, help="length of one paced sample")
    parser.add_argument("--paced-clients", type=int, default=16, help="clients sending the paced load")
    parser.add_argument("--rate", type=float, help="paced rate (writes/s); default: half the measured max rate")
    parser.add_argument("--arrival-timeout", type=float, default=30, help="seconds to wait for a sample's events")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per client and sample")
    args = parser.parse_args()
    servers = kafka_bootstrap_servers()
    run = f"benchcmd{os.getpid()}"
    logs = Path(tempfile.mkdtemp(prefix="bench-command-"))
    try:
        with scratch_database(f"bench_command_{os.getpid()}") as db_url:
            _run(args, servers, run, db_url, logs)
    finally:
        delete_namespace(run, f"{run}-none", f"{run}-")


def _run(args: argparse.Namespace, servers: str, run: str, db_url: str, logs: Path) -> None:
    index = f"{run}-posts"
    env = base_env(
        DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.sync_index_settings", EVENTS_TOPIC_PREFIX=f"{run}.",
        PROJECTOR_INDEX_PREFIX=f"{run}-", BENCH_SYNC_INDEX=index,  # the prefix keeps the relay's heartbeat private
    )  # fmt: skip
    create_topics(servers, f"{run}.")
    OpenSearch(opensearch_url(), timeout=30).indices.create(index=index, body=POSTS.body())
    manage(env, "migrate", "-v0")
    port = free_port()
    gunicorn = [
        "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", "3", "--threads", "4", "--log-level", "warning",
        "--keep-alive", "60",  # a paced client may idle past gunicorn's 2 s; a closed idle connection is no failure
    ]  # fmt: skip
    closed: dict[str, list[LoadResult]] = {label: [] for label, _ in [*STOPPED, RUNNING]}
    lags: list[tuple[list[Arrival], int]] = []
    with process(gunicorn, env, logs / "gunicorn.log"):
        wait_for_http(port)
        tokens = register(port, max(args.concurrency, args.paced_clients))
        clients = [Client(port, token) for token in tokens]
        tail = Tail(servers, f"{run}.{EVENT_TOPICS['post'].name}")
        tail.start()
        warm = LoadResult()
        for _, path in STOPPED:  # every gunicorn thread opens its connections and loads its code before measuring
            closed_loop(clients[: args.concurrency], path, args.warmup, args.max_requests, warm)
        print(f"warm-up (not counted): {len(warm.latencies)} requests, {warm.failures.text()}")
        print(
            f"POST create on PostgreSQL, closed loop at concurrency {args.concurrency}, {args.seconds:.0f} s a sample"
        )
        for sample in range(args.samples):
            blocks = [("stopped", rotated(STOPPED, sample)), ("running", [RUNNING])]
            for kind, variants in blocks if sample % 2 == 0 else blocks[::-1]:
                with (
                    relay(env, db_url, logs / f"relay-{sample}.log") if kind == "running" else contextlib.nullcontext()
                ):
                    merged = {label: LoadResult() for label, _ in variants}
                    for turn in range(args.slices):  # the variants of a block take turns in short slices
                        for label, path in rotated(variants, turn):
                            slice_seconds = args.seconds / args.slices
                            closed_loop(
                                clients[: args.concurrency], path, slice_seconds, args.max_requests, merged[label]
                            )
                    for label, result in merged.items():
                        closed[label].append(result)
                        print(f"  sample {sample + 1}  {label:<30} {result.line()}", flush=True)
        max_rate = spread([r.rate for r in closed[RUNNING[0]]]).median
        rate = args.rate or max_rate / 2
        print(f"Commit -> Kafka append, paced at {rate:.1f} writes/s (half of {max_rate:.1f}/s), "
              f"{args.paced_seconds:.0f} s a sample, {args.paced_clients} clients, relay running")  # fmt: skip
        paced_results: list[LoadResult] = []
        with relay(env, db_url, logs / "relay-paced.log"):
            for sample in range(args.samples):
                result = paced(clients[: args.paced_clients], COMMIT_STAMPED, rate, args.paced_seconds)
                paired, missing = tail.wait_for(result.created, args.arrival_timeout)
                paced_results.append(result)
                lags.append((paired, missing))
                lines = "  ".join(f"{name} p50 {p50:.1f} p99 {p99:.1f} ms" for name, (p50, p99) in
                                  lag_figures(result, paired).items())  # fmt: skip
                print(
                    f"  sample {sample + 1}  {result.line()}  sent late p99 {ms_p50_p99(result.late)[1]:.1f} ms\n"
                    f"            {len(paired)} events, {missing} missing  {lines}",
                    flush=True,
                )
        tail.running = False
        tail.join(5)
    _summary(closed, paced_results, lags, tail.not_broker_stamped, logs)


def lag_figures(result: LoadResult, paired: list[Arrival]) -> dict[str, tuple[float, float]]:
    """p50, p99 (ms) of a paced sample's lags. "commit -> append" starts at the commit the server stamped; as a check
    of that stamp, the commit lies between the event's occurred_at (in the transaction) and the client reading the
    201, so "occurred -> append" bounds it from above and "answered -> append" from below (negative when the record
    was appended before the answer was read)."""
    stamped = [a for a in paired if a.aggregate_id in result.committed]
    return {
        "commit -> append": ms_p50_p99([a.appended - result.committed[a.aggregate_id] for a in stamped]),
        "occurred -> append": ms_p50_p99([a.appended - a.occurred for a in paired]),
        "answered -> append": ms_p50_p99([a.appended - result.answered[a.aggregate_id] for a in paired]),
        "occurred -> consumer": ms_p50_p99([a.received - a.occurred for a in paired]),
    }


def _summary(
    closed: dict[str, list[LoadResult]],
    paced_results: list[LoadResult],
    lags: list[tuple[list[Arrival], int]],
    not_broker_stamped: int,
    logs: Path,
) -> None:
    print("Summary: median (min-max, n samples)")
    for label, results in closed.items():
        print(f"  {label}")
        print(figure("ok/s", [r.rate for r in results], "/s"))
        print(figure("p50", [ms_p50_p99(r.latencies)[0] for r in results], "ms"))
        print(figure("p99", [ms_p50_p99(r.latencies)[1] for r in results], "ms"))
        requests, failed = sum(len(r.latencies) for r in results), sum(r.failures.total for r in results)
        print(f"    {'requests, failed':<22} {requests}, {failed}")
    stopped, running = closed[STOPPED[0][0]], closed[RUNNING[0]]
    without, sync, unsealed = closed[STOPPED[1][0]], closed[STOPPED[2][0]], closed[STOPPED[3][0]]
    for name, numerator, denominator in (
        ("outbox / without outbox, relay stopped", stopped, without),
        ("sealed / unsealed outbox, relay stopped", stopped, unsealed),
        ("outbox relay running / relay stopped", running, stopped),
        ("outbox relay running / sync index", running, sync),
    ):
        ratios = [a.rate / b.rate for a, b in zip(numerator, denominator, strict=True) if b.rate]
        print(f"  ok/s {name:<40} {spread(ratios).text('.2f')}")
    print("  commit -> Kafka append at half the max rate (paced, relay running)")
    print(figure("achieved ok/s", [r.rate for r in paced_results], "/s"))
    per_sample = [lag_figures(result, paired) for result, (paired, _) in zip(paced_results, lags, strict=True)]
    for name in per_sample[0] if per_sample else ():
        print(figure(f"{name} p50", [figures[name][0] for figures in per_sample], "ms"))
        print(figure(f"{name} p99", [figures[name][1] for figures in per_sample], "ms"))
    print(figure("request p50", [ms_p50_p99(r.latencies)[0] for r in paced_results], "ms"))
    print(figure("request p99", [ms_p50_p99(r.latencies)[1] for r in paced_results], "ms"))
    events, missing = sum(len(p) for p, _ in lags), sum(m for _, m in lags)
    failed = sum(r.failures.total for r in paced_results)
    print(f"    {'events, missing':<22} {events}, {missing}; failed requests {failed}")
    if not_broker_stamped:
        print(f"  WARNING: {not_broker_stamped} records carried no LogAppendTime: their append time is the producer's")
    print(f"  (server and relay logs in {logs})")


if __name__ == "__main__":
    main()
