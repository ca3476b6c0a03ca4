"""The query service has no database: no request path opens a connection, and any ORM use would fail loudly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.signals import connection_created
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.integration.query_service.conftest import Story

# A value for every route parameter, and parameters that make each list do real work.
ROUTE_ARGUMENTS = {"post_id": "1"}
QUERIES = {"api:post-search": "?q=hello&sort=relevance&tag=python", "api:author-list": "?q=a"}


def named_routes(
    resolver: URLResolver | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """Every named route as (name, concrete path), walking includes."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_routes(entry, inner, route)
        elif isinstance(entry, URLPattern) and entry.name:
            path = route
            for key, value in ROUTE_ARGUMENTS.items():
                path = path.replace(f"<int:{key}>", value).replace(f"<{key}>", value)
            yield f"{namespace}{entry.name}", "/" + path


def test_every_route_answers_without_opening_a_database_connection(story: Story) -> None:
    ada = story.register("ada")
    post_id = story.post(ada, "Hello", tags=("python",))
    story.comment(post_id, ada)
    story.project()
    opened: list[Any] = []
    connection_created.connect(lambda sender, connection, **_: opened.append(connection.alias), weak=False)
    client = APIClient()
    routes = dict(named_routes())
    assert {"api:post-search", "api:post-tag-facets", "api:post-comment-list", "api:author-list"} <= set(routes)

    for name, path in routes.items():
        response = client.get(path + QUERIES.get(name, ""), headers={"X-Consistency-Token": f"post:{post_id}:2"})
        assert response.status_code == 200, (name, path, response.content[:300])

    assert opened == []


def test_there_is_no_database_to_use() -> None:
    with pytest.raises(ImproperlyConfigured):
        connections["default"].cursor()
