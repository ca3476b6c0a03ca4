"""The projector as the process operators run: killed with SIGKILL mid-stream, scaled out and back in under load,
or cut off from OpenSearch for 20 s under load, it loses nothing and the read models verify clean afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from kafka import KafkaAdminClient
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, TransportError

from command_service.apps.outbox.models import OutboxEvent
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import comments, posts
from infra.opensearch.service import OpenSearch as OpenSearchService
from projector.consumer.app import ProjectorConfig
from projector.operations.source import CommandSource
from projector.operations.verify import Report, verify
from read_models.indices import alias_of
from read_models.models import POSTS, READ_MODELS
from tests.integration.conftest import run_database_url
from tests.integration.projector.conftest import register, uow

REPO_ROOT = Path(__file__).resolve().parents[3]


def _count(client: OpenSearch, alias: str) -> int:
    """Documents behind an alias; 0 while it does not exist or its new shard is not started yet (for waiting only:
    a figure a test asserts on comes from `client.count` itself)."""
    try:
        return client.count(index=alias)["count"]
    except (NotFoundError, TransportError):
        return 0


def _publish(relay: OutboxRelay) -> None:
    while OutboxEvent.objects.filter(sent_at__isnull=True).exists():
        relay.run_once()


def _write_posts(count: int) -> None:
    author = register(f"load{time.monotonic_ns() % 10**8}")
    for n in range(count):
        post_id = posts.post_create(actor=author, title=f"Post {n}", content="words " * 40, tags=["load"], uow=uow())
        posts.post_publish(post_id=post_id.aggregate_id, actor=author, uow=uow())
        comments.comment_add(post_id=post_id.aggregate_id, actor=author, body=f"comment {n}", uow=uow())


def _verify_until_clean(client: OpenSearch, timeout: float = 120) -> Report:
    deadline = time.monotonic() + timeout
    aliases = {model.name: alias_of(model) for model in READ_MODELS}
    while not all(client.indices.exists_alias(name=alias) for alias in aliases.values()):
        assert time.monotonic() < deadline, "the projector never created its read models"
        time.sleep(0.5)
    while True:
        with CommandSource(run_database_url()) as source:
            report = verify(client, aliases, source)
        if report.ok or time.monotonic() > deadline:
            return report
        time.sleep(1)


def test_a_projector_killed_mid_stream_and_restarted_ends_clean(
    transactional_db: None, start_projector, kafka_bootstrap_servers: str, opensearch_url: str
) -> None:
    relay = OutboxRelay(KafkaPublisher(kafka_bootstrap_servers), "test-relay", SleepWakeUp(), RelaySettings())
    _write_posts(150)  # 450 events, 1 user
    _publish(relay)
    first = start_projector()
    client = OpenSearch(opensearch_url)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and _count(client, alias_of(POSTS)) < 20:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    projected = client.count(index=alias_of(POSTS))["count"]  # measured: an error fails the test, it is not a 0
    assert 20 <= projected < 150, f"the projector should die mid-stream, with work done and work left: {projected}"

    second = start_projector()
    report = _verify_until_clean(client)
    assert report.ok, report.text()
    assert second.poll() is None
    relay.publisher.close()


def _writing_in_background(relay: OutboxRelay, stop: threading.Event) -> threading.Thread:
    """Two posts (six events) every 0.2 s, published, until `stop`."""

    def load() -> None:
        try:
            while not stop.is_set():
                _write_posts(2)
                _publish(relay)
                time.sleep(0.2)
        finally:
            connection.close()

    writer = threading.Thread(target=load, daemon=True)
    writer.start()
    return writer


def _projecting_clean(
    start_projector: Callable[[], subprocess.Popen], servers: str, opensearch_url: str, posts: int
) -> tuple[OutboxRelay, subprocess.Popen, OpenSearch]:
    """A relay, a running projector and `posts` posts' events projected and verified clean."""
    relay = OutboxRelay(KafkaPublisher(servers), "test-relay", SleepWakeUp(), RelaySettings())
    projector = start_projector()
    client = OpenSearch(opensearch_url)
    _write_posts(posts)
    _publish(relay)
    assert _verify_until_clean(client, timeout=60).ok
    return relay, projector, client


def _group_members(servers: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        return len(admin.describe_groups([group])[group]["members"])
    finally:
        admin.close()


def test_projectors_joining_and_leaving_the_group_under_load_lose_nothing(
    transactional_db: None, start_projector, private_projector: ProjectorConfig, kafka_bootstrap_servers: str,
    opensearch_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    relay, first, client = _projecting_clean(start_projector, kafka_bootstrap_servers, opensearch_url, posts=5)
    stop = threading.Event()
    writer = _writing_in_background(relay, stop)
    try:
        second = start_projector()  # scale out: the group rebalances and splits the partitions
        deadline = time.monotonic() + 30
        while _group_members(kafka_bootstrap_servers, private_projector.group) < 2:
            assert time.monotonic() < deadline, "the second projector never joined the group"
            time.sleep(0.2)
        time.sleep(5)
        first.terminate()  # scale in: the group rebalances and the second takes every partition
        assert first.wait(30) == 0
        time.sleep(5)
    finally:
        stop.set()
        writer.join(60)
    report = _verify_until_clean(client, timeout=60)
    assert report.ok, report.text()
    assert second.poll() is None
    logs = {path.name: path.read_text() for path in tmp_path.glob("projector-*.log")}
    assert not [name for name, text in logs.items() if "batch failed" in text], logs  # a rebalance is no outage
    relay.publisher.close()


def test_opensearch_down_for_20_seconds_under_load_loses_nothing(
    transactional_db: None, start_projector, kafka_bootstrap_servers: str, opensearch_url: str
) -> None:
    if OpenSearchService().running() is None:
        pytest.fail("this test stops and restarts the OpenSearch of `make services`, and none runs here: `make test`")
    relay, projector, client = _projecting_clean(start_projector, kafka_bootstrap_servers, opensearch_url, posts=10)
    stop = threading.Event()
    writer = _writing_in_background(relay, stop)
    infra = [sys.executable, "-m", "infra"]
    try:
        assert subprocess.run([*infra, "down", "opensearch"], cwd=REPO_ROOT, capture_output=True).returncode == 0
        time.sleep(20)
        assert projector.poll() is None, "the projector must outlive an OpenSearch outage"
    finally:
        up = subprocess.run([*infra, "up", "opensearch"], cwd=REPO_ROOT, capture_output=True, text=True)
        stop.set()
        writer.join(60)
    assert up.returncode == 0, up.stderr
    report = _verify_until_clean(client)
    assert report.ok, report.text()
    assert projector.poll() is None
    relay.publisher.close()
