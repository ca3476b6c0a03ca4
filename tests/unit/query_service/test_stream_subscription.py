"""A subscription's filters: empty matches everything, filters combine with AND, values are capped."""

from __future__ import annotations

import pytest

from events.stream import SubscribeFrame
from query_service.stream.subscription import Subscription, SubscriptionRefused


def test_an_empty_subscription_matches_everything() -> None:
    everything = Subscription.from_frame(SubscribeFrame(), max_values=5)
    assert everything.matches("user", (), "1")
    assert everything.matches("comment", ("python",), None)


def test_filters_combine() -> None:
    frame = SubscribeFrame(aggregate_types=("post", "comment"), tags=("python", "rust"), author_id="7")
    subscription = Subscription.from_frame(frame, max_values=5)
    assert subscription.matches("post", ("web", "python"), "7")
    assert subscription.matches("comment", ("rust",), "7")
    assert not subscription.matches("user", ("python",), "7")
    assert not subscription.matches("post", ("web",), "7")
    assert not subscription.matches("post", (), "7")
    assert not subscription.matches("post", ("python",), "8")


def test_filter_values_are_capped_together() -> None:
    frame = SubscribeFrame(aggregate_types=("post",), tags=("a", "b", "c"), author_id="7")
    assert Subscription.from_frame(frame, max_values=5).tags == {"a", "b", "c"}
    with pytest.raises(SubscriptionRefused, match="at most 4 filter values, this one has 5"):
        Subscription.from_frame(frame, max_values=4)
