"""The frames of the query service's live WebSocket stream, `/stream`: the contract live subscribers code against.

Every frame is one JSON text message, an object whose `type` names the frame. The client sends `subscribe` (what
it wants, and where to resume from); the server sends `event` for each event that became visible in the read
model, `resync_required` when it cannot resume where asked (the client reloads over HTTP, then subscribes
afresh), and `error` for a frame it cannot accept (the connection stays open). Events in frames are always at their
current schema version.

Delivery: event frames come in stream order, each once per subscription; `position` only grows. A client keeps the
`position` of the last event frame it received and, after any disconnect, subscribes again with it as
`resume_from`: it then gets exactly what it missed (in order), then live events, as long as the server still
retains that position; otherwise it gets `resync_required` first, then live events.

The server closes a connection with one of the `CloseCode`s; a browser whose page origin is not allowed is refused
during the handshake (HTTP 403), before any frame.
"""

from __future__ import annotations

import dataclasses
import json
from enum import IntEnum
from typing import Annotated, Any, ClassVar

from events.codec import Id, ShapeError, from_json, hints_of, regex_rule, to_json
from events.envelope import EventEnvelope, envelope_from_dict, envelope_to_dict
from events.errors import UndecodableEvent
from events.schemas import schema_for
from events.types import AggregateType

StreamId = Annotated[str, regex_rule("[0-9]+-[0-9]+", "must be a Redis stream id like 1700000000000-0")]


class CloseCode(IntEnum):
    """Why the server closed a stream connection: the WebSocket close code (`CLOSE_CODES` says what to do)."""

    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013
    RESUME_REQUIRED = 4008
    TOO_MANY_CONNECTIONS = 4028
    TOO_MANY_SUBSCRIBES = 4029


CLOSE_CODES: dict[CloseCode, str] = {
    CloseCode.MESSAGE_TOO_BIG: "A client frame was larger than the server accepts (a few KiB); do not send it again.",
    CloseCode.TRY_AGAIN_LATER: (
        "The server could not read the stream or the read models just now; reconnect after a pause and subscribe "
        "with `resume_from`."
    ),
    CloseCode.RESUME_REQUIRED: (
        "The connection fell behind: the client read too slowly, or live events for it had to be dropped. Nothing "
        "is skipped silently: reconnect and subscribe with `resume_from` = the last position received."
    ),
    CloseCode.TOO_MANY_CONNECTIONS: (
        "This client address already holds as many open stream connections as the server allows (a server "
        "setting, 20 by default), so the new one is closed right after it opened; close one before opening another."
    ),
    CloseCode.TOO_MANY_SUBSCRIBES: (
        "The connection sent more subscribe frames in a minute than the server allows on one connection (a server "
        "setting, 30 by default), or its client address did over all its connections (a server setting, 120 by "
        "default); the close reason says which. Reconnect after a pause, subscribing with `resume_from`, and change "
        "filters less often."
    ),
}


@dataclasses.dataclass(frozen=True)
class SubscribeFrame:
    """Client to server: start (or replace) the connection's one subscription; an empty filter matches everything.

    The filters hold at most 50 values together (a server setting). Without `resume_from`, events start from the
    moment of subscribing.

    Attributes:
        aggregate_types: only events of these aggregate types.
        tags: only events of posts carrying at least one of these tags, and their comments.
        author_id: only events of content by this user (their posts, their comments, their profile).
        resume_from: the `position` of the last event frame received, to get what was missed since.
    """

    FRAME_TYPE: ClassVar[str] = "subscribe"
    aggregate_types: tuple[AggregateType, ...] = ()
    tags: tuple[str, ...] = ()
    author_id: Id | None = None
    resume_from: StreamId | None = None


