"""docs/asyncapi.json is a structurally sound AsyncAPI 3.0 document, and real messages satisfy what it says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from events import EventEnvelope, encode
from events.asyncapi import DOC_PATH
from events.personal_data import KeyRecord, new_key, tick_record
from events.stream import ErrorFrame, EventFrame, ResyncRequiredFrame, SubscribeFrame, frame_to_json
from events.topics import EVENT_TOPICS, SUBJECT_KEYS
from events.types import SPECS, PostEdited, PostPublished
from tests.unit.events.event_strategies import envelopes

DOC: dict[str, Any] = json.loads(DOC_PATH.read_text())
BASE = "urn:asyncapi"
REGISTRY = Registry().with_resource(BASE, Resource.from_contents(DOC, default_specification=DRAFT7))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node: Any = DOC
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _validator(pointer: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY)


def test_top_level_shape() -> None:
    assert DOC["asyncapi"] == "3.0.0"
    assert DOC["info"]["title"]
    assert DOC["info"]["version"]
    assert {name: server["protocol"] for name, server in DOC["servers"].items()} == {"kafka": "kafka", "query": "ws"}
    assert all(server["host"] and "Development default" in server["description"] for server in DOC["servers"].values())
    assert set(DOC) <= {
        "asyncapi",
        "id",
        "info",
        "servers",
        "defaultContentType",
        "channels",
        "operations",
        "components",
    }


def test_every_reference_resolves() -> None:
    refs = list(_refs(DOC))
    assert len(refs) > 50
    for ref in refs:
        _resolve(ref)


def test_operations_point_at_their_channel_and_its_messages() -> None:
    for name, operation in DOC["operations"].items():
        assert operation["action"] in {"send", "receive"}, name
        channel_ref = operation["channel"]["$ref"]
        assert _resolve(channel_ref) in DOC["channels"].values()
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel_ref + "/messages/"), name


def test_kafka_channels_are_the_topics_with_every_version_of_their_events() -> None:
    for aggregate_type, topic in EVENT_TOPICS.items():
        channel = DOC["channels"][topic.name]
        assert channel["address"] == topic.name
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        expected = {f"{t}.v{v}" for (t, v), spec in SPECS.items() if spec.aggregate_type == aggregate_type}
        assert set(channel["messages"]) == expected
    assert DOC["channels"]["deadLetters"]["address"] == "{consumerGroup}.dlq"
    assert DOC["channels"]["stream"]["address"] == "/stream"


def test_component_schemas_are_valid_json_schemas() -> None:
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft7Validator.check_schema(schema)


@given(envelopes())
def test_encoded_events_satisfy_their_message_in_the_document(envelope: EventEnvelope) -> None:
    name = f"{envelope.event_type}.v{envelope.schema_version}"
    _validator(f"/components/messages/{name}/payload").validate(json.loads(encode(envelope)))


def test_a_message_schema_rejects_another_event_type() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    published = EventEnvelope.create(
        PostPublished(post_id="p", published_at=at), aggregate_version=2, correlation_id="c"
    )
    edited = EventEnvelope.create(
        PostEdited(post_id="p", title="t", content="c"), aggregate_version=2, correlation_id="c", subject_id="u"
    )
    validator = _validator("/components/messages/post.edited.v1/payload")
    validator.validate(json.loads(encode(edited)))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(json.loads(encode(published)))


def test_stream_frames_satisfy_their_messages() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    event = EventEnvelope.create(PostPublished(post_id="p", published_at=at), aggregate_version=2, correlation_id="c")
    frames = [
        SubscribeFrame(aggregate_types=("post",), tags=("python",)),
        EventFrame(position="1700000000000-0", event=event, document={"id": "p", "title": "T"}),
        ResyncRequiredFrame(reason="position 1-0 is no longer retained"),
        ErrorFrame(message="unknown frame type"),
    ]
    for frame in frames:
        _validator(f"/components/messages/frame.{frame.FRAME_TYPE}/payload").validate(frame_to_json(frame))
    bad = frame_to_json(frames[1]) | {"position": "latest"}
    with pytest.raises(jsonschema.ValidationError):
        _validator("/components/messages/frame.event/payload").validate(bad)


@given(envelopes())
def test_sealed_events_satisfy_their_message_in_the_document(envelope: EventEnvelope) -> None:
    name = f"{envelope.event_type}.v{envelope.schema_version}"
    _validator(f"/components/messages/{name}/payload").validate(json.loads(encode(envelope, new_key())))


def test_the_key_topic_its_records_and_what_consumers_must_do_on_erasure_are_documented() -> None:
    channel = DOC["channels"]["subjectKeys"]
    assert (channel["address"], channel["bindings"]["kafka"]["partitions"]) == (SUBJECT_KEYS.name, 6)
    assert channel["bindings"]["kafka"]["topicConfiguration"] == {"cleanup.policy": ["compact"]}
    record = _validator("/components/messages/subjectKey/payload")
    key = KeyRecord("7", new_key())
    for value in (key, KeyRecord("7", None)):
        record.validate(json.loads(value.encode()))
    with pytest.raises(jsonschema.ValidationError):
        record.validate({"record_version": 1, "subject_id": "7"})
    _validator("/components/messages/subjectKeyTick/payload").validate(json.loads(tick_record(0)[1]))
    assert "user.erased.v1" in DOC["channels"][EVENT_TOPICS["user"].name]["messages"]
    assert "A consumer MUST" in DOC["info"]["description"]
    assert "`user.erased` frame" in DOC["channels"]["stream"]["description"]
