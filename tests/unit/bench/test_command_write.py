"""The command-write benchmark's pure helpers: the paced schedule, the rotation, pairing posts with records."""

from __future__ import annotations

import math

from bench.command_write import Arrival, due_times, ms_p50_p99, pair_arrivals, rotated


def test_due_times_are_evenly_spaced_at_the_rate_for_the_duration() -> None:
    due = due_times(4, 2.5)
    assert due == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25]


def test_due_times_of_no_rate_or_no_time_are_empty() -> None:
    assert due_times(0, 10) == []
    assert due_times(10, 0) == []


def test_rotation_starts_each_turn_with_the_next_item_and_wraps() -> None:
    items = ["a", "b", "c"]
    assert [rotated(items, turn) for turn in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]
    assert rotated([], 2) == []


def _arrival(aggregate_id: str, appended: float) -> Arrival:
    return Arrival(aggregate_id, occurred=0.0, appended=appended, received=appended + 0.01)


def test_pairing_keeps_the_first_append_of_a_resent_event_and_counts_the_missing() -> None:
    arrivals = [_arrival("1", 0.5), _arrival("2", 0.2), _arrival("1", 0.3), _arrival("9", 0.1)]
    paired, missing = pair_arrivals(["1", "2", "3"], arrivals)
    assert sorted((a.aggregate_id, a.appended) for a in paired) == [("1", 0.3), ("2", 0.2)]
    assert missing == 1  # "3" never arrived; "9" belongs to no created post


def test_latency_percentiles_are_nearest_rank_in_milliseconds() -> None:
    p50, p99 = ms_p50_p99([n / 1000 for n in range(1, 101)])
    assert (p50, p99) == (50.0, 99.0)
    assert all(math.isnan(value) for value in ms_p50_p99([]))
