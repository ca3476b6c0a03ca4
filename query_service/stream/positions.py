"""Positions in the notice stream (Redis stream ids) and what the stream still retains; pure functions.

A position is `<milliseconds>-<sequence>`; ids only grow, so comparing their number pairs orders entries. "0-0"
stands before the first entry ever written.
"""

from __future__ import annotations

from dataclasses import dataclass

START = "0-0"


def position_key(position: str) -> tuple[int, int]:
    """The sortable form of a position (raises ValueError when it is not a stream id)."""
    millis, _, sequence = position.partition("-")
    return int(millis), int(sequence or 0)


@dataclass(frozen=True)
class StreamBounds:
    """What the notice stream holds right now.

    Attributes:
        first: the id of its oldest entry, None when it holds none.
        last: the id of the newest entry ever written ("0-0" before the first).
        trimmed: whether entries were ever removed from its head (retention).
    """

    first: str | None
    last: str
    trimmed: bool

    def retains(self, position: str) -> bool:
        """Whether every entry after `position` is still in the stream, so a subscriber can resume from it.

        A position after the newest entry is not one this stream gave out (another deployment, or a stream that
        was lost and started again): that needs a resync as much as a trimmed one does.
        """
        key = position_key(position)
        if key > position_key(self.last):
            return False
        if self.first is not None and key >= position_key(self.first):
            return True
        return not self.trimmed


def bounds_from_info(info: dict | None) -> StreamBounds:
    """StreamBounds from redis-py's XINFO STREAM answer (None when the stream does not exist)."""
    if info is None:
        return StreamBounds(None, START, False)
    first = info.get("first-entry")
    return StreamBounds(
        first=_text(first[0]) if first else None,
        last=_text(info["last-generated-id"]),
        trimmed=int(info["entries-added"]) > int(info["length"]),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
