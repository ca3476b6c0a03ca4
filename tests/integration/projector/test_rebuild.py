"""A live rebuild under writes: queries through the aliases never fail and never see a half-built index, the
swap is atomic, the rebuilt read models verify clean, and the previous indices stay for rollback. The build writes
with bulk-load settings and serves with normal ones; a rollback catches the previous indices up before the aliases
move back, so verify is clean right after it."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from kafka import KafkaAdminClient

from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import SleepWakeUp
from command_service.services import posts
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.operations import rebuild as rebuild_module
from projector.operations.indices import BULK_SETTINGS, indices_behind, list_indices, normal_settings, recorded_stop
from projector.operations.rebuild import rebuild, use
from projector.operations.source import CommandSource
from projector.operations.verify import verify
from read_models.indices import alias_of
from read_models.models import AUTHORS, POSTS
from tests.integration.conftest import run_database_url
from tests.integration.projector.conftest import record_scenario, register, uow
from tests.integration.projector.test_consumer_loop import publish_outbox


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


def _settings(client: Any, index: str) -> dict[str, Any]:
    """The index's values of the bulk-load settings, as OpenSearch reports them (None: not set, the default)."""
    index_settings = client.indices.get_settings(index=index)[index]["settings"]["index"]
    return {name: index_settings.get(name) for name in BULK_SETTINGS}


def _as_reported(settings: dict[str, Any]) -> dict[str, Any]:
    return {name: None if value is None else str(value) for name, value in settings.items()}


def test_a_build_writes_with_bulk_settings_and_serves_with_normal_ones(
    transactional_db: None,
    private_projector: ProjectorConfig,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = record_scenario()
    publish_outbox(kafka_bootstrap_servers)
    live = bootstrap(private_projector)
    live.catch_up()
    client = live.writer.client
    during: dict[str, dict[str, Any]] = {}
    restore = rebuild_module.restore_settings

    def observed_restore(client: Any, indices: dict[str, str]) -> None:
        during.update({index: _settings(client, index) for index in indices.values()})  # after the build's writes
        restore(client, indices)

    monkeypatch.setattr(rebuild_module, "restore_settings", observed_restore)
    result = rebuild(client, private_projector, database_url=run_database_url(), batch_size=50)
    assert result.swapped, result.report.text()
    assert result.events >= len(scenario.events)
    assert set(during) == set(result.new.values())
    for index, settings in during.items():
        assert settings == {"refresh_interval": "-1", "number_of_replicas": "0"}, index
    for model, index in result.new.items():
        assert _settings(client, index) == _as_reported(normal_settings(model)), index
    live.close()


def test_rollback_catches_the_previous_indices_up_so_verify_is_clean_right_after(
    transactional_db: None,
    private_projector: ProjectorConfig,
    kafka_bootstrap_servers: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenario = record_scenario()
    config = private_projector

    def project() -> None:
        publish_outbox(kafka_bootstrap_servers)
        live.catch_up()

    live = bootstrap(config)
    project()
    client = live.writer.client
    result = rebuild(client, config, database_url=run_database_url(), batch_size=50)
    assert result.swapped, result.report.text()
    assert recorded_stop(client, result.previous["posts"]) is not None, "the swap records where the old ones stop"

    # After the swap: a new post by an author with published posts, projected by the live loop (to the new indices).
    ada = str(scenario.ada.user_id)
    written = posts.post_create(actor=scenario.ada, title="After the swap", content="news", tags=[], uow=uow())
    post_id = written.aggregate_id
    posts.post_publish(post_id=post_id, actor=scenario.ada, uow=uow())
    project()
    count = client.get(index=alias_of(AUTHORS), id=ada)["_source"]["published_post_count"]
    stale = client.get(index=result.previous["authors"], id=ada)["_source"]["published_post_count"]
    assert stale == count - 1, "the kept indices stopped receiving writes at the swap"
    assert not client.exists(index=result.previous["posts"], id=str(post_id))

    with caplog.at_level(logging.INFO, logger="projector.operations.rebuild"):
        left = use(client, config, list(result.previous.values()))
    assert left == result.new
    assert indices_behind(client) == result.previous
    assert "from the position recorded" in caplog.text
    with CommandSource(run_database_url()) as source:
        report = verify(client, indices_behind(client), source)
    assert report.ok, report.text()
    assert client.get(index=alias_of(POSTS), id=str(post_id))["_source"]["status"] == "published"
    assert client.get(index=alias_of(AUTHORS), id=ada)["_source"]["published_post_count"] == count

    # The rollback recorded where the rebuilt indices stopped: rolling forward again is just as current.
    assert recorded_stop(client, result.new["posts"]) is not None
    posts.post_unpublish(post_id=post_id, actor=scenario.ada, uow=uow())
    project()
    use(client, config, list(result.new.values()))
    assert indices_behind(client) == result.new
    with CommandSource(run_database_url()) as source:
        report = verify(client, indices_behind(client), source)
    assert report.ok, report.text()
    assert client.get(index=alias_of(AUTHORS), id=ada)["_source"]["published_post_count"] == count - 1
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    groups = [group["group_id"] for group in admin.list_groups()]
    admin.close()
    assert not [group for group in groups if group.startswith(f"{config.group}-rollback-")], "its group is deleted"
    live.close()


def test_rollback_to_indices_without_a_recorded_position_catches_up_from_the_start(
    transactional_db: None,
    private_projector: ProjectorConfig,
    kafka_bootstrap_servers: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenario = record_scenario()
    publish_outbox(kafka_bootstrap_servers)
    live = bootstrap(private_projector)
    live.catch_up()
    client = live.writer.client
    result = rebuild(client, private_projector, database_url=run_database_url(), swap=False, batch_size=50)
    assert not result.swapped
    assert recorded_stop(client, result.new["posts"]) is None  # never live: nothing recorded
    written = posts.post_create(actor=scenario.bob, title="After the build", content="news", tags=[], uow=uow())
    posts.post_publish(post_id=written.aggregate_id, actor=scenario.bob, uow=uow())
    publish_outbox(kafka_bootstrap_servers)
    live.catch_up()
    with caplog.at_level(logging.INFO, logger="projector.operations.rebuild"):
        use(client, private_projector, list(result.new.values()))
    assert "catching them up from the start of the topics" in caplog.text
    assert indices_behind(client) == result.new
    with CommandSource(run_database_url()) as source:
        report = verify(client, indices_behind(client), source)
    assert report.ok, report.text()
    live.close()
