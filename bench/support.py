"""What the benchmarks share: a throwaway PostgreSQL database, server processes, concurrent load, and the clean-up
of a run's private namespace. `percentile` is `bench.stats.percentile`, re-exported here for the benches that import
it from this module."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from opensearchpy import OpenSearch

from bench.stats import percentile
from infra.postgres.service import Postgres
from runtime.redis_clients import redis_client
from runtime.settings import kafka_bootstrap_servers, opensearch_url

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the local cluster for the duration of a benchmark; yields its URL."""
    admin_url = Postgres().endpoint().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A child process for the benchmark's duration, terminated (then killed) at the end."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def manage(env: dict[str, str], *args: str) -> None:
    """Run `python -m command_service ARGS` to completion."""
    subprocess.run([sys.executable, "-m", "command_service", *args], cwd=REPO_ROOT, env=env, check=True)


def wait_for_http(port: int, path: str = "/health/", timeout: float = 30) -> None:
    """Wait until a local HTTP server answers 200 on `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


def request_json(
    conn: http.client.HTTPConnection, method: str, path: str, body: object = None, token: str | None = None
) -> tuple[int, dict]:
    """One JSON request on a kept-alive connection."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else {}


def run_load(workers: int, seconds: float, one_request: Callable[[int], None]) -> tuple[list[float], float]:
    """Call `one_request(worker)` from `workers` threads for `seconds`; return latencies (s) and elapsed time."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            one_request(n)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.monotonic() - began


def summary(latencies: list[float], elapsed: float) -> str:
    """`N requests, X/s, p50 / p90 / p99 ms` for a list of latencies in seconds."""
    ms = [value * 1000 for value in latencies]
    return (
        f"{len(ms):6d} requests  {len(ms) / elapsed:7.1f}/s  p50 {percentile(ms, 50):6.1f} ms  "
        f"p90 {percentile(ms, 90):6.1f} ms  p99 {percentile(ms, 99):6.1f} ms"
    )


# A benchmark's few users write and sign in far above any rate limit meant for people (command_service/config/limits).
THROTTLES_OFF = {
    "THROTTLE_LOGIN_USERNAME_RATE": "off",
    "THROTTLE_LOGIN_ADDRESS_RATE": "off",
    "THROTTLE_REGISTER_ADDRESS_RATE": "off",
    "THROTTLE_WRITE_USER_RATE": "off",
    "THROTTLE_ANON_READ_RATE": "off",
}


def base_env(**overrides: str) -> dict[str, str]:
    """The environment for benchmark child processes: ours, quieter, no rate limits, with `overrides`."""
    return {
        **os.environ, "LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench", **THROTTLES_OFF,
        **overrides,
    }  # fmt: skip


def delete_namespace(run: str, group: str, index_prefix: str) -> None:
    """Delete a run's indices (`index_prefix*`), Redis keys (namespaced alike: notices, freshness, heartbeats),
    topics (`run.*`) and consumer group; each kind on its own, so one failure does not leave the others."""
    with contextlib.suppress(Exception):
        OpenSearch(opensearch_url(), timeout=120).indices.delete(index=f"{index_prefix}*", ignore_unavailable=True)
    with contextlib.suppress(Exception):
        client = redis_client()
        keys = list(client.scan_iter(match=f"{index_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    with contextlib.suppress(KafkaError, OSError):
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers())
        try:
            topics = [topic for topic in admin.list_topics() if topic.startswith(f"{run}.")]
            if topics:
                admin.delete_topics(topics)
            with contextlib.suppress(KafkaError):
                admin.delete_groups([group])
        finally:
            admin.close()
