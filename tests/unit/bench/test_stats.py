"""The benchmarks' statistics: one percentile (nearest rank), medians with spread, failure counts, machine facts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import bench.support
from bench.stats import Failures, MachineFacts, Spread, machine_facts, median, percentile, spread


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([5, 1, 4, 2, 3], 0, 1),  # rank 1 at least
        ([5, 1, 4, 2, 3], 20, 1),  # ceil(0.2 * 5) = 1: exactly on a rank
        ([5, 1, 4, 2, 3], 21, 2),  # just past it: the next rank
        ([5, 1, 4, 2, 3], 100, 5),
        (list(range(1, 11)), 90, 9),
        (list(range(1, 11)), 91, 10),
        (list(range(1, 201)), 99, 198),
        ([2.5, 2.5, 1.0], 50, 2.5),  # ties
    ],
)
def test_the_percentile_is_the_value_at_rank_ceil_p_n(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected


def test_the_percentile_is_always_a_measured_value_and_refuses_nonsense() -> None:
    values = [0.3, 10.0, 7.5, 1.25]
    assert all(percentile(values, p) in values for p in range(101))
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="within 0-100"):
        percentile([1], 101)


def test_bench_support_exports_the_same_percentile() -> None:
    assert bench.support.percentile is percentile


def test_the_median_is_the_nearest_rank_p50_so_even_counts_take_the_lower_middle() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2  # statistics.median would say 2.5: no value measured
    assert median([math.nan, 7.0]) == 7.0  # a sample without the figure is left out
    assert math.isnan(median([]))


def test_a_spread_is_median_min_max_and_count_without_the_missing_samples() -> None:
    assert spread([12.0, 10.5, math.nan, 14.25]) == Spread(median=12.0, low=10.5, high=14.25, n=3)
    assert spread([12.0, 10.5, 14.25]).text(unit="ms") == "12.0 ms (10.5-14.2, n=3)"
    assert spread([3, 1, 2]).text(".0f") == "2 (1-3, n=3)"
    empty = spread([math.nan])
    assert empty.n == 0
    assert empty.text() == "- (n=0)"


def test_failures_are_counted_by_kind_with_the_first_message_of_each() -> None:
    failures = Failures()
    assert (failures.total, failures.text()) == (0, "failures: 0")
    failures.add("write", "create answered 500")
    failures.add("write", "create answered 503")
    failures.add("read", "timed out", count=3)
    failures.add("never searchable", count=0)  # nothing to count
    assert failures.total == 5
    assert failures.counts() == {"read": 3, "write": 2}
    assert failures.text() == "failures: 5 (read: 3, write: 2); first read: timed out; first write: create answered 500"


def test_machine_facts_read_cores_memory_and_load(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683520 kB\nMemFree:  1 kB\nMemAvailable:   22329344 kB\nHugePages_Total: 0\n")
    facts = machine_facts(meminfo=meminfo, loadavg=lambda: (1.5, 0.25, 0.0))
    assert (facts.memory_mib, facts.available_mib, facts.load) == (24105, 21806, (1.5, 0.25, 0.0))
    assert facts.cores >= facts.usable_cores >= 1
    assert "24105" not in facts.text()
    assert "23.5 GiB memory (21.3 GiB available)" in facts.text()
    assert "load average 1.50 / 0.25 / 0.00 (1 / 5 / 15 min)" in facts.text()


def test_machine_facts_without_proc_meminfo_say_memory_unknown(tmp_path: Path) -> None:
    facts = machine_facts(meminfo=tmp_path / "absent", loadavg=lambda: (0.0, 0.0, 0.0))
    assert (facts.memory_mib, facts.available_mib) == (None, None)
    assert "memory unknown" in facts.text()
    assert isinstance(machine_facts(), MachineFacts)  # this machine's, whatever it has
