"""WebSocket frames round-trip through JSON; frames that do not fit are refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import EventEnvelope, UndecodableEvent, encode
from events.stream import (
    CLOSE_CODES,
    FRAMES,
    CloseCode,
    ErrorFrame,
    EventFrame,
    ResyncRequiredFrame,
    StreamId,
    SubscribeFrame,
    event_frame_text,
    frame_from_json,
    frame_to_json,
)
from events.types import PostArchived
from tests.unit.events.event_strategies import envelopes, strategy_for

EVENT = EventEnvelope.create(
    PostArchived(post_id="p1"), aggregate_version=5, correlation_id="c", occurred_at=datetime(2025, 1, 1, tzinfo=UTC)
)
frames = st.one_of(
    strategy_for(SubscribeFrame),
    st.builds(
        EventFrame, position=strategy_for(StreamId), event=envelopes(), document=strategy_for(dict[str, Any] | None)
    ),
    strategy_for(ResyncRequiredFrame),
    strategy_for(ErrorFrame),
)


@given(frames)
def test_frames_round_trip_through_json_text(frame: Any) -> None:
    text = json.dumps(frame_to_json(frame))
    assert frame_from_json(json.loads(text)) == frame


def test_every_frame_names_its_type_and_a_bare_subscribe_means_everything() -> None:
    assert set(FRAMES) == {"subscribe", "event", "resync_required", "error"}
    assert frame_from_json({"type": "subscribe"}) == SubscribeFrame(aggregate_types=(), tags=(), author_id=None)
    assert frame_to_json(ErrorFrame(message="m")) == {"type": "error", "message": "m"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "not a frame"),
        ({"type": "unsubscribe"}, "not a frame"),
        ({"type": ["subscribe"]}, "not a frame"),
        ({"type": "subscribe", "aggregate_types": ["tag"]}, r"aggregate_types\[0\]: must be one of"),
        ({"type": "subscribe", "resume_from": "latest"}, "resume_from: must be a Redis stream id"),
        ({"type": "event", "position": "1-0", "document": None}, "event: is missing"),
        ({"type": "event", "position": "1-0", "event": {"envelope_version": 9}, "document": None}, "envelope_version"),
        ({"type": "error"}, "message: is missing"),
    ],
)
def test_frames_that_do_not_fit_are_undecodable(data: Any, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        frame_from_json(data)


def test_an_event_frame_carries_the_envelope_in_its_wire_form() -> None:
    data = frame_to_json(EventFrame(position="17-0", event=EVENT, document=None))
    assert data["event"]["payload"] == {"post_id": "p1"}
    assert data["event"]["envelope_version"] == 2
    with pytest.raises(ValueError, match="event: must be an EventEnvelope"):
        frame_to_json(EventFrame(position="17-0", event=data["event"], document=None))  # type: ignore[arg-type]


@given(strategy_for(StreamId), envelopes(), strategy_for(dict[str, Any] | None))
def test_the_servers_prebuilt_event_frame_text_is_the_event_frame(position: str, event: Any, document: Any) -> None:
    text = event_frame_text(position, encode(event).decode(), json.dumps(document))
    assert frame_from_json(json.loads(text)) == EventFrame(position=position, event=event, document=document)
    assert json.loads(text) == frame_to_json(EventFrame(position=position, event=event, document=document))


def test_close_codes_are_documented_and_application_codes_are_in_the_private_range() -> None:
    assert set(CLOSE_CODES) == set(CloseCode)
    assert all(1000 <= code < 1015 or 4000 <= code < 5000 for code in CloseCode)
    assert CloseCode.RESUME_REQUIRED == 4008
