"""Exactly-once in effect: one recorded stream, applied duplicated, replayed, in other interleavings and batchings,
gives the same documents every time; and those documents are the denormalized truth of the story."""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable

from events.envelope import EventEnvelope
from tests.integration.projector.conftest import ReadModels, Scenario


def _apply_in_batches(models: ReadModels, events: list[EventEnvelope], rng: random.Random | None = None) -> None:
    writer = models.writer()
    i = 0
    while i < len(events):
        size = rng.randint(1, 8) if rng else len(events)
        _, failed = writer.apply(events[i : i + size])
        assert failed == []
        i += size


def _interleaving(events: list[EventEnvelope], rng: random.Random) -> list[EventEnvelope]:
    """Another arrival order that Kafka could produce: each aggregate's events in order, aggregates mixed freely."""
    queues: dict[tuple[str, str], list[EventEnvelope]] = defaultdict(list)
    for event in events:
        queues[(event.aggregate_type, event.aggregate_id)].append(event)
    order = []
    while queues:
        key = rng.choice(sorted(queues))
        order.append(queues[key].pop(0))
        if not queues[key]:
            del queues[key]
    return order


def test_duplicates_replays_and_interleavings_give_the_same_documents(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    events = scenario.events
    baseline = new_read_models()
    _apply_in_batches(baseline, events)
    expected = baseline.snapshot()
    assert {model: len(docs) for model, docs in expected.items()} == {"posts": 5, "comments": 5, "authors": 2}

    variants: dict[str, Callable[[ReadModels], None]] = {
        "every event twice": lambda m: _apply_in_batches(m, [e for event in events for e in (event, event)]),
        "the whole stream replayed": lambda m: (_apply_in_batches(m, events), _apply_in_batches(m, events)),
        "an older prefix replayed after the end": lambda m: (
            _apply_in_batches(m, events),
            _apply_in_batches(m, events[: len(events) // 2]),
        ),
    }
    for seed in range(4):
        rng = random.Random(seed)
        shuffled = _interleaving(events, rng)
        variants[f"interleaving {seed}, random batches"] = lambda m, shuffled=shuffled, seed=seed: _apply_in_batches(
            m, shuffled, random.Random(seed)
        )
    for name, apply in variants.items():
        models = new_read_models()
        apply(models)
        assert _differences(models.snapshot(), expected) == [], name


def test_replicas_writing_at_once_leave_the_same_documents_and_exact_counts(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    """Several projector replicas, each owning some aggregates (as partitions split them), apply their shares at the
    same time in small batches, each share twice; the counts they recount race, and the latest recount wins."""
    baseline = new_read_models()
    _apply_in_batches(baseline, scenario.events)
    expected = baseline.snapshot()

    for seed in range(3):
        models = new_read_models()
        shares: dict[int, list[EventEnvelope]] = defaultdict(list)
        for event in scenario.events:  # a partitioner: each aggregate's events go to one replica, in order
            shares[zlib.crc32(f"{event.aggregate_type}:{event.aggregate_id}:{seed}".encode()) % 3].append(event)
        errors: list[BaseException] = []

        def replica(
            events: list[EventEnvelope], rng: random.Random, models: ReadModels = models, errors: list = errors
        ) -> None:
            try:
                _apply_in_batches(models, events + events, rng)
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        threads = [
            threading.Thread(target=replica, args=(share, random.Random(seed * 10 + n)))
            for n, share in sorted(shares.items())
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert _differences(models.snapshot(), expected) == [], f"seed {seed}"


def test_the_documents_are_the_denormalized_truth(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    _apply_in_batches(models, _interleaving(scenario.events, random.Random(7)), random.Random(7))
    post, comment = scenario.post_ids, scenario.comment_ids
    ada, bob = str(scenario.ada.user_id), str(scenario.bob.user_id)

    first = models.doc("posts", str(post["first"]))
    assert first["title"] == "First, edited"
    assert first["tags"] == ["django", "python"]
    assert first["status"] == "published"
    assert first["author"] == {
        "id": ada, "username": "ada", "display_name": "Ada L.", "avatar_url": "https://img.example/ada.png"
    }  # fmt: skip
    assert first["comment_count"] == 2  # "kept" and "edited"; "removed" was deleted
    assert first["content_preview"].startswith("Running words.")
    assert first["reading_time"] == 1
    later = models.doc("posts", str(post["later"]))
    assert later["author"]["display_name"] == "Ada L."  # created after the rename
    assert models.doc("posts", str(post["second"]))["status"] == "draft"
    assert models.doc("posts", str(post["third"]))["status"] == "archived"
    doomed = models.doc("posts", str(post["doomed"]))
    assert (doomed["status"], doomed["deleted"]) == ("deleted", True)
    assert {"title", "content", "tags"}.isdisjoint(doomed)  # a tombstone keeps no text
    assert doomed["author"] == {"id": bob}

    assert models.doc("comments", str(comment["edited"]))["body"] == "Fixed"
    assert models.doc("comments", str(comment["removed"]))["deleted"] is True
    orphan = models.doc("comments", str(comment["orphan"]))
    assert (orphan["post_deleted"], orphan.get("post_title"), orphan["body"]) == (True, None, "Soon gone")
    own = models.doc("comments", str(comment["removed"]))
    assert own["author"] == {"id": ada}  # a tombstone: the rename rewritten into it leaves no name either
    assert "body" not in own
    assert models.doc("comments", str(comment["kept"]))["post_title"] == "First, edited"

    ada_doc, bob_doc = models.doc("authors", ada), models.doc("authors", bob)
    assert (ada_doc["display_name"], ada_doc["published_post_count"]) == ("Ada L.", 2)  # first and later
    assert ada_doc["comment_count"] == 1  # the orphan; "removed" was deleted
    assert (bob_doc["bio"], bob_doc["published_post_count"], bob_doc["comment_count"]) == ("Writes things", 0, 3)


def test_a_deleted_post_stays_deleted_when_stale_events_return_past_gc_deletes(
    scenario: Scenario, new_read_models: Callable[[], ReadModels]
) -> None:
    models = new_read_models()
    for target in models.targets.values():  # shorten OpenSearch's memory of deletes, then outlive it
        models.client.indices.put_settings(index=target, body={"index": {"gc_deletes": "1s"}})
    _apply_in_batches(models, scenario.events)
    doomed = str(scenario.post_ids["doomed"])
    before = models.doc("posts", doomed)
    time.sleep(2.5)
    stale = [e for e in scenario.events if e.aggregate_type == "post" and e.aggregate_id == doomed][:-1]
    assert [e.event_type for e in stale] == ["post.created", "post.published"]
    _apply_in_batches(models, stale)
    after = models.doc("posts", doomed)
    assert after == before
    assert (after["status"], after["deleted"]) == ("deleted", True)


def _differences(actual: dict, expected: dict) -> list[str]:
    """Field-level differences between two snapshots, readable in a failure message."""
    out = []
    for model in expected:
        for doc_id in sorted(set(expected[model]) | set(actual.get(model, {}))):
            want, got = expected[model].get(doc_id), actual.get(model, {}).get(doc_id)
            if want is None or got is None:
                out.append(f"{model}/{doc_id}: {'extra' if want is None else 'missing'}")
                continue
            out += [
                f"{model}/{doc_id}.{key}: {got.get(key)!r} != {want.get(key)!r}"
                for key in sorted(set(want) | set(got))
                if want.get(key) != got.get(key)
            ]
    return out