@dataclasses.dataclass(frozen=True)
class EventFrame:
    """Server to client: an event that is now visible in the read model.

    Only what the HTTP lists may show is sent: events of published posts (with the document), their comments, and
    authors' profiles. When a post leaves the lists (unpublished, archived, deleted) or a comment is deleted, the
    event comes with `document` null: drop it from the view. Subscribers are anonymous, so the event's `actor_id`
    and `causation_id` are always null: who acted, and the writer's request, stay private.

    Documents are bounded: one whose JSON is over the server's limit (32 KiB by default) comes without its large
    text fields (a post's `content`, a comment's `body`, an author's `bio`), and its `omitted_fields` lists the ones
    left out: fetch the whole document over HTTP (the query API's lists) when you need them.

    Attributes:
        position: where this frame sits in the stream (a Redis stream id); send it back as `resume_from`.
        event: the event, payload at its current schema version, `actor_id` and `causation_id` null.
        document: the read-model document after the event, null when the event removed it from the lists; with
            `omitted_fields` (the large text fields left out) when it was too big to carry whole.
    """

    FRAME_TYPE: ClassVar[str] = "event"
    position: StreamId
    event: EventEnvelope
    document: dict[str, Any] | None


@dataclasses.dataclass(frozen=True)
class ResyncRequiredFrame:
    """Server to client: the stream no longer holds the position asked for (or never did); reload over HTTP.

    The subscription is in place all the same and live from now on; documents carry versions, so an event that
    the reload already reflects is recognisable.
    """

    FRAME_TYPE: ClassVar[str] = "resync_required"
    reason: str


@dataclasses.dataclass(frozen=True)
class ErrorFrame:
    """Server to client: the last client frame was not accepted; the subscription, if any, is unchanged."""

    FRAME_TYPE: ClassVar[str] = "error"
    message: str


type Frame = SubscribeFrame | EventFrame | ResyncRequiredFrame | ErrorFrame
CLIENT_FRAMES: tuple[type, ...] = (SubscribeFrame,)
SERVER_FRAMES: tuple[type, ...] = (EventFrame, ResyncRequiredFrame, ErrorFrame)
FRAMES: dict[str, type] = {cls.FRAME_TYPE: cls for cls in (*CLIENT_FRAMES, *SERVER_FRAMES)}


def frame_to_json(frame: Frame) -> dict[str, Any]:
    """The JSON object of a frame (raises ValueError when a field does not fit)."""
    hints = hints_of(type(frame))
    data: dict[str, Any] = {"type": frame.FRAME_TYPE}
    for field in dataclasses.fields(frame):
        value = getattr(frame, field.name)
        if hints[field.name] is EventEnvelope:
            if not isinstance(value, EventEnvelope):
                raise ShapeError(field.name, "must be an EventEnvelope")
            data[field.name] = envelope_to_dict(value)
        else:
            data[field.name] = to_json(value, hints[field.name], field.name)
    return data


def frame_from_json(data: Any) -> Frame:
    """The frame a parsed JSON message stands for; raises UndecodableEvent (or UnsupportedEvent for its event)."""
    cls = FRAMES.get(data.get("type")) if isinstance(data, dict) and isinstance(data.get("type"), str) else None
    if cls is None:
        raise UndecodableEvent(f"not a frame: type must be one of {sorted(FRAMES)}")
    hints, kwargs = hints_of(cls), {}
    try:
        for field in dataclasses.fields(cls):
            if field.name in data:
                value = data[field.name]
                reader = envelope_from_dict if hints[field.name] is EventEnvelope else None
                kwargs[field.name] = reader(value) if reader else from_json(value, hints[field.name], field.name)
            elif field.default is dataclasses.MISSING:
                raise ShapeError(field.name, "is missing")
        return cls(**kwargs)
    except ValueError as exc:
        raise UndecodableEvent(str(exc)) from None


def frame_schema(cls: type, event_schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a frame class; `event_schema` stands for its embedded event."""
    schema = schema_for(cls, {EventEnvelope: event_schema})
    schema["properties"] = {"type": {"const": cls.FRAME_TYPE}, **schema["properties"]}
    schema["required"] = ["type", *schema["required"]]
    return {"title": f"{cls.FRAME_TYPE} frame", **schema}


def event_frame_text(position: str, event_json: str, document_json: str) -> str:
    """The JSON text of an event frame from already-encoded parts (what the server sends to each subscriber).

    Args:
        position: the stream id.
        event_json: the event as `events.envelope.encode` wrote it (current schema version).
        document_json: the document as JSON text, `null` when removed.
    """
    return f'{{"type":"event","position":{json.dumps(position)},"event":{event_json},"document":{document_json}}}'
