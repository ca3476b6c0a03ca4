"""Topic names, partition counts, keys and dead-letter names come from one definition and are valid for Kafka."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import EventEnvelope
from events.topics import (
    EVENT_TOPICS,
    TopicSpec,
    dead_letter_spec,
    dead_letter_topic,
    ensure_topics,
    message_key,
    topic_for,
)
from events.types import AGGREGATE_TYPES, SPECS, CommentEdited


def test_each_aggregate_type_has_exactly_one_topic_of_its_own() -> None:
    assert set(EVENT_TOPICS) == set(AGGREGATE_TYPES) == {spec.aggregate_type for spec in SPECS.values()}
    assert len({spec.name for spec in EVENT_TOPICS.values()}) == len(EVENT_TOPICS)
    assert [topic_for(t) for t in ("user", "post", "comment")] == ["content.users", "content.posts", "content.comments"]
    with pytest.raises(KeyError):
        topic_for("tag")


def test_the_message_key_is_the_aggregate_id_so_one_aggregate_stays_in_one_partition() -> None:
    comment = CommentEdited(comment_id="c-17", post_id="p-3", body="b")
    envelope = EventEnvelope.create(
        comment, aggregate_version=2, correlation_id="x", occurred_at=datetime.now(UTC), subject_id="u-5"
    )
    assert message_key(envelope) == b"c-17"
    assert topic_for(envelope.aggregate_type) == "content.comments"


def test_dead_letter_topics_are_per_consumer_group() -> None:
    assert dead_letter_topic("projector") == "projector.dlq"
    assert dead_letter_spec("projector") == TopicSpec("projector.dlq", 1)
    with pytest.raises(ValueError, match="invalid topic"):
        dead_letter_topic("no spaces allowed")


@pytest.mark.parametrize(("name", "partitions"), [("", 1), ("a/b", 1), ("..", 1), ("x" * 250, 1), ("ok", 0)])
def test_invalid_topic_specs_are_refused(name: str, partitions: int) -> None:
    with pytest.raises(ValueError, match="invalid topic"):
        TopicSpec(name, partitions)


def test_ensure_topics_refuses_the_same_topic_twice_before_connecting() -> None:
    with pytest.raises(ValueError, match="once"):
        ensure_topics("127.0.0.1:1", specs=[TopicSpec("a", 1)], extra=[TopicSpec("a", 2)])
