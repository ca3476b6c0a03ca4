"""EventReader: accepted, skipped (unknown type) or dead-lettered (undecodable, newer version), each counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from events import EventEnvelope, encode
from events.consumer import Accepted, DeadLetter, EventReader, ReadCounts, Skipped
from events.types import PostDeleted

EVENT = EventEnvelope.create(
    PostDeleted(post_id="p1"), aggregate_version=4, correlation_id="c", occurred_at=datetime(2025, 1, 1, tzinfo=UTC)
)


def _changed(**fields: object) -> bytes:
    return json.dumps(json.loads(encode(EVENT)) | fields).encode()


def test_a_known_event_is_accepted() -> None:
    reader = EventReader()
    assert reader.read(encode(EVENT)) == Accepted(EVENT)
    assert reader.counts == ReadCounts(accepted=1)


def test_an_unknown_event_type_is_skipped() -> None:
    reader = EventReader()
    result = reader.read(_changed(event_type="post.liked"))
    assert isinstance(result, Skipped)
    assert result.event_type == "post.liked"
    assert "post.liked" in result.reason
    assert reader.counts == ReadCounts(skipped=1)


def test_a_newer_schema_version_is_dead_lettered() -> None:
    reader = EventReader()
    result = reader.read(_changed(schema_version=2))
    assert isinstance(result, DeadLetter)
    assert result.kind == "unsupported_schema_version"
    assert "post.deleted schema version 2" in result.reason
    assert reader.counts == ReadCounts(dead_lettered=1)


def test_undecodable_bytes_are_dead_lettered_with_the_reason() -> None:
    reader = EventReader()
    result = reader.read(b"\x00not json")
    assert result == DeadLetter(result.reason, "undecodable")
    assert result.reason.startswith("not JSON")
    assert reader.counts == ReadCounts(dead_lettered=1)


def test_counts_add_up_over_a_mixed_batch() -> None:
    reader = EventReader()
    batch = [encode(EVENT), b"", _changed(event_type="x.y"), encode(EVENT), _changed(schema_version=9), b"[]"]
    outcomes = [type(reader.read(raw)) for raw in batch]
    assert outcomes == [Accepted, DeadLetter, Skipped, Accepted, DeadLetter, DeadLetter]
    assert reader.counts == ReadCounts(accepted=2, skipped=1, dead_lettered=3)
