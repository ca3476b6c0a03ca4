"""The lists' in-process freshness cache: a record at most `max_age` old, read again after; unknown kept as long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from query_service.search.freshness import RecentRecords, freshness_of
from read_models.freshness import FreshnessRecord

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Source:
    """What Redis would answer for each group, and how often it was asked."""

    def __init__(self) -> None:
        self.records: dict[str, FreshnessRecord | None] = {}
        self.reads = 0

    def fetch(self, group: str) -> FreshnessRecord | None:
        self.reads += 1
        return self.records.get(group)


def record(seconds: int) -> FreshnessRecord:
    return FreshnessRecord(last_occurred_at=T0, last_applied_at=T0 + timedelta(seconds=seconds))


def test_a_record_is_read_once_per_max_age_then_again() -> None:
    source, now = Source(), [100.0]
    recent = RecentRecords(source.fetch, clock=lambda: now[0])
    source.records["g"] = record(1)
    assert recent.get("g", 0.5) == record(1)
    source.records["g"] = record(2)  # the projector's next batch
    now[0] += 0.49
    assert recent.get("g", 0.5) == record(1)  # within the bound: the kept one, no read
    assert source.reads == 1
    now[0] += 0.01
    assert recent.get("g", 0.5) == record(2)  # at the bound: read again
    assert source.reads == 2


def test_max_age_zero_reads_every_time_and_groups_are_kept_apart() -> None:
    source = Source()
    recent = RecentRecords(source.fetch, clock=lambda: 5.0)
    source.records = {"a": record(1), "b": record(3)}
    assert [recent.get("a", 0), recent.get("a", 0), recent.get("b", 10)] == [record(1), record(1), record(3)]
    assert source.reads == 3


def test_an_unknown_record_is_kept_as_long_so_an_outage_costs_one_read_per_bound() -> None:
    source, now = Source(), [0.0]
    recent = RecentRecords(source.fetch, clock=lambda: now[0])
    assert recent.get("g", 1.0) is None
    source.records["g"] = record(1)
    now[0] += 0.5
    assert recent.get("g", 1.0) is None
    assert source.reads == 1
    now[0] += 0.5
    assert recent.get("g", 1.0) == record(1)


def test_idle_seconds_are_worked_out_per_answer_from_the_kept_record() -> None:
    kept = record(2)
    first = freshness_of(kept, now=T0 + timedelta(seconds=3))
    later = freshness_of(kept, now=T0 + timedelta(seconds=10))
    assert first is not None
    assert later is not None
    assert (first["age_seconds"], first["idle_seconds"], later["idle_seconds"]) == (2.0, 1.0, 8.0)
    assert freshness_of(None) is None
