"""The local Redis that `make services` starts has bounded memory, and when it is full only keys with a TTL go.

Each test starts a redis-server of its own through `python -m infra up redis` (the code path `make services` runs),
on a free port and a private SERVICES_DIR, and stops it with `python -m infra down redis`; the shared server is
never touched. A full Redis refuses writes of keys without a TTL (OOM): the projector's Redis-outage path takes
that like any other Redis error (notices lost, counted, then a gap marker).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from events.envelope import EventEnvelope
from events.types import PostEdited
from projector.consumer.notices import Notices
from projector.consumer.writer import Applied
from read_models.keys import notice_stream
from read_models.notices import Retention, notice_parse
from runtime.settings import REDIS_MAXMEMORY_POLICY

type RunInfra = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def start_redis(run_infra: RunInfra, free_port: Callable[[], int]) -> Iterator[Callable[..., redis.Redis]]:
    """Starts a private Redis by `python -m infra up redis` with the given environment; stops it afterwards."""
    started: list[str] = []

    def start(**env: str | None) -> redis.Redis:
        port = str(free_port())
        result = run_infra("up", "redis", REDIS_PORT=port, **env)
        assert result.returncode == 0, result.stderr
        started.append(port)
        return redis.Redis(host="127.0.0.1", port=int(port), socket_timeout=5)

    yield start
    for port in started:
        down = run_infra("down", "redis", REDIS_PORT=port)
        assert down.returncode == 0, down.stderr


def test_make_services_starts_redis_with_a_memory_bound_and_an_eviction_policy_for_keys_with_a_ttl(
    start_redis: Callable[..., redis.Redis],
) -> None:
    client = start_redis(REDIS_MAXMEMORY=None)
    assert client.config_get("maxmemory") == {"maxmemory": str(1024**3)}  # the default, 1gb
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "volatile-ttl"}
    assert REDIS_MAXMEMORY_POLICY == "volatile-ttl"


def test_redis_maxmemory_sets_the_bound_and_a_bad_value_is_refused_by_name(
    start_redis: Callable[..., redis.Redis], run_infra: RunInfra, free_port: Callable[[], int], tmp_path: Path
) -> None:
    client = start_redis(REDIS_MAXMEMORY="64mb")
    assert client.config_get("maxmemory") == {"maxmemory": str(64 * 1024**2)}
    other = {"SERVICES_DIR": str(tmp_path / "other"), "REDIS_PORT": str(free_port())}
    refused = run_infra("up", "redis", REDIS_MAXMEMORY="lots", **other)
    assert refused.returncode != 0
    assert "REDIS_MAXMEMORY" in refused.stdout + refused.stderr


def edits(first: int, count: int) -> list[Applied]:
    """Applied edits of one post (versions from `first`), with their documents."""
    applied = []
    for version in range(first, first + count):
        event = EventEnvelope.create(
            PostEdited("1", "T", f"v{version}"), aggregate_version=version, correlation_id="t", subject_id="7"
        )
        applied.append(Applied(event, {"id": "1", "title": "T", "content": f"v{version}", "post_version": version}))
    return applied


def fill(client: redis.Redis) -> int:
    """Write 100 kB keys without a TTL until Redis refuses one for want of memory; how many it took."""
    for filled in range(500):  # 50 MB at most: the bounds used here are far below
        try:
            client.set(f"kept:{filled}", b"x" * 100_000)
        except redis.exceptions.OutOfMemoryError:
            return filled
    raise AssertionError("Redis took 50 MB without refusing a write: no memory bound")


def test_a_full_redis_evicts_keys_with_a_ttl_then_refuses_writes_and_the_projector_loses_notices_with_a_gap(
    start_redis: Callable[..., redis.Redis],
) -> None:
    client = start_redis(REDIS_MAXMEMORY="8mb")
    client.set("re-creatable", b"x" * 100_000, ex=3600)
    filled = fill(client)
    assert client.exists("re-creatable") == 0  # evicted before any write was refused
    assert client.exists("kept:0") == 1  # a key without a TTL is never evicted

    notices = Notices(client, "g", Retention(count=1000, max_age_seconds=3600, max_bytes=10**6))
    notices.publish(edits(1, 2))  # refused (OOM), like any Redis error: lost, not raised
    assert notices.lost == 2
    assert client.xlen(notice_stream()) == 0

    client.delete(*(f"kept:{n}" for n in range(filled)))
    notices.publish(edits(3, 1))
    parsed = [notice_parse(entry) for entry in client.xrange(notice_stream())]
    assert [notice.gap for notice in parsed] == [True, False]  # a gap marker, then the notice written after it
    assert parsed[1].event["aggregate_version"] == 3
    assert notices.lost == 0
