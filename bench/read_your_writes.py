"""Read-your-writes under a steady write load: how long a list with the consistency token takes, and how often stale.

Needs the local services (`make services`). Run: `make bench-ryw` (or `uv run python -m infra exec -- python -m
bench.read_your_writes`). Starts the whole write-to-read path on private names (a scratch PostgreSQL database,
EVENTS_TOPIC_PREFIX, PROJECTOR_INDEX_PREFIX, PROJECTOR_GROUP): the command service (gunicorn gthread 3 x 4), the
outbox relay, the projector and the query service (uvicorn, 2 workers, with the TCP_NODELAY fix of
`query_service.serve`). Writer threads create and publish posts
without pause; each reader thread creates and publishes a post of its own, then at once lists
`/api/v1/posts/?author=<itself>` with the publish response's X-Consistency-Token, and records how long the answer
took, its X-Consistency-Status and whether the post is in it; then the same list without the token (the plain
query's cost under the same load). It prints numbers only; everything it created is deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
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
    """`label: n, p50, p90, p99, max` in milliseconds."""
    if not seconds:
        return f"  {label:<46} no samples"
    ms = [value * 1000 for value in seconds]
    return (
        f"  {label:<46} n {len(ms):5d}  p50 {percentile(ms, 50):7.1f} ms  p90 {percentile(ms, 90):7.1f} ms  "
        f"p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms"
    )


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
    parser.add_argument("--seconds", type=float, default=20, help="length of the measured load")
    parser.add_argument("--writers", type=int, default=4, help="threads creating and publishing without pause")
    parser.add_argument("--readers", type=int, default=2, help="threads writing and reading their own writes")
    parser.add_argument("--wait", type=float, default=2, help="QUERY_CONSISTENCY_WAIT_SECONDS of the query service")
    args = parser.parse_args()
    run = f"benchryw-{uuid.uuid4().hex[:6]}"
    names = {"EVENTS_TOPIC_PREFIX": f"{run}.", "PROJECTOR_INDEX_PREFIX": f"{run}-", "PROJECTOR_GROUP": run}
    os.environ.update(names)  # for ensure_topics and the clean-up here
    logs = Path(tempfile.mkdtemp(prefix="bench-ryw-"))
    began = datetime.now(UTC)
    print(f"read-your-writes benchmark {run}, {began:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores shared by every "
          f"service, process and this load generator; load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    samples = Samples()
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
                stop = threading.Event()
                threads = [threading.Thread(target=writer, args=(c, stop, samples)) for c in clients[: args.writers]]
                threads += [threading.Thread(target=reader, args=(c, stop, samples)) for c in clients[args.writers :]]
                for thread in threads:
                    thread.start()
                time.sleep(args.seconds)
                stop.set()
                for thread in threads:
                    thread.join()
                load_after = os.getloadavg()[0]
    finally:
        delete_namespace(run, run, names["PROJECTOR_INDEX_PREFIX"])
    print(f"load: {args.writers} writer + {args.readers} reader threads for {args.seconds:.0f} s, "
          f"{len(samples.writes)} posts created+published = {len(samples.writes) / args.seconds:.1f} posts/s "
          f"({2 * len(samples.writes) / args.seconds:.1f} events/s); wait bound {args.wait:.1f} s; "
          f"load average at the end {load_after:.2f}")  # fmt: skip
    print(line("list with token (read-your-writes answer)", samples.waits))
    print(f"  {'':<46} stale {samples.stale} of {len(samples.waits)}; consistent but post absent {samples.missing}")
    print(line("same list without token (plain query)", samples.plain))
    print(line("create + publish (command API, all threads)", samples.writes))
    print(line("projector freshness age seen by readers", samples.freshness_ages))
    if samples.errors:
        print(f"  {len(samples.errors)} errors, first: {samples.errors[0]}")
    print(f"(logs in {logs}; topics {run}.*, indices {run}-*, group {run} and the scratch database deleted)")


if __name__ == "__main__":
    main()
