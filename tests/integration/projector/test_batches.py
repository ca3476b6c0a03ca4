"""How a batch is written: each document once, whatever its events; which events it announces; large fan-outs.

Observed through OpenSearch itself: a document's `_version` counts the writes that changed it.
"""

from __future__ import annotations

from collections.abc import Callable

from events.envelope import EventEnvelope
from projector.consumer.writer import Writer
from tests.integration.projector.conftest import ReadModels, Scenario


def _of(events: list[EventEnvelope], aggregate_type: str, aggregate_id: int) -> list[EventEnvelope]:
    return [e for e in events if e.aggregate_type == aggregate_type and e.aggregate_id == str(aggregate_id)]


def test_the_events_of_one_document_in_a_batch_are_written_once_and_only_the_last_is_announced(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    first = scenario.post_ids["first"]
    post_events = _of(scenario.events, "post", first)
    assert [e.event_type for e in post_events] == ["post.created", "post.edited", "post.published",
                                                   "post.tags_changed"]  # fmt: skip

    applied, failed = models.writer().apply(post_events)

    assert failed == []
    assert [(item.event.event_type, item.superseded) for item in applied] == [
        ("post.created", True), ("post.edited", True), ("post.published", True), ("post.tags_changed", False)
    ]  # fmt: skip
    written = models.client.get(index=models.targets["posts"], id=str(first))
    assert written["_version"] == 1  # four events, one write
    assert (written["_source"]["title"], written["_source"]["post_version"]) == ("First, edited", 4)
    assert written["_source"]["tags"] == ["django", "python"]


def test_a_redelivered_batch_announces_nothing_it_superseded_and_leaves_its_documents_as_they_were(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    models.writer().apply(scenario.events)
    before = {
        model: {hit["_id"]: hit["_version"] for hit in models.client.search(
            index=target, body={"size": 1000, "version": True})["hits"]["hits"]}
        for model, target in models.targets.items()
    }  # fmt: skip

    post_events = _of(scenario.events, "post", scenario.post_ids["second"])  # created, published, unpublished
    applied, _ = models.writer().apply(post_events[:2])  # an older prefix, redelivered

    assert [item.superseded for item in applied] == [True, True]
    models.writer().apply(scenario.events)  # the whole stream again
    after = {
        model: {hit["_id"]: hit["_version"] for hit in models.client.search(
            index=target, body={"size": 1000, "version": True})["hits"]["hits"]}
        for model, target in models.targets.items()
    }  # fmt: skip
    # Own documents are untouched (no-ops); only recounts advance their guard on the owners they recount.
    assert after["comments"] == before["comments"]


def test_a_removal_is_announced_even_when_a_later_event_of_its_post_is_in_the_batch(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    post_events = _of(scenario.events, "post", scenario.post_ids["second"])
    assert [e.event_type for e in post_events] == ["post.created", "post.published", "post.unpublished"]

    applied, _ = models.writer().apply(post_events)

    assert [(item.event.event_type, item.superseded) for item in applied] == [
        ("post.created", True), ("post.published", True), ("post.unpublished", False)
    ]  # fmt: skip


def test_a_rename_reaching_more_documents_than_a_page_is_rewritten_by_a_task_and_reaches_them_all(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    """With a fan-out page of 0, Ada's rename reaches her post and comment through update_by_query tasks; with a
    page of 1000 by upserts of the documents found; both give the same documents. Her one comment by then is deleted:
    a tombstone, which shows no name before or after (`read_models.documents.tombstone_stripped`)."""
    results = []
    for page in (0, 1000):
        models = new_read_models()
        writer = Writer(models.client, models.targets, fanout_page=page)
        renamed_at = next(i for i, e in enumerate(scenario.events) if e.event_type == "user.profile_changed")
        writer.apply(scenario.events[:renamed_at])
        ada = str(scenario.ada.user_id)
        query = {"size": 100, "query": {"term": {"author.id": ada}}}
        shown = {"posts": "Ada", "comments": None}  # her post's snapshot; her deleted comment's none
        for model, name in shown.items():
            before = models.client.search(index=models.targets[model], body=query)["hits"]["hits"]
            assert {hit["_source"]["author"].get("display_name") for hit in before} == {name}, model

        _, failed = writer.apply(scenario.events[renamed_at:])

        assert failed == []
        for model, names in {"posts": {"Ada L."}, "comments": {None, "Ada L."}}.items():  # + her comment since
            after = models.client.search(index=models.targets[model], body=query)["hits"]["hits"]
            assert {hit["_source"]["author"].get("display_name") for hit in after} == names, model
        results.append(models.snapshot())
    assert results[0] == results[1]
