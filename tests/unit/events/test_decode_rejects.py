"""Whatever the input, decode returns an event or raises a contract error carrying its reason, never anything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    MAX_MESSAGE_BYTES,
    EventEnvelope,
    UndecodableEvent,
    UnknownEventType,
    UnsupportedEvent,
    UnsupportedSchemaVersion,
    decode,
    encode,
)
from events.types import AuthorSnapshot, PostCreated
from tests.unit.events.event_strategies import envelopes, json_values

AT = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
SCHEMA_KEYS = ("event_type", "schema_version", "aggregate_type")  # they choose the schema the rest is read by


def _valid() -> dict[str, Any]:
    author = AuthorSnapshot(user_id="u1", username="ada", display_name="Ada", avatar_url=None, user_version=2)
    post = PostCreated(post_id="p1", author=author, title="T", content="C", tags=("x",), created_at=AT)
    return json.loads(encode(EventEnvelope.create(post, aggregate_version=1, correlation_id="c", occurred_at=AT)))


def _with(path: str, value: Any = ..., data: dict[str, Any] | None = None) -> bytes:
    """The valid message with the key at dotted `path` set to `value`, or removed when no value is given."""
    data = data or _valid()
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return json.dumps(data).encode()


def test_the_base_case_decodes() -> None:
    assert decode(json.dumps(_valid()).encode()).aggregate_id == "p1"


@given(st.binary(max_size=2048))
@settings(max_examples=500)
def test_arbitrary_bytes_raise_only_undecodable_event(data: bytes) -> None:
    with pytest.raises(UndecodableEvent) as raised:
        decode(data)
    assert raised.value.reason


@given(json_values)
def test_arbitrary_json_is_decoded_or_refused_with_a_contract_error(value: Any) -> None:
    with pytest.raises((UndecodableEvent, UnsupportedEvent)):
        decode(json.dumps(value).encode())


@given(envelopes(), st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_a_mutated_event_is_refused_with_a_contract_error_or_still_round_trips(envelope: EventEnvelope, data) -> None:
    message = json.loads(encode(envelope))
    target = data.draw(st.sampled_from([message, message["payload"]]))
    key = data.draw(st.sampled_from(sorted(target)))
    if data.draw(st.booleans()):
        del target[key]
    else:
        target[key] = data.draw(json_values)
    field = key if target is message else f"payload.{key}"
    try:
        decoded = decode(json.dumps(message).encode())
    except (UndecodableEvent, UnsupportedEvent) as exc:
        refused: UndecodableEvent | UnsupportedEvent = exc
    else:  # whatever decode accepts, encode writes again and decode reads back the same
        assert decode(encode(decoded)) == decoded
        return
    if isinstance(refused, UnsupportedEvent):  # well-formed, of a type or version this release does not know
        assert (refused.event_type, refused.schema_version) == (message["event_type"], message["schema_version"])
    elif field in SCHEMA_KEYS:  # now another schema reads the rest: the reason names what does not fit it
        assert field in refused.reason or "payload." in refused.reason or "aggregate type" in refused.reason, refused
    else:  # the reason names the field that was changed
        assert field in refused.reason, refused.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b'{"envelope_version": 1', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"envelope_version": NaN}', "NaN is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b"1" * 5000, "not JSON"),
        (b"[]", "got list"),
        (b"null", "got NoneType"),
        (b'"event"', "got str"),
        (b" " * (MAX_MESSAGE_BYTES + 1), "over the 1048576-byte limit"),
        (_with("envelope_version"), "unknown envelope_version null"),
        (_with("envelope_version", 3), "unknown envelope_version 3"),
        (_with("envelope_version", "1"), 'unknown envelope_version "1"'),
        (_with("envelope_version", True), "unknown envelope_version true"),
        (_with("occurred_at"), "occurred_at: is missing"),
        (_with("payload"), "payload: is missing"),
        (_with("payload", []), "payload: must be an object"),
        (_with("payload.title"), "payload.title: is missing"),
        (_with("payload.author.user_version"), "payload.author.user_version: is missing"),
        (_with("event_type", 5), "event_type: must be a string"),
        (_with("aggregate_version", "1"), "aggregate_version: must be an integer"),
        (_with("aggregate_version", 1.0), "aggregate_version: must be an integer"),
        (_with("aggregate_version", True), "aggregate_version: must be an integer"),
        (_with("schema_version", 0), "schema_version: must be 1 or more"),
        (_with("payload.tags", "x"), "payload.tags: must be an array"),
        (_with("payload.tags", ["x", 1]), r"payload.tags\[1\]: must be a string"),
        (_with("payload.author.avatar_url", 3), "payload.author.avatar_url: must be a string"),
        (_with("occurred_at", "2025-03-01T12:30:00"), "occurred_at: must be a UTC time"),
        (_with("occurred_at", "2025-03-01T12:30:00+01:00"), "occurred_at: must be a UTC time"),
        (_with("occurred_at", "2025-03-01T12:30:00+00:00"), "occurred_at: must be a UTC time"),
        (_with("occurred_at", "2025-02-30T12:30:00Z"), "occurred_at: is not a valid time"),
        (_with("payload.created_at", 1740832200), "payload.created_at: must be a UTC time"),
        (_with("event_id", "not-a-uuid"), "event_id: must be a lowercase hyphenated UUID"),
        (_with("event_id", "5B0C1F3E-8D2A-4C47-9A51-0F6E2D7C9B10"), "event_id: must be a lowercase"),
        (_with("correlation_id", ""), "correlation_id: must not be empty"),
        (_with("correlation_id", "\ud800"), "correlation_id: must be valid Unicode"),
        (_with("aggregate_type", "comment"), "aggregate type 'post'"),
        (_with("aggregate_type", "tag"), "aggregate_type: must be one of"),
        (_with("aggregate_id", "p2"), "aggregate_id differs from payload.post_id"),
    ],
)
def test_undecodable_input_names_its_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        decode(data)


def test_input_that_is_not_bytes_is_undecodable() -> None:
    with pytest.raises(UndecodableEvent, match="got str"):
        decode(json.dumps(_valid()))  # type: ignore[arg-type]


def test_extra_keys_are_ignored_by_the_reader() -> None:
    plain = _valid()
    message = json.loads(json.dumps(plain))
    message["trace"] = {"span": 1}
    message["payload"]["pinned"] = True
    assert decode(json.dumps(message).encode()) == decode(json.dumps(plain).encode())


def test_an_unknown_event_type_is_unsupported_not_undecodable() -> None:
    message = _valid() | {"event_type": "post.liked", "payload": {"whatever": 1}}
    with pytest.raises(UnknownEventType) as raised:
        decode(json.dumps(message).encode())
    assert (raised.value.event_type, raised.value.schema_version) == ("post.liked", 1)
    assert not isinstance(raised.value, UndecodableEvent)


@pytest.mark.parametrize(("event_type", "version"), [("post.created", 2), ("user.registered", 3)])
def test_a_newer_schema_version_is_unsupported(event_type: str, version: int) -> None:
    message = _valid() | {"event_type": event_type, "schema_version": version}
    with pytest.raises(UnsupportedSchemaVersion, match=f"{event_type} schema version {version} is not supported"):
        decode(json.dumps(message).encode())
