"""P7's arithmetic: rates over the same final documents, the ratio, the closing medians."""

from __future__ import annotations

import pytest

from bench.rebuild_rate import Figures, medians


def test_the_ratio_is_the_bulk_seconds_over_the_build_seconds() -> None:
    figures = Figures(events=12_000, documents=6_000, build_seconds=20.0, bulk_seconds=2.0)
    assert figures.build_docs_rate == 300
    assert figures.build_events_rate == 600
    assert figures.bulk_docs_rate == 3_000
    assert figures.ratio == pytest.approx(0.1)
    assert "ratio 0.100" in figures.line()


def test_medians_say_whether_the_target_is_met() -> None:
    fast = [Figures(10, 10, seconds, 1.0) for seconds in (1.2, 1.5, 9.0)]
    assert "wall time 1.5 s" in medians(fast)
    assert "ratio 0.667 (0.111-0.833, n=3) (P7 target >= 0.6: met)" in medians(fast)
    assert "not met" in medians([Figures(10, 10, 10.0, 1.0)])
