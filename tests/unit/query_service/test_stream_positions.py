"""Stream positions order numerically; a subscriber may resume only from a position the stream still covers."""

from __future__ import annotations

import pytest

from query_service.stream.positions import START, StreamBounds, bounds_from_info, position_key

FULL = StreamBounds(first="1000-0", last="1500-3", trimmed=False)
TRIMMED = StreamBounds(first="1000-0", last="1500-3", trimmed=True)


def test_positions_compare_as_numbers_not_text() -> None:
    assert position_key("999-0") < position_key("1000-0") < position_key("1000-1") < position_key("1000-10")
    assert position_key(START) == (0, 0)
    with pytest.raises(ValueError, match="invalid literal"):
        position_key("latest")


@pytest.mark.parametrize("position", ["1000-0", "1200-7", "1500-3"])
def test_a_position_inside_the_stream_can_be_resumed(position: str) -> None:
    assert FULL.retains(position)
    assert TRIMMED.retains(position)


@pytest.mark.parametrize("position", [START, "999-5"])
def test_a_position_before_the_first_entry_can_be_resumed_only_if_nothing_was_trimmed(position: str) -> None:
    assert FULL.retains(position)
    assert not TRIMMED.retains(position)


def test_a_position_the_stream_never_gave_out_cannot_be_resumed() -> None:
    assert not FULL.retains("1500-4")
    assert not StreamBounds(None, START, False).retains("5-0")
    assert StreamBounds(None, START, False).retains(START)


def test_bounds_from_xinfo() -> None:
    info = {"length": 2, "entries-added": 5, "last-generated-id": b"9-1", "first-entry": (b"9-0", {b"a": b"b"})}
    assert bounds_from_info(info) == StreamBounds("9-0", "9-1", True)
    empty = {"length": 0, "entries-added": 0, "last-generated-id": b"0-0", "first-entry": None}
    assert bounds_from_info(empty) == StreamBounds(None, START, False)
    assert bounds_from_info(None) == StreamBounds(None, START, False)
