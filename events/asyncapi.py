"""The AsyncAPI 3.0 document of the event topics and the WebSocket stream: what outside subscribers read.

Generated from the same registry, classes and topic definitions as the code and the JSON Schemas, so it cannot
describe a contract the code does not implement; `python -m events.asyncapi` rewrites `docs/asyncapi.json` and a
unit test fails when the committed file is not current (`--check` only compares). Operations are written from the
backend's side: it sends events to the topics, receives `subscribe` frames and sends the other frames.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from events.envelope import MAX_MESSAGE_BYTES
from events.personal_data import TICK_PREFIX
from events.schemas import class_docs, envelope_schema, payload_schema, render
from events.stream import CLIENT_FRAMES, CLOSE_CODES, SERVER_FRAMES, frame_schema
from events.topics import DEAD_LETTER_PARTITIONS, DEAD_LETTER_SUFFIX, EVENT_TOPICS, SUBJECT_KEYS
from events.types import SPECS, EventSpec, current_spec

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"
CONTRACT_VERSION = "1.0.0"
KAFKA_BINDING = "0.5.0"
DESCRIPTION = (
    "Domain events of the content backend (users, posts, comments) and its live WebSocket stream.\n\n"
    "Each Kafka message value is one UTF-8 JSON event envelope, at most {max} bytes; the key is the aggregate id, "
    "so one aggregate's events arrive in `aggregate_version` order. `event_type` and `schema_version` name the "
    "payload's schema. Readers ignore keys they do not know and must expect event types this document does not "
    "list yet. Messages of an older schema version can remain in a topic; the reference decoder lifts them to the "
    "current version. Dead letters keep the original key and bytes.\n\n"
    "**Personal data and erasure (crypto-shredding).** A personal event's payload (registrations and profiles, post "
    "and comment text and tags, author snapshots) travels sealed in `sealed_payload` under the key of the person it "
    "is about, `subject_id` (AES-256-GCM; see the Envelope schema); ids, versions, times and statuses stay in the "
    "clear. Keys are on the compacted topic `{keys}`, one record per person keyed by user id. When a person is "
    "erased, the backend publishes `post.deleted` and `comment.deleted` for each of their posts and comments, then "
    "`user.erased`, and replaces their key record by an erased marker (`key` null); compaction then removes the key "
    "from the topic, and their sealed payloads are unreadable for good, in every copy. A consumer MUST: read the key "
    "topic (from its start, then as it grows) to open sealed payloads; keep decrypted personal data only in the "
    "read models it builds from it, never in logs or its own copies of the events; on `user.erased` or an erased "
    "marker, drop everything it holds about that person (documents, caches, derived stores, backups it controls) "
    "and treat their sealed events as gone (skip them, also when replaying from the start); and park, not guess, a "
    "sealed event whose key it has not found after reading the key topic to its end (the key record may be late)."
)


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(parts)}


def _event_id(spec: EventSpec) -> str:
    return f"{spec.event_type}.v{spec.schema_version}"


def _is_current(spec: EventSpec) -> bool:
    return current_spec(spec.event_type).schema_version == spec.schema_version


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Envelope": _without_dialect(envelope_schema())}
    messages: dict[str, Any] = {}
    for spec in SPECS.values():
        name = _event_id(spec)
        schemas[f"{name}.payload"] = _without_dialect(payload_schema(spec))
        consts = {"event_type": spec.event_type, "schema_version": spec.schema_version}
        consts["aggregate_type"] = spec.aggregate_type
        properties = {key: {"const": value} for key, value in consts.items()}
        schemas[name] = {"allOf": [_ref("components", "schemas", "Envelope"), {"properties": properties}]}
        schemas[name]["allOf"][1]["properties"]["payload"] = _ref("components", "schemas", f"{name}.payload")
        summary = class_docs(spec.payload_class)[0]
        if not _is_current(spec):
            summary += " Older shape, still found in retained messages; the decoder lifts it to the current version."
        messages[name] = {
            "name": spec.event_type,
            "title": f"{spec.event_type} v{spec.schema_version}",
            "summary": summary,
            "contentType": "application/json",
            "payload": _ref("components", "schemas", name),
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The aggregate id."},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
    messages["deadLetter"] = {
        "name": "dead_letter",
        "summary": "A message a consumer group could not handle, copied unchanged (key and value bytes).",
        "contentType": "application/octet-stream",
        "payload": {"description": "The original message value; usually an event envelope, not always JSON."},
    }
    messages["subjectKey"] = {
        "name": "subject_key",
        "summary": "A person's key, or the marker that they were erased (`key` null).",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["record_version", "subject_id", "key"],
            "properties": {
                "record_version": {"const": 1},
                "subject_id": {"type": "string", "description": "The user id; equal to the Kafka key."},
                "key": {
                    "type": ["string", "null"],
                    "contentEncoding": "base64",
                    "description": "The 32-byte AES-256 key in base64; null: the person was erased.",
                },
            },
        },
        "bindings": {
            "kafka": {"key": {"type": "string", "description": "The user id."}, "bindingVersion": KAFKA_BINDING}
        },
    }
    messages["subjectKeyTick"] = {
        "name": "subject_key_tick",
        "summary": "A tick: appended on a schedule so that compaction keeps its bound; carries nothing.",
        "contentType": "application/json",
        "payload": {"type": "object", "maxProperties": 0},
        "bindings": {
            "kafka": {"key": {"type": "string", "pattern": f"^{TICK_PREFIX}[0-9]+$"}, "bindingVersion": KAFKA_BINDING}
        },
    }
    current_events = [_ref("components", "schemas", _event_id(s)) for s in SPECS.values() if _is_current(s)]
    for cls in (*CLIENT_FRAMES, *SERVER_FRAMES):
        name = f"frame.{cls.FRAME_TYPE}"
        schemas[name] = frame_schema(cls, {"oneOf": current_events})
        messages[name] = {
            "name": cls.FRAME_TYPE,
            "summary": schemas[name]["description"],
            "payload": _ref("components", "schemas", name),
        }
    return {"schemas": schemas, "messages": messages}


def _without_dialect(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$schema"}


def _channel_messages(names: list[str]) -> dict[str, Any]:
    return {name: _ref("components", "messages", name) for name in names}


def _operation(action: str, channel: str, names: list[str], summary: str) -> dict[str, Any]:
    messages = [_ref("channels", channel, "messages", name) for name in names]
    return {"action": action, "channel": _ref("channels", channel), "summary": summary, "messages": messages}


def _stream_description() -> str:
    codes = "\n".join(f"- `{int(code)}` {code.name.lower()}: {text}" for code, text in CLOSE_CODES.items())
    return (
        "Events as they become visible in the read model, filtered by the client's subscription, in stream order; "
        "a reconnecting client subscribes with `resume_from` = its last `position` and misses nothing. Browsers "
        "from origins the server does not allow are refused at the handshake (HTTP 403). The server closes a "
        f"connection with these codes:\n\n{codes}\n\n"
        "Erasure: when a person is erased the stream sends the `post.deleted` and `comment.deleted` frames of their "
        "content and a `user.erased` frame (the user id only). A subscriber MUST then drop everything it shows or "
        "keeps of that person. Replays (`resume_from`) after an erasure carry none of the person's data: the "
        "notices about them are deleted from the stream when the erasure is projected."
    )


def asyncapi_document() -> dict[str, Any]:
    """The whole AsyncAPI 3.0.0 document."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    kafka = [_ref("servers", "kafka")]
    for aggregate_type, topic in EVENT_TOPICS.items():
        specs = [spec for spec in SPECS.values() if spec.aggregate_type == aggregate_type]
        channels[topic.name] = {
            "address": topic.name,
            "title": f"{aggregate_type} events",
            "description": f"Every event of {aggregate_type} aggregates; key = {aggregate_type} id.",
            "servers": kafka,
            "messages": _channel_messages([_event_id(spec) for spec in specs]),
            "bindings": {
                "kafka": {"topic": topic.name, "partitions": topic.partitions, "bindingVersion": KAFKA_BINDING}
            },
        }
        current = [_event_id(spec) for spec in specs if _is_current(spec)]
        operations[f"{aggregate_type}EventsSend"] = _operation(
            "send", topic.name, current, f"Publish {aggregate_type} events."
        )
    channels["subjectKeys"] = {
        "address": SUBJECT_KEYS.name,
        "title": "subject keys",
        "description": "Compacted (cleanup.policy=compact): one record per person, keyed by user id, holding the key "
        "their personal payloads are sealed under, or, once they are erased, the erased marker (`key` null), which "
        f"stays. Records keyed `{TICK_PREFIX}<partition>` (value `{{}}`) are ticks that keep compaction on time: "
        "ignore them. A record whose key compaction removed is gone; the marker tells a late reader the person was "
        "erased.",
        "servers": kafka,
        "messages": _channel_messages(["subjectKey", "subjectKeyTick"]),
        "bindings": {
            "kafka": {"topic": SUBJECT_KEYS.name, "partitions": SUBJECT_KEYS.partitions,
                      "topicConfiguration": {"cleanup.policy": ["compact"]}, "bindingVersion": KAFKA_BINDING}
        },
    }  # fmt: skip
    operations["subjectKeysSend"] = _operation(
        "send", "subjectKeys", ["subjectKey", "subjectKeyTick"], "Publish a person's key, or that they were erased."
    )
    channels["deadLetters"] = {
        "address": "{consumerGroup}" + DEAD_LETTER_SUFFIX,
        "title": "dead letters",
        "description": f"One topic per consumer group, {DEAD_LETTER_PARTITIONS} partition(s).",
        "parameters": {"consumerGroup": {"description": "The Kafka consumer group that parked the message."}},
        "servers": kafka,
        "messages": _channel_messages(["deadLetter"]),
    }
    operations["deadLetterSend"] = _operation(
        "send", "deadLetters", ["deadLetter"], "Park a message a group cannot handle."
    )
    client = [f"frame.{cls.FRAME_TYPE}" for cls in CLIENT_FRAMES]
    server = [f"frame.{cls.FRAME_TYPE}" for cls in SERVER_FRAMES]
    channels["stream"] = {
        "address": "/stream",
        "title": "live stream",
        "description": _stream_description(),
        "servers": [_ref("servers", "query")],
        "messages": _channel_messages(client + server),
    }
    operations["streamSubscribeReceive"] = _operation("receive", "stream", client, "Accept a client's subscription.")
    operations["streamFramesSend"] = _operation("send", "stream", server, "Push frames to a subscriber.")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Content events",
            "version": CONTRACT_VERSION,
            "description": DESCRIPTION.format(max=MAX_MESSAGE_BYTES, keys=SUBJECT_KEYS.name),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "127.0.0.1:19092",
                "protocol": "kafka",
                "description": "Development default (`make services`).",
            },
            "query": {
                "host": "127.0.0.1:8001",
                "protocol": "ws",
                "description": "Development default of the query service.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": _components(),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m events.asyncapi [--check]`."""
    parser = argparse.ArgumentParser(prog="python -m events.asyncapi", description="Write docs/asyncapi.json.")
    parser.add_argument("--check", action="store_true", help="only say whether the file is current; exit 1 if not")
    args = parser.parse_args(argv)
    text = render(asyncapi_document())
    current = DOC_PATH.exists() and DOC_PATH.read_text() == text
    if args.check:
        print(f"{DOC_PATH.name} is {'current' if current else 'stale'}")
        return 0 if current else 1
    if not current:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text)
        print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
