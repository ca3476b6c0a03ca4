"""A connection's subscription: the filters of its `subscribe` frame, within the server's limits; pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from events.stream import SubscribeFrame


class SubscriptionRefused(ValueError):
    """A subscribe frame asks for more than the server allows."""


@dataclass(frozen=True)
class Subscription:
    """Which live events a connection wants; an empty filter matches everything.

    Attributes:
        aggregate_types: only these aggregate types (empty: all).
        tags: only events whose post carries one of these tags (empty: all).
        author_id: only content by this user (None: anyone's).
    """

    aggregate_types: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    author_id: str | None = None

    @classmethod
    def from_frame(cls, frame: SubscribeFrame, *, max_values: int) -> Subscription:
        """The subscription a frame asks for; raises SubscriptionRefused above `max_values` filter values."""
        count = len(frame.aggregate_types) + len(frame.tags) + (frame.author_id is not None)
        if count > max_values:
            raise SubscriptionRefused(f"a subscription holds at most {max_values} filter values, this one has {count}")
        return cls(frozenset(frame.aggregate_types), frozenset(frame.tags), frame.author_id)

    def matches(self, aggregate_type: str, tags: Iterable[str], author_id: str | None) -> bool:
        """Whether an event with these keys is one this subscription wants."""
        if self.aggregate_types and aggregate_type not in self.aggregate_types:
            return False
        if self.tags and self.tags.isdisjoint(tags):
            return False
        return self.author_id is None or self.author_id == author_id
