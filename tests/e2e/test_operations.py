"""What operators watch on a running system: the projector's Prometheus metrics and the status API."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import System, eventually


def _metrics(system: System) -> dict[str, list]:
    url = f"http://127.0.0.1:{system.env['PROJECTOR_METRICS_PORT']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_projector_metrics_count_events_and_report_lag_and_age(system: System) -> None:
    _, token = system.user("metrics_author", "Metric Writer")
    created = system.command("POST", "posts/", {"title": "Measured", "content": "Counted.", "tags": []}, token)
    published = system.command("POST", f"posts/{created.body['id']}/publish/", {}, token)  # a draft's token: stale
    consistency = published.headers["x-consistency-token"]
    assert system.query("posts/", consistency=consistency).headers["x-consistency-status"] == "consistent"

    def processed() -> dict[str, float]:
        samples = _metrics(system)["projector_events_processed"]
        counts = {s.labels["event_type"]: s.value for s in samples if s.name.endswith("_total")}
        return counts if counts.get("post.created", 0) >= 1 else {}

    counts = eventually(processed)
    assert counts["user.registered"] >= 1
    families = _metrics(system)
    [age] = families["projector_commit_to_searchable_seconds"]
    assert age.value > 0  # measured by a batch: a gauge never set reads 0, and a commit precedes its projection
    lag = eventually(lambda: _metrics(system).get("projector_consumer_lag"), timeout=15)  # measured every 5 s
    assert {sample.labels["topic"] for sample in lag} == {system.env["EVENTS_TOPIC_PREFIX"] + t
                                                          for t in ("content.users", "content.posts",
                                                                    "content.comments")}  # fmt: skip


def test_status_api_shows_every_backing_service_healthy(system: System) -> None:
    def all_ok() -> dict | None:
        status = system.call(system.query_port, "GET", "/api/v1/status/").body
        healthy = all(service["ok"] is True for service in status["services"].values())
        return status if healthy else None

    status = eventually(all_ok, timeout=30)  # PostgreSQL and Kafka come from heartbeats, every 5 s
    assert status["read_models"]["posts"]["topic"] == system.env["EVENTS_TOPIC_PREFIX"] + "content.posts"

    def posts_caught_up() -> bool:  # nothing is being written: the projector's next lag measurement says 0 behind
        return system.call(system.query_port, "GET", "/api/v1/status/").body["read_models"]["posts"]["lag"] == 0

    eventually(posts_caught_up, timeout=30)  # fails unless the lag is reported, and is 0
    assert any(name.startswith("relay ") for name in status["processes"])
    assert any(name.startswith(f"projector {system.env['PROJECTOR_GROUP']} ") for name in status["processes"])
