"""A live rebuild under writes: queries through the aliases never fail and never see a half-built index, the
swap is atomic, the rebuilt read models verify clean, and the previous indices stay for rollback."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from django.db import connection
from kafka import KafkaAdminClient

from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import posts
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.operations.indices import indices_behind, list_indices
from projector.operations.rebuild import rebuild
from projector.operations.source import CommandSource
from projector.operations.verify import verify
from read_models.indices import alias_of
from read_models.models import POSTS
from tests.integration.conftest import run_database_url
from tests.integration.projector.conftest import record_scenario, register, uow


def _in_thread(stop: threading.Event, errors: list[BaseException], step: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            while not stop.is_set():
                step()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_rebuild_under_writes_swaps_atomically_and_verifies_clean(
    transactional_db: None, private_projector: ProjectorConfig, kafka_bootstrap_servers: str, opensearch_url: str
) -> None:
    record_scenario()
    relay = OutboxRelay(KafkaPublisher(kafka_bootstrap_servers), "test-relay", SleepWakeUp(), RelaySettings())
    config = private_projector
    live = bootstrap(config)
    client = live.writer.client
    alias = alias_of(POSTS)
    stop, errors = threading.Event(), []
    seen_counts: list[int] = []
    author = register(f"w{uuid.uuid4().hex[:6]}")
    written: list[int] = []

    def write() -> None:
        post_id = posts.post_create(actor=author, title=f"During {len(written)}", content="c", tags=[], uow=uow())
        posts.post_publish(post_id=post_id.aggregate_id, actor=author, uow=uow())
        written.append(post_id.aggregate_id)
        time.sleep(0.05)

    def query() -> None:
        response = client.count(index=alias, body={"query": {"term": {"status": "published"}}})
        seen_counts.append(response["count"])
        time.sleep(0.01)

    while relay.run_once()[0]:  # the story so far, fully projected, before anything else starts
        pass
    live.catch_up()
    threads = [_in_thread(stop, errors, relay.run_once), _in_thread(stop, errors, live.run_once)]
    before = indices_behind(client)
    threads += [_in_thread(stop, errors, write), _in_thread(stop, errors, query)]
    try:
        result = rebuild(client, config, database_url=run_database_url(), batch_size=50)
    finally:
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert result.swapped, result.report.text()
    assert indices_behind(client) == result.new
    assert result.previous == before
    assert len(written) > 3, "writes must keep coming during the rebuild"
    assert seen_counts, "queries must run during the rebuild"
    # Never a half-built index: no query through the alias saw fewer published posts than before the rebuild began.
    assert min(seen_counts) >= seen_counts[0] > 0
    assert {index for _, index, _, live in list_indices(client) if not live} >= set(before.values())
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    groups = [group["group_id"] for group in admin.list_groups()]
    admin.close()
    assert config.group in groups
    assert not [group for group in groups if group.startswith(f"{config.group}-rebuild-")], "the build's group stays"

    # Everything written during and after the swap reaches the new read models, which verify clean.
    while relay.run_once()[0]:
        pass
    live.catch_up()
    with CommandSource(run_database_url()) as source:
        report = verify(client, indices_behind(client), source)
    assert report.ok, report.text()
    live.close()
    relay.publisher.close()
