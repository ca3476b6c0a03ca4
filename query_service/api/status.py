"""The system's status as the query service sees it: its own backing services, the other processes' heartbeats,
the read models' lag and freshness, the dead letters, and charts of the last minutes. Never a database connection: the
command database's health and engine (PostgreSQL or SQLite) and Kafka's come from the heartbeats of the processes that
use them.

Anonymous callers in production get a summary (each service up or down, each read model's lag and freshness, the
dead-letter counts, the command database's engine; the charts are numbers too): no host names, pids, error text,
aliases or topics. The full detail goes to a bearer of
`QUERY_STATUS_TOKEN`, and to anyone in development (`STATUS_DETAIL_PUBLIC`), where the status page shows it all."""

from __future__ import annotations

import hmac
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.topics import event_topics
from query_service.adapters import opensearch, redis_client
from query_service.api.status_charts import status_charts
from query_service.search.freshness import freshness_read
from query_service.search.gateway import alias
from query_service.stream.routing import STREAM_PATH
from runtime.heartbeats import INTERVAL_SECONDS, heartbeats_read

# The read model each topic mainly feeds (comments also update posts' counts, users every embedded author).
READ_MODEL_OF_AGGREGATE = {"user": "authors", "post": "posts", "comment": "comments"}
# What the summary keeps of a read model: how far behind and how fresh it is, as the read API's headers say anyway.
SUMMARY_READ_MODEL_FIELDS = ("lag", "commit_to_searchable_seconds", "last_event_at")


def _opensearch_health(client: OpenSearch) -> dict[str, Any]:
    try:
        health = client.cluster.health(request_timeout=2)
    except OpenSearchException as error:
        return {"ok": False, "detail": type(error).__name__}
    return {"ok": health["status"] in ("green", "yellow"), "detail": f"cluster {health['status']}"}


def _redis_health(client: redis.Redis) -> dict[str, Any]:
    try:
        client.ping()
    except redis.RedisError as error:
        return {"ok": False, "detail": type(error).__name__}
    return {"ok": True, "detail": "ping answered"}


def _reported(heartbeats: dict[str, dict[str, Any]], service: str) -> dict[str, Any]:
    """A service's health as the fresh heartbeats report it (unknown when none mentions it)."""
    seen = {name: beat["reaches"][service] for name, beat in heartbeats.items()
            if not beat["stale"] and service in beat["reaches"]}  # fmt: skip
    if not seen:
        return {"ok": None, "detail": "no process reported it recently"}
    return {"ok": all(seen.values()), "detail": ", ".join(f"{name}: {'ok' if ok else 'failing'}"
                                                          for name, ok in sorted(seen.items()))}  # fmt: skip


