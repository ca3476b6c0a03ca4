"""The commit -> searchable bench's pure parts: the steady schedule, the write mix and a sample's figures."""

from __future__ import annotations

import math

import pytest

from bench.commit_to_searchable import (
    MIX,
    SampleResult,
    Write,
    achieved_rate,
    kind_of,
    medians,
    ms_percentiles,
    p50_by_part,
    schedule,
    summarise,
)


def test_the_schedule_interleaves_the_authors_into_one_steady_stream() -> None:
    due = schedule(total=10, authors=3, rate=5)
    assert [len(times) for times in due] == [4, 3, 3]
    assert due[0] == pytest.approx([0.0, 0.6, 1.2, 1.8])
    assert due[1] == pytest.approx([0.2, 0.8, 1.4])
    assert sorted(t for times in due for t in times) == pytest.approx([i / 5 for i in range(10)])


def test_each_author_cycles_through_the_mix_creating_before_publishing() -> None:
    assert [kind_of(step) for step in range(7)] == [*MIX, MIX[0], MIX[1]]
    assert MIX.index("create") < MIX.index("publish") < min(MIX.index("edit"), MIX.index("comment"))


def test_percentiles_are_nearest_rank_in_milliseconds_and_nan_without_values() -> None:
    p50, p99, worst = ms_percentiles([n / 1000 for n in reversed(range(1, 201))])
    assert (p50, p99, worst) == pytest.approx((100, 198, 200))
    assert all(math.isnan(value) for value in ms_percentiles([]))


def test_the_achieved_rate_is_taken_from_the_spacing_of_the_commits() -> None:
    assert achieved_rate([10.0, 10.5, 11.0, 11.5, 12.0]) == pytest.approx(2.0)
    assert achieved_rate([3.0]) == 0.0
    assert achieved_rate([]) == 0.0


def write(committed: float, searchable: float | None, *, started: float | None = None) -> Write:
    start = committed - 0.01 if started is None else started
    return Write("comment", "comment", "1", 1, scheduled=start, started=start, committed=committed,
                 searchable=searchable)  # fmt: skip


def test_a_summary_counts_the_writes_never_searchable_apart_from_the_latencies() -> None:
    writes = [write(1.0, 1.1), write(1.02, 1.32), write(1.04, None), write(1.06, 1.26, started=1.0)]
    result = summarise(writes, errors=2)
    assert (result.writes, result.errors, result.never) == (4, 2, 1)
    assert (result.p50_ms, result.p99_ms, result.max_ms) == pytest.approx((200, 300, 300))
    assert result.api_p99_ms == pytest.approx(60)
    assert result.achieved_rate == pytest.approx(50)


def test_medians_are_taken_per_figure_across_samples() -> None:
    values = {name: 0.0 for name in SampleResult.__dataclass_fields__}
    results = [SampleResult(**{**values, "p50_ms": p50, "never": never}) for p50, never in ((3, 0), (1, 5), (2, 1))]
    middle = medians(results)
    assert (middle["p50_ms"], middle["never"]) == (2, 1)


def test_the_p50_by_part_follows_commit_order_so_a_growing_backlog_shows() -> None:
    writes = [write(float(n), n + 0.1 * (n + 1)) for n in reversed(range(9))]  # 3 per part: an exact median
    assert p50_by_part(writes) == pytest.approx([200, 500, 800])
    assert math.isnan(p50_by_part([write(1.0, None)], parts=1)[0])
