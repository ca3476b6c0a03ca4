"""Hypothesis strategies derived from the contract's type hints, so a new event type is covered without edits."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

from hypothesis import strategies as st

from events.codec import Id, Uuid, Version, hints_of, optional_of, unwrap
from events.envelope import EventEnvelope
from events.stream import StreamId
from events.types import SPECS, EventSpec, current_spec

CURRENT_SPECS: list[EventSpec] = [s for s in SPECS.values() if current_spec(s.event_type) == s]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
utc_datetimes = st.datetimes(timezones=st.just(UTC))


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """Values of `hint` that the contract accepts."""
    special = {
        Id: st.text(min_size=1),
        Uuid: st.uuids().map(str),
        Version: st.integers(1, 2**53),
        StreamId: st.from_regex(r"\A[0-9]{1,13}-[0-9]{1,3}\Z"),
    }
    if hint in special:
        return special[hint]
    base, rules = unwrap(hint)
    inner = optional_of(base)
    if inner is not None:
        return st.none() | strategy_for(inner)
    strategy = _plain(base)
    for rule in rules:
        strategy = strategy.filter(rule.check)
    return strategy


def _plain(base: Any) -> st.SearchStrategy[Any]:
    simple = {str: st.text(), int: st.integers(), bool: st.booleans(), datetime: utc_datetimes}
    if base in simple:
        return simple[base]
    if get_origin(base) is Literal:
        return st.sampled_from(get_args(base))
    if get_origin(base) is tuple:
        return st.lists(strategy_for(get_args(base)[0]), max_size=4).map(tuple)
    if get_origin(base) is dict:
        return st.dictionaries(st.text(max_size=8), json_values, max_size=4)
    if dataclasses.is_dataclass(base):
        hints = hints_of(base)
        return st.builds(base, **{f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(base)})
    raise TypeError(f"no strategy for {base!r}")


@st.composite
def envelopes(draw: st.DrawFn, specs: list[EventSpec] = CURRENT_SPECS) -> EventEnvelope:
    """Valid envelopes of the given specs (current versions of every type by default)."""
    spec = draw(st.sampled_from(specs))
    return EventEnvelope.create(
        draw(strategy_for(spec.payload_class)),
        aggregate_version=draw(strategy_for(Version)),
        correlation_id=draw(strategy_for(Id)),
        causation_id=draw(strategy_for(Id | None)),
        actor_id=draw(strategy_for(Id | None)),
        occurred_at=draw(utc_datetimes),
        event_id=draw(strategy_for(Uuid)),
        subject_id=draw(strategy_for(Id)),  # used by personal events whose payload names no one (edits)
    )
