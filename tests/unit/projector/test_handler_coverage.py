"""Every registered event type has a handler decision, and every event's plan has the shape the writer relies on.

A new event type in `events.types` fails `test_every_registered_event_type_has_a_handler_decision` until it is
given a handler (and a row in PRIMARY below) or listed in IGNORED, the types the projector deliberately skips.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import EventEnvelope
from events.types import PostArchived, event_types

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer import handlers
from projector.consumer.counts import COUNTERS
from projector.consumer.handlers import HANDLERS, plan_for
from projector.consumer.plans import FollowUps, Plan
from projector.consumer.writer import Applied, Writer
from tests.unit.events.event_strategies import CURRENT_SPECS, envelopes
from tests.unit.projector.plan_samples import envelope, written

# The decision for each event type: the read model of its own document and the guard of its own fields.
PRIMARY = {
    "user.registered": ("authors", "user_version"),
    "user.profile_changed": ("authors", "user_version"),
    "user.deactivated": ("authors", "user_version"),
    "user.reactivated": ("authors", "user_version"),
    "user.erased": ("authors", "user_version"),
    "post.created": ("posts", "post_version"),
    "post.edited": ("posts", "post_version"),
    "post.tags_changed": ("posts", "post_version"),
    "post.published": ("posts", "post_version"),
    "post.unpublished": ("posts", "post_version"),
    "post.archived": ("posts", "post_version"),
    "post.deleted": ("posts", "post_version"),
    "comment.added": ("comments", "comment_version"),
    "comment.edited": ("comments", "comment_version"),
    "comment.deleted": ("comments", "comment_version"),
}
IGNORED: frozenset[str] = frozenset()  # event types plan_for deliberately answers with None
READ_MODELS = {"posts", "comments", "authors"}


def test_every_registered_event_type_has_a_handler_decision() -> None:
    registered = set(event_types())

    assert registered == set(PRIMARY) | IGNORED, "decide how the projector treats each event type"
    assert set(HANDLERS) == set(PRIMARY), "a handler for a type that is not registered, or a missing handler"
    assert not IGNORED & set(HANDLERS)


def test_an_event_type_without_a_handler_is_planned_as_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(handlers.HANDLERS, "post.archived")

    assert plan_for(envelope(PostArchived(post_id="p1"), version=2)) is None


class _Indices:
    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def refresh(self, index: str) -> None:
        self.calls.append(("refresh", index))


class _Client:
    """Records calls; anything but a refresh would fail the test (no bulk, mget or update_by_query expected)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.indices = _Indices(self.calls)


def test_an_ignored_event_is_applied_without_a_document_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """What plan_for's None means to the writer: processed (so committed), with no write to any read model."""
    monkeypatch.delitem(handlers.HANDLERS, "post.archived")
    event = envelope(PostArchived(post_id="p1"), version=2)
    client = _Client()
    writer = Writer(client, {"posts": "t-posts", "comments": "t-comments", "authors": "t-authors"})  # type: ignore[arg-type]

    assert writer.apply([event]) == ([Applied(event, None)], [])
    assert client.calls == [("refresh", "t-authors,t-comments,t-posts")]


@pytest.mark.parametrize("spec", CURRENT_SPECS, ids=lambda spec: spec.event_type)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_event_plans_its_own_document_first_and_follow_ups_on_the_read_models(spec: Any, data: Any) -> None:
    """Whatever the payload: own document, own version on own fields, snapshot version on the author, JSON params."""
    event: EventEnvelope = data.draw(envelopes([spec]))
    plan = plan_for(event)

    if event.event_type in IGNORED:
        assert plan is None
        return
    assert isinstance(plan, Plan)
    model, guard = PRIMARY[event.event_type]
    primary = plan.primary
    assert (primary.model, primary.doc_id) == (model, event.aggregate_id)
    snapshot = getattr(event.payload, "author", None)
    expected_versions = [(guard, event.aggregate_version)]
    if snapshot is not None:
        expected_versions.append(("author_version", snapshot.user_version))
    assert [(facet.guard, facet.version) for facet in primary.facets] == expected_versions
    json.dumps(primary.params(), allow_nan=False)

    follow = plan.follow(written(primary))
    assert isinstance(follow, FollowUps)
    for recount in follow.recounts:
        assert recount.model in {counter.owner for counter in COUNTERS}
    for rewrite in follow.rewrites:
        assert rewrite.model in READ_MODELS
        assert list(rewrite.term.values()) == [event.aggregate_id]
        json.dumps(rewrite.facet.param(), allow_nan=False)
    assert {lookup.model for lookup in follow.lookups} <= READ_MODELS
