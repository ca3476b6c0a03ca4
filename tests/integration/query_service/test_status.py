"""The status API and page: services, heartbeats, read-model lag and freshness, dead letters."""

from __future__ import annotations

import json
from typing import Any

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
    Heartbeat(cache, "relay host:1").beat({"database": True, "kafka": True}, pending=0, database_engine="SQLite")
    posts_topic = event_topics()["post"].name
    Heartbeat(cache, "projector projector 42").beat(
        {"kafka": True, "opensearch": True}, lag={posts_topic: 7}, held_aggregates=1, waiting_dead_letters=2
    )

    status = APIClient().get("/api/v1/status/").json()

    assert status["services"]["opensearch"]["ok"] is True
    assert status["services"]["redis"]["ok"] is True
    assert status["services"]["command_database"] == {"ok": True, "detail": "relay host:1: ok", "engine": "SQLite"}
    assert status["services"]["kafka"]["ok"] is True
    assert status["read_models"]["posts"]["lag"] == 7
    assert status["read_models"]["posts"]["last_event_at"] == story.uow.clock.isoformat()
    assert status["dead_letters"] == {"waiting": 2, "held_aggregates": 1}


def test_a_silent_or_failing_process_shows_as_unknown_or_down(story: Story, redis_url: str) -> None:
    cache = redis.Redis.from_url(redis_url)
    old = {"at": "2020-01-01T00:00:00+00:00", "reaches": {"database": True}, "database_engine": "PostgreSQL"}
    cache.hset(heartbeats_key(), "relay gone:1", json.dumps(old))
    Heartbeat(cache, "relay host:2").beat({"database": True, "kafka": False}, pending=12, database_engine="SQLite")

    services = APIClient().get("/api/v1/status/").json()["services"]

    # the stale heartbeat is ignored, and the newest report names the engine
    assert services["command_database"] == {"ok": True, "detail": "relay host:2: ok", "engine": "SQLite"}
    assert services["kafka"] == {"ok": False, "detail": "relay host:2: failing"}
    assert services["opensearch"]["ok"] is True


def test_the_status_page_is_plain_html_wired_to_the_status_api_the_charts_and_the_stream(story: Story) -> None:
    page = APIClient().get("/status/")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert '"/api/v1/status/"' in html
    assert '"/status/charts/"' in html
    assert '"/stream"' in html
    assert html.count('<figure class="chart-box"') == 3  # rendered with the page, refreshed by its script


OPERATOR_TOKEN = "operator-" + "t" * 40


def test_in_development_anyone_gets_the_full_detail(story: Story) -> None:
    status = APIClient().get("/api/v1/status/").json()

    assert status["detail"] == "full"
    assert {"processes", "services", "read_models", "dead_letters"} <= set(status)


def test_in_production_an_anonymous_caller_gets_a_summary_without_names_or_errors(
    story: Story, redis_url: str, settings: Any
) -> None:
    settings.STATUS_DETAIL_PUBLIC, settings.STATUS_TOKEN = False, OPERATOR_TOKEN  # what DJANGO_ENV=production sets
    cache = redis.Redis.from_url(redis_url)
    Heartbeat(cache, "relay secret-host.internal:4242").beat(
        {"database": True, "kafka": False}, pending=3, database_engine="PostgreSQL"
    )

    response = APIClient().get("/api/v1/status/")

    assert response.status_code == 200
    status = response.json()
    assert status["detail"] == "summary"
    assert set(status) == {"detail", "services", "read_models", "dead_letters"}
    assert status["services"]["kafka"] == {"ok": False}  # health only: no process names, no error text
    assert status["services"]["command_database"] == {"ok": True, "engine": "PostgreSQL"}  # what it is, not where
    assert all(set(service) == {"ok"} for name, service in status["services"].items() if name != "command_database")
    assert set(status["read_models"]["posts"]) == {"lag", "commit_to_searchable_seconds", "last_event_at"}
    assert "secret-host" not in response.content.decode()
    assert event_topics()["post"].name not in response.content.decode()  # no topic or alias names
    assert "Authorization" in response["Vary"]


def test_in_production_the_operator_token_gets_the_full_detail_and_a_wrong_one_403(
    story: Story, redis_url: str, settings: Any
) -> None:
    settings.STATUS_DETAIL_PUBLIC, settings.STATUS_TOKEN = False, OPERATOR_TOKEN
    Heartbeat(redis.Redis.from_url(redis_url), "relay host:7").beat({"database": True}, pending=0)

    full = APIClient().get("/api/v1/status/", HTTP_AUTHORIZATION=f"Bearer {OPERATOR_TOKEN}").json()
    wrong = APIClient().get("/api/v1/status/", HTTP_AUTHORIZATION="Bearer not-the-token")

    assert full["detail"] == "full"
    assert "relay host:7" in full["processes"]
    assert full["services"]["command_database"] == {"ok": True, "detail": "relay host:7: ok", "engine": None}
    assert wrong.status_code == 403
    assert wrong.json() == {"message": "not a valid status token", "fields": {}}


def test_in_production_without_a_configured_token_every_bearer_is_refused(story: Story, settings: Any) -> None:
    settings.STATUS_DETAIL_PUBLIC, settings.STATUS_TOKEN = False, ""

    assert APIClient().get("/api/v1/status/", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert APIClient().get("/api/v1/status/").json()["detail"] == "summary"
