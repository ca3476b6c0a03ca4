"""The status API and page: services, heartbeats, read-model lag and freshness, dead letters."""

from __future__ import annotations

import json

import redis
from rest_framework.test import APIClient

from events.topics import event_topics
from runtime.heartbeats import Heartbeat, heartbeats_key
from tests.integration.query_service.conftest import Story


def test_status_reports_services_from_pings_and_heartbeats(story: Story, redis_url: str) -> None:
    ada = story.register("ada")
    story.post(ada, "Hello")
    story.project()
    cache = redis.Redis.from_url(redis_url)
    Heartbeat(cache, "relay host:1").beat({"postgres": True, "kafka": True}, pending=0)
    posts_topic = event_topics()["post"].name
    Heartbeat(cache, "projector projector 42").beat(
        {"kafka": True, "opensearch": True}, lag={posts_topic: 7}, held_aggregates=1, waiting_dead_letters=2
    )

    status = APIClient().get("/api/v1/status/").json()

    assert status["services"]["opensearch"]["ok"] is True
    assert status["services"]["redis"]["ok"] is True
    assert status["services"]["postgres"] == {"ok": True, "detail": "relay host:1: ok"}
    assert status["services"]["kafka"]["ok"] is True
    assert status["read_models"]["posts"]["lag"] == 7
    assert status["read_models"]["posts"]["last_event_at"] == story.uow.clock.isoformat()
    assert status["dead_letters"] == {"waiting": 2, "held_aggregates": 1}


def test_a_silent_or_failing_process_shows_as_unknown_or_down(story: Story, redis_url: str) -> None:
    cache = redis.Redis.from_url(redis_url)
    old = {"at": "2020-01-01T00:00:00+00:00", "reaches": {"postgres": True}}
    cache.hset(heartbeats_key(), "relay gone:1", json.dumps(old))
    Heartbeat(cache, "relay host:2").beat({"postgres": True, "kafka": False}, pending=12)

    services = APIClient().get("/api/v1/status/").json()["services"]

    assert services["postgres"] == {"ok": True, "detail": "relay host:2: ok"}  # the stale heartbeat is ignored
    assert services["kafka"] == {"ok": False, "detail": "relay host:2: failing"}
    assert services["opensearch"]["ok"] is True


def test_the_status_page_is_plain_html_wired_to_the_status_api_and_the_stream(story: Story) -> None:
    page = APIClient().get("/status/")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert '"/api/v1/status/"' in html
    assert '"/stream"' in html
