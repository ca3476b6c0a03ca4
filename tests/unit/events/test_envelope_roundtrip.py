"""Every registered event survives encode -> decode unchanged, and what encode writes matches the published schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given

from events import MAX_MESSAGE_BYTES, EventEnvelope, MessageTooLarge, decode, encode
from events.types import AuthorSnapshot, PostCreated, PostPublished, UserRegisteredV1
from tests.unit.events.event_strategies import CURRENT_SPECS, envelopes

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "events" / "schemas"
AT = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def _schema(relative: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((SCHEMA_DIR / relative).read_text()))


def _published(post_id: str = "p1", **overrides: object) -> EventEnvelope:
    fields = {"aggregate_version": 3, "correlation_id": "c1", "occurred_at": AT} | overrides
    return EventEnvelope.create(PostPublished(post_id=post_id, published_at=AT), **fields)


@given(envelopes())
def test_decode_gives_back_what_encode_wrote(envelope: EventEnvelope) -> None:
    data = encode(envelope)
    assert decode(data) == envelope
    assert encode(decode(data)) == data  # byte-stable: one written form per event


@given(envelopes())
def test_encoded_events_satisfy_the_committed_schemas(envelope: EventEnvelope) -> None:
    message = json.loads(encode(envelope))
    _schema("envelope/v2.json").validate(message)
    _schema(f"{envelope.event_type}/v{envelope.schema_version}.json").validate(message["payload"])


def test_every_event_type_is_covered_by_the_round_trip_strategies() -> None:
    assert {spec.event_type for spec in CURRENT_SPECS} == {
        "user.registered", "user.profile_changed", "user.deactivated", "user.reactivated",
        "post.created", "post.edited", "post.tags_changed",
        "post.published", "post.unpublished", "post.archived", "post.deleted",
        "comment.added", "comment.edited", "comment.deleted", "user.erased",
    }  # fmt: skip


def test_create_derives_type_version_aggregate_and_a_fresh_event_id() -> None:
    first, second = _published("p9"), _published("p9")
    assert (first.event_type, first.schema_version, first.aggregate_type, first.aggregate_id) == (
        "post.published", 1, "post", "p9",
    )  # fmt: skip
    assert first.event_id != second.event_id


def test_the_wire_form_carries_the_envelope_version_and_utc_times_with_z() -> None:
    message = json.loads(encode(_published()))
    assert message["envelope_version"] == 2
    assert message["occurred_at"] == "2025-03-01T12:30:00.000000Z"
    assert message["payload"] == {"post_id": "p1", "published_at": "2025-03-01T12:30:00.000000Z"}


def test_other_utc_zones_are_normalised_and_non_utc_times_refused() -> None:
    assert _published(occurred_at=AT.astimezone(timezone(timedelta(0), "Z0"))).occurred_at.tzinfo is UTC
    with pytest.raises(ValueError, match="UTC"):
        _published(occurred_at=datetime(2025, 3, 1, 12, 30))  # naive
    with pytest.raises(ValueError, match="UTC"):
        _published(occurred_at=datetime(2025, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=1))))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"aggregate_type": "user"}, "aggregate type 'post'"),
        ({"aggregate_id": "other"}, "aggregate_id differs"),
        ({"schema_version": 2}, "is not post.published v2"),
        ({"event_type": "post.edited"}, "is not post.edited v1"),
    ],
)
def test_an_envelope_that_contradicts_its_payload_cannot_be_built(change: dict, message: str) -> None:
    fields = {**_published().__dict__, **change}
    with pytest.raises(ValueError, match=message):
        EventEnvelope(**fields)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"correlation_id": ""}, "correlation_id: must not be empty"),
        ({"event_id": "not-a-uuid"}, "event_id: must be a lowercase hyphenated UUID"),
        ({"aggregate_version": 0}, "aggregate_version: must be 1 or more"),
        ({"actor_id": 7}, "actor_id: must be a string"),
    ],
)
def test_encode_refuses_fields_outside_the_contract(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode(_published(**change))


def test_encode_refuses_a_mistyped_payload_field() -> None:
    envelope = _published()
    object.__setattr__(envelope.payload, "published_at", "2025-03-01")
    with pytest.raises(ValueError, match=r"payload\.published_at: must be a datetime"):
        encode(envelope)


def test_encode_writes_current_versions_only() -> None:
    old = EventEnvelope.create(
        UserRegisteredV1(user_id="1", username="u", name="U"), aggregate_version=1, correlation_id="c"
    )
    with pytest.raises(ValueError, match="current version"):
        encode(old)


def test_a_message_over_the_limit_is_refused_by_the_producer() -> None:
    author = AuthorSnapshot(user_id="u1", username="u", display_name="U", avatar_url=None, user_version=1)
    post = PostCreated(post_id="p1", author=author, title="t", content="x" * MAX_MESSAGE_BYTES, tags=(), created_at=AT)
    with pytest.raises(MessageTooLarge) as raised:
        encode(EventEnvelope.create(post, aggregate_version=1, correlation_id="c"))
    assert isinstance(raised.value, ValueError)
    small = PostCreated(post_id="p1", author=author, title="t", content="x" * 1000, tags=("a",), created_at=AT)
    assert len(encode(EventEnvelope.create(small, aggregate_version=1, correlation_id="c"))) < MAX_MESSAGE_BYTES
