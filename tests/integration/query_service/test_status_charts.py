"""The status page's charts on the real Redis: each process's bounded sample history and the SVG built from it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import redis
from rest_framework.test import APIClient

from events.topics import event_topics
from projector.operations.cli import CHARTED
from runtime.heartbeats import (
    HISTORY_SAMPLES,
    HISTORY_SECONDS,
    Heartbeat,
    heartbeat_history_key,
    heartbeat_history_read,
)
from tests.integration.query_service.conftest import Story

SVG = "{http://www.w3.org/2000/svg}"


def test_a_history_keeps_one_sample_per_beat_bounded_in_count_and_age(story: Story, redis_url: str) -> None:
    cache = redis.Redis.from_url(redis_url)
    name = "projector projector 1"
    key = heartbeat_history_key(name)
    old = datetime.now(UTC) - timedelta(seconds=HISTORY_SECONDS + 60)
    cache.zadd(key, {json.dumps({"at": old.isoformat(), "lag": {"t": -1}}): old.timestamp()})

    for n in range(HISTORY_SAMPLES + 20):  # a new Heartbeat is due at once: one beat, one sample each
        Heartbeat(cache, name, charted=("lag",)).beat({"kafka": True}, lag={"t": n}, held_aggregates=0)

    samples = heartbeat_history_read(cache, name)
    assert cache.zcard(key) == HISTORY_SAMPLES  # the sample older than the window went, then the oldest beyond the cap
    assert [sample["lag"]["t"] for sample in samples] == list(range(20, HISTORY_SAMPLES + 20))  # oldest first
    assert set(samples[0]) == {"at", "lag"}  # only the charted details
    assert 0 < cache.ttl(key) <= HISTORY_SECONDS  # an idle history goes with its window
    later = datetime.now(UTC) + timedelta(seconds=HISTORY_SECONDS + 1)
    assert heartbeat_history_read(cache, name, now=later) == []  # a reader sees only the window


def test_a_heartbeat_without_charted_details_keeps_no_history(story: Story, redis_url: str) -> None:
    cache = redis.Redis.from_url(redis_url)
    Heartbeat(cache, "relay host:1").beat({"database": True, "kafka": True}, pending=0)
    Heartbeat(cache, "projector projector 2", charted=CHARTED).beat({}, failing_batches=1)

    assert cache.exists(heartbeat_history_key("relay host:1"), heartbeat_history_key("projector projector 2")) == 0


def charts(html: str) -> dict[str, ET.Element]:
    """The fragment's charts by id (the markup must be well-formed)."""
    root = ET.fromstring(f"<div>{html}</div>")
    return {figure.get("data-chart"): figure.find(f"{SVG}svg") for figure in root.iter("figure")}


def lines(svg: ET.Element) -> dict[str, str]:
    """Each series of a chart: its latest value."""
    return {g.get("data-series"): g.get("data-last-value") for g in svg.iter(f"{SVG}g") if g.get("class") == "series"}


def test_before_any_sample_every_chart_says_no_data_yet(story: Story) -> None:
    response = APIClient().get("/status/charts/")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    found = charts(response.content.decode())
    assert set(found) == {"searchable-age", "events-per-second", "lag"}
    assert all(svg.get("data-empty") == "true" for svg in found.values())


def test_the_charts_draw_a_line_per_read_model_from_every_projector_of_the_group(story: Story, redis_url: str) -> None:
    cache = redis.Redis.from_url(redis_url)
    topic = {aggregate: spec.name for aggregate, spec in event_topics().items()}
    everywhere = {name: 2 for name in topic.values()}
    Heartbeat(cache, "projector projector 42", charted=CHARTED).beat(
        {"kafka": True}, lag=everywhere, events_per_second={name: 1.5 for name in topic.values()},
        searchable_age_seconds={topic["post"]: 0.25}, held_aggregates=0,
    )  # fmt: skip
    Heartbeat(cache, "projector projector 43", charted=CHARTED).beat(
        {"kafka": True}, lag={topic["post"]: 3}, events_per_second={topic["post"]: 0.5},
        searchable_age_seconds={topic["post"]: 0.75}, held_aggregates=0,
    )  # fmt: skip
    Heartbeat(cache, "projector other-group 44", charted=CHARTED).beat({"kafka": True}, lag={topic["post"]: 1000})

    html = APIClient().get("/status/charts/").content.decode()

    found = charts(html)
    assert lines(found["lag"]) == {"authors": "2", "posts": "5", "comments": "2"}  # the group's projectors add up
    assert lines(found["events-per-second"]) == {"authors": "1.5", "posts": "2", "comments": "1.5"}
    assert lines(found["searchable-age"]) == {"posts": "0.75"}  # the worst age; no age where nothing was applied
    for secret in ("projector 42", *topic.values()):  # the page is public: numbers and read-model names only
        assert secret not in html
