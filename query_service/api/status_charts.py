"""The status page's charts: the last minutes of the projectors' heartbeat samples, one line per read model.

Each projector of the group keeps its own history (`runtime.heartbeats`, which also bounds it); with several
projectors a chart combines, at each sample's time, every projector's latest sample that is not stale yet (lag and
events per second add up, the worst age wins). Only numbers reach the page: read-model names, times and values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.utils.safestring import SafeString, mark_safe

from query_service.api.charts import Point, line_chart_svg
from runtime.heartbeats import HISTORY_SECONDS, STALE_AFTER_SECONDS, heartbeat_history_read, heartbeats_read


@dataclass(frozen=True)
class Chart:
    """One chart: the heartbeat field it plots (a value per topic), its labels, and how projectors' values combine."""

    id: str
    title: str
    unit: str
    field: str
    combine: Callable[[Iterable[float]], float]


CHARTS = (
    Chart("searchable-age", "Commit → searchable age", "s", "searchable_age_seconds", max),
    Chart("events-per-second", "Events per second", "events/s", "events_per_second", sum),
    Chart("lag", "Lag", "events", "lag", sum),
)


def merged_series(
    histories: Iterable[list[dict[str, Any]]], field: str, combine: Callable[[Iterable[float]], float]
) -> dict[str, list[Point]]:
    """Per topic, at each sample's time, `combine` of the latest fresh sample of every process that has the topic."""
    samples = sorted(
        (datetime.fromisoformat(sample["at"]).timestamp(), process, sample.get(field) or {})
        for process, history in enumerate(histories)
        for sample in history
    )  # (time, process) is unique: a process samples at most once per beat
    latest: dict[int, tuple[float, dict[str, float]]] = {}
    series: dict[str, list[Point]] = {}
    for at, process, values in samples:
        latest[process] = (at, values)
        fresh = [seen for since, seen in latest.values() if at - since <= STALE_AFTER_SECONDS]
        for topic in {topic for seen in fresh for topic in seen}:
            series.setdefault(topic, []).append((at, combine(seen[topic] for seen in fresh if topic in seen)))
    return series


def _histories(cache: redis.Redis, group: str, now: datetime) -> list[list[dict[str, Any]]]:
    """The recent samples of every projector of the group (none when Redis fails: the charts then say so)."""
    try:
        names = [name for name in heartbeats_read(cache, now) if name.startswith(f"projector {group} ")]
        return [heartbeat_history_read(cache, name, now) for name in sorted(names)]
    except redis.RedisError:
        return []


def status_charts(
    *, cache: redis.Redis, group: str, read_model_of_topic: Mapping[str, str], now: datetime | None = None
) -> list[dict[str, str | SafeString]]:
    """Each chart of the last HISTORY_SECONDS as `{"id", "title", "svg"}` (the SVG is escaped where it needs to be)."""
    now = now or datetime.now(UTC)
    histories = _histories(cache, group, now)
    end = now.timestamp()
    charts = []
    for chart in CHARTS:
        by_topic = merged_series(histories, chart.field, chart.combine)
        series = {model: by_topic.get(topic, []) for topic, model in read_model_of_topic.items()}
        svg = line_chart_svg(
            title=chart.title, unit=chart.unit, series=series, start=end - HISTORY_SECONDS, end=end,
            max_gap=STALE_AFTER_SECONDS,
        )  # fmt: skip
        charts.append({"id": chart.id, "title": chart.title, "svg": mark_safe(svg)})  # charts escapes every label
    return charts
