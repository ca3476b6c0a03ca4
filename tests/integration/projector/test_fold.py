"""A rebuild's fold: the history folded in memory gives the documents the live Writer gives, field versions
included, in any arrival order; a rebuild folds, and one whose history holds a poison event replays it instead."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaProducer

from events.topics import event_topics
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.operations.fold import MemoryModels
from projector.operations.rebuild import rebuild
from projector.operations.source import CommandSource
from projector.operations.verify import verify
from read_models.documents import VERSION_FIELDS, public_document
from tests.integration.conftest import run_database_url
from tests.integration.projector.conftest import ReadModels, Scenario, record_scenario
from tests.integration.projector.test_consumer_loop import publish_outbox
from tests.integration.projector.test_exactly_once import _interleaving

OWN_GUARD = {model: f"{field}:" for model, field in VERSION_FIELDS.values()}  # {read model: its own guard's prefix}


def _comparable(model: str, document: dict[str, Any]) -> dict[str, Any]:
    """A document's public fields, and the versions its own aggregate's events wrote each field with.

    Not compared: the recount tick (each recount takes its own) and the versions of fields other aggregates wrote
    (a post's title reaches its comments at whichever post version the comment's read met: same value, any order).
    """
    versions = {k: v for k, v in document.get("field_versions", {}).items() if k.startswith(OWN_GUARD[model])}
    return {**public_document(document), "own_field_versions": versions}


def _folded(events: list) -> dict[str, dict[str, dict[str, Any]]]:
    models = MemoryModels()
    owners = set()
    for event in events:
        owners.update(models.apply(event))
    models.recount(owners, tick=1)
    return {model: {i: _comparable(model, d) for i, d in docs.items()} for model, docs in models.documents.items()}


def test_the_fold_gives_the_writers_documents_field_versions_included_in_any_arrival_order(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    models.writer().apply(scenario.events)
    written = {}
    for model, target in models.targets.items():
        models.client.indices.refresh(index=target)
        hits = models.client.search(index=target, body={"size": 1000})["hits"]["hits"]
        written[model] = {hit["_id"]: _comparable(model, hit["_source"]) for hit in hits}
    assert {model: len(docs) for model, docs in written.items()} == {"posts": 5, "comments": 5, "authors": 2}

    assert _diff(_folded(scenario.events), written) == []
    for seed in range(4):
        assert _diff(_folded(_interleaving(scenario.events, random.Random(seed))), written) == [], seed


@pytest.mark.parametrize("poison", [False, True], ids=["clean history", "a poison event in it"])
def test_a_rebuild_folds_its_history_unless_it_meets_a_poison_event(
    transactional_db: None,
    private_projector: ProjectorConfig,
    kafka_bootstrap_servers: str,
    caplog: pytest.LogCaptureFixture,
    poison: bool,
) -> None:
    record_scenario()
    publish_outbox(kafka_bootstrap_servers)
    if poison:
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
        producer.send(event_topics()["post"].name, key=b"999", value=b"not an event").get(timeout=30)
        producer.close()
    live = bootstrap(private_projector)
    live.catch_up()
    client = live.writer.client

    with caplog.at_level(logging.INFO):
        result = rebuild(client, private_projector, database_url=run_database_url(), swap=False, batch_size=50)

    assert result.report.ok, result.report.text()
    assert ("replaying instead" in caplog.text) is poison
    assert ("folded " in caplog.text) is not poison
    with CommandSource(run_database_url()) as source:
        assert verify(client, result.new, source).ok
    live.close()


def _diff(a: dict, b: dict) -> list[str]:
    """Field-level differences between two sets of read models."""
    out = []
    for model in a:
        for i in sorted(set(a[model]) | set(b[model])):
            x, y = a[model].get(i, {}), b[model].get(i, {})
            for k in sorted(set(x) | set(y)):
                if x.get(k) != y.get(k):
                    out.append(f"{model}/{i}.{k}: {x.get(k)!r} != {y.get(k)!r}")
    return out
