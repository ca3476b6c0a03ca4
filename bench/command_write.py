"""POST /posts/ at concurrency 8 on PostgreSQL, with the outbox and without it (same run), and commit-to-Kafka.

Needs the local services (`make services`). Run: `make bench-command` (or `uv run python -m bench.command_write`).
Serves the command API with gunicorn (gthread) on a scratch database, runs the outbox relay beside it, and
alternates the two variants in rounds so that drift (caches, autovacuum) hits both alike.
"""

from __future__ import annotations

import argparse
import http.client
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from bench.support import (
    base_env,
    free_port,
    manage,
    percentile,
    process,
    request_json,
    run_load,
    scratch_database,
    summary,
    wait_for_http,
)
from events.envelope import decode
from events.topics import topic_for
from runtime.settings import kafka_bootstrap_servers

CREATE = "/api/v1/posts/"
CREATE_WITHOUT_OUTBOX = "/bench/posts-without-outbox/"


class CommitToKafka(threading.Thread):
    """Reads content.posts from its current end and records, per event, occurred_at -> Kafka append/receive."""

    def __init__(self, servers: str) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
        topic = topic_for("post")
        partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic)]
        self.consumer.assign(partitions)
        for tp, offset in self.consumer.end_offsets(partitions).items():
            self.consumer.seek(tp, offset)
        self.to_append: list[float] = []
        self.to_receive: list[float] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            for records in self.consumer.poll(timeout_ms=200).values():
                received = time.time()
                for record in records:
                    occurred = decode(record.value).occurred_at.timestamp()
                    self.to_append.append(record.timestamp / 1000 - occurred)
                    self.to_receive.append(received - occurred)
        self.consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="length of each round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-relay", action="store_true", help="leave the outbox unpublished (isolates the write)")
    args = parser.parse_args()
    servers = kafka_bootstrap_servers()
    logs = Path(tempfile.mkdtemp(prefix="bench-command-"))
    with scratch_database("bench_command") as db_url:
        env = base_env(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.command_settings")
        manage(env, "migrate", "-v0")
        port = free_port()
        gunicorn = [
            "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", "3", "--threads", "4", "--log-level", "warning",
        ]  # fmt: skip
        relay = ["python", "-m", "command_service", "outbox_relay"] if not args.no_relay else ["sleep", "infinity"]
        with process(gunicorn, env, logs / "gunicorn.log"), process(relay, env, logs / "relay.log"):
            wait_for_http(port)
            tokens = _register(port, args.concurrency)
            tail = CommitToKafka(servers)
            tail.start()
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(args.concurrency)]
            results: dict[str, tuple[list[float], float]] = {CREATE: ([], 0.0), CREATE_WITHOUT_OUTBOX: ([], 0.0)}
            for _ in range(args.rounds):
                for path in (CREATE, CREATE_WITHOUT_OUTBOX):
                    latencies, elapsed = run_load(args.concurrency, args.seconds, _poster(conns, tokens, path))
                    results[path] = (results[path][0] + latencies, results[path][1] + elapsed)
            time.sleep(2)  # let the relay and the consumer catch up with the last writes
            tail.running = False
            tail.join(5)
    print(f"POST create, concurrency {args.concurrency}, PostgreSQL, {args.rounds} x {args.seconds:.0f} s per variant")
    print(f"  with outbox     {summary(*results[CREATE])}")
    print(f"  without outbox  {summary(*results[CREATE_WITHOUT_OUTBOX])}")
    ratio = (len(results[CREATE][0]) / results[CREATE][1]) / (
        len(results[CREATE_WITHOUT_OUTBOX][0]) / results[CREATE_WITHOUT_OUTBOX][1]
    )
    print(f"  throughput with / without outbox: {ratio:.2f}")
    for label, values in (("commit -> Kafka append", tail.to_append), ("commit -> consumer", tail.to_receive)):
        if not values:
            continue
        ms = [value * 1000 for value in values]
        print(f"  {label:<24} {len(ms)} events  p50 {percentile(ms, 50):6.1f} ms  p99 {percentile(ms, 99):6.1f} ms")
    print(f"  (logs in {logs}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


def _register(port: int, count: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tokens = []
    for n in range(count):
        user = {"username": f"bench{n}", "password": "bench-password", "display_name": f"Bench {n}"}
        status, _ = request_json(conn, "POST", "/api/v1/users/", user)
        assert status == 201, status
        status, body = request_json(conn, "POST", "/api/v1/auth/token/", {k: user[k] for k in ("username", "password")})
        tokens.append(body["token"])
    return tokens


def _poster(conns: list[http.client.HTTPConnection], tokens: list[str], path: str):
    post = {"title": "A benchmark post", "content": "Some words. " * 50, "tags": ["bench", "load"]}

    def one(worker: int) -> None:
        status, _ = request_json(conns[worker], "POST", path, post, tokens[worker])
        if status != 201:
            raise RuntimeError(f"POST {path} answered {status}")

    return one


if __name__ == "__main__":
    main()
