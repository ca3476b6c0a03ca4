"""The benchmarks' one percentile: nearest rank, so p99 of 1..100 is 99 and p50 of 1..4 is 2."""

from __future__ import annotations

import pytest

from bench.support import percentile


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        (list(range(1, 101)), 50, 50),
        ([4, 1, 3, 2], 50, 2),
        ([4, 1, 3, 2], 75, 3),
        (list(range(1, 1501)), 99, 1485),
        ([7], 0, 7),
        ([7], 99, 7),
    ],
)
def test_the_percentile_is_the_nearest_rank(values: list[int], p: float, expected: int) -> None:
    assert percentile(values, p) == expected
