"""Redis down or hung: projection goes on, and the lost notices leave a gap marker that makes subscribers resync.

The projector is wired by its own `bootstrap()` against a private redis-server of the test's (the shared one is never
stopped), on the test's own topics, group and indices. Redis is either terminated (then started again, empty, on
the same port) or frozen with SIGSTOP (then SIGCONT): in both cases the batches of the outage are applied and
committed, and the first notices written after it follow a gap marker that the query side turns into a chain break.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client import REGISTRY

from bench.support import free_port
from command_service.services import posts
from infra.process import wait_until
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.consumer.loop import ProjectorLoop
from query_service.stream import notices
from read_models.keys import notice_stream
from read_models.notices import notice_parse
from tests.integration.projector.conftest import register, uow
from tests.integration.projector.test_consumer_loop import drain, publish_outbox


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, without persistence."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                   "--save", "", "--appendonly", "no", "--logfile", ""]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        assert wait_until(lambda: _answers(client), timeout=20, interval=0.05), "the private redis-server did not start"

    def terminate(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(20)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.terminate()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def loop(private_projector: ProjectorConfig, private_redis: PrivateRedis) -> Iterator[ProjectorLoop]:
    loop = bootstrap(private_projector)  # the real wiring: its Redis client and its timeouts
    yield loop
    loop.close()


def post_written(title: str, servers: str) -> str:
    """A new author's post, created and published through the command service and relayed to Kafka; its id."""
    author = register(f"w{uuid.uuid4().hex[:8]}")
    post_id = posts.post_create(actor=author, title=title, content="words", tags=["redis"], uow=uow()).aggregate_id
    posts.post_publish(post_id=post_id, actor=author, uow=uow())
    publish_outbox(servers)
    return str(post_id)


def searchable_title(loop: ProjectorLoop, post_id: str) -> str | None:
    """The post's title as a search finds it (None when it finds none)."""
    query = {"query": {"ids": {"values": [post_id]}}}
    hits = loop.writer.client.search(index=loop.writer.targets["posts"], body=query)["hits"]["hits"]
    return hits[0]["_source"]["title"] if hits else None


def published_at(client: redis.Redis, post_id: str) -> list[str]:
    """The positions of the post's `post.published` notices."""
    parsed = [notice_parse(entry) for entry in client.xrange(notice_stream())]
    wanted = (post_id, "post.published")
    return [n.position for n in parsed if (n.event.get("aggregate_id"), n.event.get("event_type")) == wanted]


def lost_total() -> float:
    return REGISTRY.get_sample_value("projector_notices_lost_total") or 0.0


@pytest.mark.parametrize("outage", ["terminated", "sigstopped"])
def test_projection_goes_on_while_redis_is_away_and_the_lost_notices_leave_a_gap(
    transactional_db: None, loop: ProjectorLoop, private_redis: PrivateRedis, kafka_bootstrap_servers: str, outage: str
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    before = post_written("Before", kafka_bootstrap_servers)
    drain(loop)
    [seen_at] = published_at(client, before)
    lost_before = lost_total()

    if outage == "terminated":
        private_redis.terminate()
    else:
        private_redis.signal(signal.SIGSTOP)
    during = post_written("During", kafka_bootstrap_servers)
    drain(loop)  # returns once every record is committed: the batches neither failed nor hung
    assert searchable_title(loop, during) == "During"
    assert lost_total() > lost_before

    if outage == "terminated":
        private_redis.start()  # same port, empty: Redis keeps no data
    else:
        private_redis.signal(signal.SIGCONT)
    after = post_written("After", kafka_bootstrap_servers)
    drain(loop)
    assert searchable_title(loop, after) == "After"

    start = "0-0" if outage == "terminated" else seen_at
    entries = client.xrange(notice_stream(), min=f"({start}")
    parsed = [notice_parse(entry) for entry in entries]
    gaps = [n for n, notice in enumerate(parsed) if notice.gap]
    after_events = [n for n, notice in enumerate(parsed) if notice.event.get("aggregate_id") == after]
    assert gaps, "no gap marker after the outage"
    assert after_events
    assert max(gaps) < min(after_events)  # the marker comes before the first notices written after the outage
    # The query side cannot vouch for continuity across the marker: its item breaks the `previous` chain, no event.
    items = notices.build_items(entries, start, loop.writer.client)
    gap_item = items[max(gaps)]
    assert gap_item == {"position": parsed[max(gaps)].position, "previous": None}
    assert [item["previous"] for item in items[max(gaps) + 1 :]] == [item["position"] for item in items[max(gaps) : -1]]
    assert any(json.loads(item["event"])["aggregate_id"] == after for item in items[max(gaps) + 1 :] if "event" in item)
    assert not loop.notices.lost  # the debt was paid: the next notices follow the marker without another one
