"""The whole system as users meet it: `python -m infra run` in a child process, reached over HTTP and WebSocket.

One system per test session, on PostgreSQL (a scratch database) and the services `make services` runs, with its
own ports, topics, read models and consumer group so that it never sees another run's data.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from kafka import KafkaAdminClient
from opensearchpy import OpenSearch

from bench.support import free_port, scratch_database, wait_for_http
from runtime.settings import kafka_bootstrap_servers, opensearch_url

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_WRITES_PER_MINUTE = 60  # per user: above what any test's user writes in a minute
E2E_ANONYMOUS_READS_PER_MINUTE = 60  # per client address


@dataclass(frozen=True)
class Answer:
    """One HTTP response."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class System:
    """A running system and clients for its two APIs."""

    command_port: int
    query_port: int
    env: dict[str, str]
    log: Path

    def call(
        self, port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(raw) if raw else None
        )

    def command(self, method: str, path: str, body: Any = None, token: str | None = None, **headers: str) -> Answer:
        """A command API call (`path` under /api/v1/), authenticated when `token` is given."""
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.call(self.command_port, method, f"/api/v1/{path}", body, headers)

    def query(self, path: str, params: dict[str, Any] | None = None, consistency: str | None = None) -> Answer:
        """A query API GET (`path` under /api/v1/)."""
        suffix = f"?{urlencode(params, doseq=True)}" if params else ""
        headers = {"X-Consistency-Token": consistency} if consistency else {}
        return self.call(self.query_port, "GET", f"/api/v1/{path}{suffix}", None, headers)

    def user(self, username: str, display_name: str) -> tuple[str, str]:
        """Register a user and log in; returns (user id, API token)."""
        body = {"username": username, "password": "correct-horse-battery", "display_name": display_name}
        registered = self.command("POST", "users/", body)
        assert registered.status == 201, registered.body
        login = self.command("POST", "auth/token/", {"username": username, "password": body["password"]})
        assert login.status == 200, login.body
        return str(registered.body["id"]), login.body["token"]

    def verify(self) -> subprocess.CompletedProcess[str]:
        """`python -m projector verify` against this system's database and read models."""
        return subprocess.run(
            [sys.executable, "-m", "projector", "verify"], cwd=REPO_ROOT, env=self.env, capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip


def _answers(port: int) -> bool:
    try:
        wait_for_http(port, "/health/", timeout=0.5)
    except RuntimeError:
        return False
    return True


def _exited(proc: subprocess.Popen, log: Path) -> bool:
    """Fails at once, with the run's last lines, when `python -m infra run` ended instead of coming up."""
    if proc.poll() is not None:
        raise AssertionError(f"`python -m infra run` exited with {proc.returncode}:\n" + log.read_text()[-3000:])
    return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The system, up (command and query APIs answering) for the whole session, stopped with Ctrl-C at the end."""
    run_id = uuid.uuid4().hex[:8]
    log = tmp_path_factory.mktemp("e2e") / "system.log"
    with scratch_database(f"e2e_{run_id}") as database_url:
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
        env.update(
            DATABASE_URL=database_url,
            COMMAND_PORT=str(free_port()),
            QUERY_PORT=str(free_port()),
            PROJECTOR_METRICS_PORT=str(free_port()),
            EVENTS_TOPIC_PREFIX=f"e2e-{run_id}.",
            PROJECTOR_INDEX_PREFIX=f"e2e-{run_id}-",
            PROJECTOR_GROUP=f"e2e-{run_id}",
            QUERY_CHANNEL_PREFIX=f"e2e-{run_id}",
            PROJECTOR_BATCH_TIMEOUT="0.1",
            # A short compaction bound for the key topic, so that tests/e2e/test_erasure.py sees an erased person's
            # key leave it (20 s lag + 2 s ticks + the cleaner's 15 s back-off + 1 s, instead of the hour's default).
            SUBJECT_KEYS_COMPACTION_LAG_SECONDS="20",
            SUBJECT_KEYS_TICK_SECONDS="2",
            # Every request comes from 127.0.0.1, so the limits per address that every test shares are off; the
            # sign-in limit per username (OWASP API2 trips it with one username), the write limit per user and
            # the anonymous read limit per address (OWASP API4 trips them as one user, and as a client behind the
            # one trusted proxy `NUM_PROXIES` declares, with an X-Forwarded-For of its own) are on. Every scope is
            # also tested in tests/api/test_throttling_api.py.
            THROTTLE_LOGIN_USERNAME_RATE="5/min",
            THROTTLE_LOGIN_ADDRESS_RATE="off",
            THROTTLE_REGISTER_ADDRESS_RATE="off",
            THROTTLE_WRITE_USER_RATE=f"{E2E_WRITES_PER_MINUTE}/min",
            THROTTLE_ANON_READ_RATE=f"{E2E_ANONYMOUS_READS_PER_MINUTE}/min",
            NUM_PROXIES="1",
            LOG_LEVEL="WARNING",
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "infra", "run"], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            for port in (env["COMMAND_PORT"], env["QUERY_PORT"]):
                eventually(lambda port=port: _answers(int(port)) or _exited(proc, log), timeout=120, pause=0.3)
            yield System(int(env["COMMAND_PORT"]), int(env["QUERY_PORT"]), env, log)
        finally:
            _stop(proc)
            OpenSearch(opensearch_url()).indices.delete(index=f"e2e-{run_id}-*", ignore_unavailable=True)
            admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers())
            admin.delete_topics([t for t in admin.list_topics() if t.startswith(f"e2e-{run_id}.")])
            admin.close()


def eventually(check: Any, timeout: float = 20, pause: float = 0.1) -> Any:
    """Call `check()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(pause)
