"""Read-your-writes under a steady write load: how long a list with the consistency token takes, and how often stale.

Needs the local services (`make services`). Run: `make bench-ryw` (or `uv run python -m infra exec -- python -m
bench.read_your_writes`). Starts the whole write-to-read path on private names (a scratch PostgreSQL database,
EVENTS_TOPIC_PREFIX, PROJECTOR_INDEX_PREFIX, PROJECTOR_GROUP): the command service (gunicorn gthread 3 x 4), the
outbox relay, the projector and the query service (uvicorn, 2 workers, with the TCP_NODELAY fix of
`query_service.serve`). Writer threads create and publish posts
without pause; each reader thread creates and publishes a post of its own, then at once lists
`/api/v1/posts/?author=<itself>` with the publish response's X-Consistency-Token, and records how long the answer
took, its X-Consistency-Status and whether the post is in it; then the same list without the token (the plain
query's cost under the same load). `--samples` samples of `--seconds` each run on the same system; a sample's rates
divide by its measured time (from the threads' start until the last finished its step), and the medians and spread
across samples and every failed request come last. It prints numbers only; everything it created is deleted at the
end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import Failures, machine_line, spread
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
from events.topics import dead_letter_spec, ensure_topics
from runtime.settings import kafka_bootstrap_servers

# Reader threads by default. A reader's round is serial (create + publish, the list with the token, which waits for
# the projector, then the plain list): 1.7-2.4 s a round on this 2-core machine under load (8 readers gave 4.1-4.7
# token reads/s, 42-50 in a 10 s sample). A p99 by nearest rank is more than the maximum only past 100 reads, so 16
# readers over the default 20 s (some 130-190 reads at that pace) rather than the former 2 (about 20, where p99, p90
# and the maximum were the same one read); `line` says when a sample still has fewer than 100.
READERS = 16

POST = {"title": "Read your writes", "content": "A post written under load and read back at once. " * 20,
        "tags": ["bench", "ryw"]}  # fmt: skip


@dataclass
class Samples:
    """What the threads record (appends from several threads: list.append is atomic)."""

    waits: list[float] = field(default_factory=list)  # seconds, the answer with the token
    plain: list[float] = field(default_factory=list)  # seconds, the same list without the token
    writes: list[float] = field(default_factory=list)  # seconds, create + publish, every thread
    stale: int = 0
    missing: int = 0  # answered "consistent" but the post was not in the list
    freshness_ages: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0  # seconds from the threads' start to the last one's end (what the rates divide by)

    @property
    def reads(self) -> int:
        """Reads with the token done (each reader's write is also in `writes`)."""
        return len(self.waits)


class Client:
    """A user of the system: a token and a kept-alive connection to each API."""

    def __init__(self, command_port: int, query_port: int, name: str) -> None:
        self.command = http.client.HTTPConnection("127.0.0.1", command_port, timeout=30)
        self.query = http.client.HTTPConnection("127.0.0.1", query_port, timeout=30)
        user = {"username": name, "password": "bench-password", "display_name": name}
        status, body = request_json(self.command, "POST", "/api/v1/users/", user)
        if status != 201:
            raise RuntimeError(f"register answered {status}: {body}")
        self.user_id = body["id"]
        _, body = request_json(
            self.command, "POST", "/api/v1/auth/token/", {k: user[k] for k in ("username", "password")}
        )
        self.token = body["token"]

    def _call(self, conn: http.client.HTTPConnection, method: str, path: str, body: object = None,
              headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, dict]:  # fmt: skip
        """One JSON request; a kept-alive connection the server closed meanwhile is reopened once."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        for attempt in (1, 2):
            try:
                conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, response.headers, json.loads(data) if data else {}
            except (ConnectionError, http.client.RemoteDisconnected):
                conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def write(self) -> tuple[str, str]:
        """Create and publish a post; (post id, the publish response's consistency token)."""
        auth = {"Authorization": f"Token {self.token}"}
        status, _, body = self._call(self.command, "POST", "/api/v1/posts/", POST, auth)
        if status != 201:
            raise RuntimeError(f"create answered {status}: {body}")
        status, headers, body = self._call(self.command, "POST", f"/api/v1/posts/{body['id']}/publish/", None, auth)
        if status != 200:
            raise RuntimeError(f"publish answered {status}: {body}")
        return str(body["id"]), headers["X-Consistency-Token"]

    def list_mine(self, token: str | None) -> tuple[str | None, dict]:
        """My posts from the query service, with the consistency token if given; (status header, body)."""
        headers = {"X-Consistency-Token": token} if token else {}
        status, headers, body = self._call(self.query, "GET", f"/api/v1/posts/?author={self.user_id}", None, headers)
        if status != 200:
            raise RuntimeError(f"list answered {status}: {body}")
        return headers.get("X-Consistency-Status"), body


def writer(client: Client, stop: threading.Event, samples: Samples) -> None:
    """Create and publish posts until told to stop."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            client.write()
        except Exception as error:  # keep loading; the count is printed
            samples.errors.append(f"writer: {error}")
            continue
        samples.writes.append(time.perf_counter() - started)


def reader(client: Client, stop: threading.Event, samples: Samples) -> None:
    """Write, then read my own write back with its token; then the same list without it."""
    while not stop.is_set():
        try:
            started = time.perf_counter()
            post_id, token = client.write()
            samples.writes.append(time.perf_counter() - started)
            started = time.perf_counter()
            status, body = client.list_mine(token)
            samples.waits.append(time.perf_counter() - started)
            if status != "consistent":
                samples.stale += 1
            elif post_id not in {post["id"] for post in body["results"]}:
                samples.missing += 1
            if body.get("freshness"):
                samples.freshness_ages.append(body["freshness"]["age_seconds"])
            started = time.perf_counter()
            client.list_mine(None)
            samples.plain.append(time.perf_counter() - started)
        except Exception as error:
            samples.errors.append(f"reader: {error}")


def line(label: str, seconds: list[float]) -> str:
    """`label: n, p50, p90, p99, max` in milliseconds (nearest rank; under 100 values the p99 is the max)."""
    if not seconds:
        return f"  {label:<46} no samples"
    ms = [value * 1000 for value in seconds]
    few = " (n < 100: p99 = max)" if len(ms) < 100 else ""
    return (
        f"  {label:<46} n {len(ms):5d}  p50 {percentile(ms, 50):7.1f} ms  p90 {percentile(ms, 90):7.1f} ms  "
        f"p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms{few}"
    )


def run_sample(clients: list[Client], writers: int, seconds: float) -> Samples:
    """`writers` writer threads and a reader thread per other client for `seconds`; each thread finishes its current
    step after the stop, so the sample's rates divide by the measured time from start to the last thread's end."""
    samples = Samples()
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(c, stop, samples)) for c in clients[:writers]]
    threads += [threading.Thread(target=reader, args=(c, stop, samples)) for c in clients[writers:]]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    samples.elapsed = time.monotonic() - began
    return samples


def report(n: int, samples: Samples, wait: float) -> None:
    """One sample's lines."""
    writes, elapsed = len(samples.writes), samples.elapsed
    print(f"sample {n}: {elapsed:.1f} s measured, {writes} posts created+published = {writes / elapsed:.1f} posts/s "
          f"({2 * writes / elapsed:.1f} events/s), {samples.reads} token reads = {samples.reads / elapsed:.1f}/s; "
          f"wait bound {wait:.1f} s; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(line("list with token (read-your-writes answer)", samples.waits))
    print(f"  {'':<46} stale {samples.stale} of {samples.reads}; consistent but post absent {samples.missing}")
    print(line("same list without token (plain query)", samples.plain))
    print(line("create + publish (command API, all threads)", samples.writes))
    print(line("projector freshness age seen by readers", samples.freshness_ages))
    if samples.errors:
        print(f"  {len(samples.errors)} errors, first: {samples.errors[0]}")


def closing(runs: list[Samples]) -> list[str]:
    """Medians (min-max, n) across the samples of each sample's figures, and the failures of all of them."""

    def ms(values: list[float], p: float) -> float:
        return percentile(values, p) * 1000 if values else math.nan

    failures = Failures()
    for run in runs:
        for error in run.errors:
            failures.add(error.partition(":")[0], error)
        failures.add("consistent but post absent", count=run.missing)
    return [
        f"median (min-max, n) of {len(runs)} samples:",
        f"  list with token   p50 {spread(ms(r.waits, 50) for r in runs).text(unit='ms')}  "
        f"p99 {spread(ms(r.waits, 99) for r in runs).text(unit='ms')}  "
        f"stale {spread(r.stale for r in runs).text('.0f')}",
        f"  list without token p50 {spread(ms(r.plain, 50) for r in runs).text(unit='ms')}  "
        f"p99 {spread(ms(r.plain, 99) for r in runs).text(unit='ms')}",
        f"  load  {spread(len(r.writes) / r.elapsed for r in runs).text(unit='posts/s')}  "
        f"{spread(r.reads / r.elapsed for r in runs).text(unit='token reads/s')}",
        f"  list with token, every sample's reads pooled: {line('', [w for r in runs for w in r.waits]).strip()}",
        f"  {failures.text()}",
    ]


def wait_until_projecting(client: Client, timeout: float = 60) -> float:
    """Write once and poll the list until the post shows (the projector has joined its group); seconds taken."""
    started = time.monotonic()
    post_id, _ = client.write()
    while time.monotonic() - started < timeout:
        _, body = client.list_mine(None)
        if any(post["id"] == post_id for post in body["results"]):
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"the projector did not make a post searchable within {timeout} s")


@contextlib.contextmanager
def system(env: dict[str, str], logs: Path) -> Iterator[tuple[int, int]]:
    """The command service, relay, projector and query service on private names; yields (command, query) ports."""
    command_port, query_port = free_port(), free_port()
    py = sys.executable
    gunicorn = [
        py, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{command_port}",
        "--worker-class", "gthread", "--workers", "3", "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip
    uvicorn = [
        py, "-m", "query_service.serve", "query_service.config.asgi:application", "--host", "127.0.0.1", "--port",
        str(query_port), "--workers", "2", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with (
        process(gunicorn, env, logs / "command.log"),
        process([py, "-m", "command_service", "outbox_relay"], env, logs / "relay.log"),
        process([py, "-m", "projector", "run"], env, logs / "projector.log"),
        process(uvicorn, env, logs / "query.log"),
    ):
        wait_for_http(command_port)
        wait_for_http(query_port)
        yield command_port, query_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="length of each sample's measured load")
    parser.add_argument("--samples", type=int, default=3, help="samples on the same system (medians across them last)")
    parser.add_argument("--writers", type=int, default=4, help="threads creating and publishing without pause")
    parser.add_argument("--readers", type=int, default=READERS, help="threads writing and reading their own writes")
    parser.add_argument("--wait", type=float, default=2, help="QUERY_CONSISTENCY_WAIT_SECONDS of the query service")
    args = parser.parse_args()
    if not (args.seconds > 0 and args.samples >= 1 and args.writers >= 0 and args.readers >= 1):
        parser.error("--seconds, --samples and --readers must be positive, --writers not negative")
    run = f"benchryw-{uuid.uuid4().hex[:6]}"
    names = {"EVENTS_TOPIC_PREFIX": f"{run}.", "PROJECTOR_INDEX_PREFIX": f"{run}-", "PROJECTOR_GROUP": run}
    os.environ.update(names)  # for ensure_topics and the clean-up here
    logs = Path(tempfile.mkdtemp(prefix="bench-ryw-"))
    began = datetime.now(UTC)
    print(machine_line("before"))
    print(f"read-your-writes benchmark {run}, {began:%Y-%m-%d %H:%M} UTC; the cores are shared by every service, "
          f"process and this load generator; load: {args.writers} writer + {args.readers} reader threads, "
          f"{args.samples} samples of {args.seconds:g} s", flush=True)  # fmt: skip
    runs: list[Samples] = []
    try:
        ensure_topics(kafka_bootstrap_servers(), extra=[dead_letter_spec(run)])
        with scratch_database(run.replace("-", "_")) as db_url:
            wait = str(args.wait)
            env = base_env(
                DATABASE_URL=db_url, PROJECTOR_METRICS_PORT="0", QUERY_CONSISTENCY_WAIT_SECONDS=wait, **names
            )
            env.pop("DJANGO_SETTINGS_MODULE", None)  # each entry point names its own settings
            manage(env, "migrate", "-v0")
            with system(env, logs) as (command_port, query_port):
                clients = [Client(command_port, query_port, f"ryw_{n}") for n in range(args.writers + args.readers)]
                print(f"first write searchable after {wait_until_projecting(clients[-1]):.1f} s (projector start-up)")
                for n in range(1, args.samples + 1):
                    runs.append(run_sample(clients, args.writers, args.seconds))
                    report(n, runs[-1], args.wait)
    finally:
        delete_namespace(run, run, names["PROJECTOR_INDEX_PREFIX"])
    for text in closing(runs):
        print(text)
    print(f"(logs in {logs}; topics {run}.*, indices {run}-*, group {run} and the scratch database deleted)")
    print(machine_line("after"))
    if not any(r.waits for r in runs):
        sys.exit("no read-your-writes read succeeded")


if __name__ == "__main__":
    main()