def _database(heartbeats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The command database's health and engine, as the relays report them (the newest report names the engine)."""
    engines = sorted((beat["age_seconds"], beat["database_engine"]) for beat in heartbeats.values()
                     if beat.get("database_engine"))  # fmt: skip
    return {**_reported(heartbeats, "database"), "engine": engines[0][1] if engines else None}


def read_model_of_topic() -> dict[str, str]:
    """The read model each event topic mainly feeds, in the topics' order."""
    return {spec.name: READ_MODEL_OF_AGGREGATE[aggregate] for aggregate, spec in event_topics().items()}


def system_status(*, search: OpenSearch, cache: redis.Redis, group: str) -> dict[str, Any]:
    """Everything the status page shows, as plain data."""
    redis_health = _redis_health(cache)
    heartbeats = heartbeats_read(cache) if redis_health["ok"] else {}
    projectors = [beat for name, beat in heartbeats.items() if name.startswith(f"projector {group} ")]
    fresh = [beat for beat in projectors if not beat["stale"]]
    holds = fresh[0] if fresh else {}
    freshness = freshness_read(client=cache, group=group) if redis_health["ok"] else None
    lag_by_topic: dict[str, int] = {}
    for beat in fresh:
        for topic, behind in beat.get("lag", {}).items():
            lag_by_topic[topic] = lag_by_topic.get(topic, 0) + behind
    read_models = {}
    for aggregate, spec in event_topics().items():
        name = READ_MODEL_OF_AGGREGATE[aggregate]
        read_models[name] = {
            "alias": alias(name),
            "topic": spec.name,
            "lag": lag_by_topic.get(spec.name) if fresh else None,
            "commit_to_searchable_seconds": freshness["age_seconds"] if freshness else None,
            "last_event_at": freshness["last_event_at"] if freshness else None,
        }
    return {
        "services": {
            "opensearch": _opensearch_health(search),
            "redis": redis_health,
            "command_database": _database(heartbeats),
            "kafka": _reported(heartbeats, "kafka"),
        },
        "read_models": read_models,
        "dead_letters": {  # holds are shared by the group: any one projector's count is the group's
            "waiting": holds.get("waiting_dead_letters", 0),
            "held_aggregates": holds.get("held_aggregates", 0),
        },
        "processes": heartbeats,
    }


def status_summary(full: dict[str, Any]) -> dict[str, Any]:
    """The public part of `system_status`: health, lag and freshness, dead-letter counts; no names or errors."""
    return {
        "detail": "summary",
        "services": {
            name: {key: service[key] for key in ("ok", "engine") if key in service}
            for name, service in full["services"].items()
        },
        "read_models": {
            name: {key: model[key] for key in SUMMARY_READ_MODEL_FIELDS} for name, model in full["read_models"].items()
        },
        "dead_letters": full["dead_letters"],
    }


def status_detail_allowed(authorization: str) -> bool:
    """Whether a request with this `Authorization` header gets the full status.

    Raises:
        PermissionDenied: a bearer token is sent that is not `QUERY_STATUS_TOKEN` (or none is configured).
    """
    if settings.STATUS_DETAIL_PUBLIC:
        return True
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    if settings.STATUS_TOKEN and hmac.compare_digest(given.strip().encode(), settings.STATUS_TOKEN.encode()):
        return True
    raise PermissionDenied("not a valid status token")


def _charts() -> list[dict[str, Any]]:
    models = read_model_of_topic()
    return status_charts(cache=redis_client(), group=settings.PROJECTOR_GROUP, read_model_of_topic=models)


def status_page(request: HttpRequest) -> HttpResponse:
    """The status page: plain HTML with the charts, and a little JavaScript polling SystemStatusApi and the charts'
    fragment and reading the live stream."""
    context = {
        "status_url": reverse("api:system-status"),
        "charts_url": reverse("status-charts"),
        "charts_refresh_ms": int(INTERVAL_SECONDS * 1000),  # a new sample arrives once per heartbeat
        "stream_path": STREAM_PATH,
        "charts": _charts(),
    }
    return render(request, "query_service/status.html", context)


@never_cache
def status_charts_fragment(request: HttpRequest) -> HttpResponse:
    """The status page's charts alone (server-rendered SVG), which the page fetches again every heartbeat."""
    return render(request, "query_service/status_charts.html", {"charts": _charts()})


class SystemStatusApi(APIView):
    """The system's health, lag, freshness and dead letters (what the status page polls)."""

    @extend_schema(
        operation_id="system_status",
        responses=dict,
        description=(
            "A summary (`detail: summary`: each service's `ok` and the command database's `engine`, each read "
            "model's lag and freshness, the dead-letter counts) for anonymous callers in production; the full detail "
            "(`detail: full`: service details, aliases, topics, the processes' heartbeats) with "
            "`Authorization: Bearer <QUERY_STATUS_TOKEN>`, and for anyone in development. A wrong token is a 403."
        ),
    )
    def get(self, request: Request) -> Response:
        full = status_detail_allowed(request.headers.get("Authorization", ""))
        status = system_status(search=opensearch(), cache=redis_client(), group=settings.PROJECTOR_GROUP)
        response = Response({"detail": "full", **status} if full else status_summary(status))
        patch_vary_headers(response, ["Authorization"])
        return response
