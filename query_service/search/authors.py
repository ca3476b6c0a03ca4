"""The authors directory: every registered user's public profile and counts, by username, optionally searched."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from query_service.search import gateway
from query_service.search.cursors import query_key

SORT = [{"username": "asc"}, {"id": "asc"}]
FIELDS = ["id", "username", "display_name", "avatar_url", "bio", "published_post_count", "comment_count",
          "user_version"]  # fmt: skip


def _author(hit: dict[str, Any]) -> dict[str, Any]:
    author = gateway.with_version(hit["_source"], "user_version")
    author.setdefault("published_post_count", 0)
    author.setdefault("comment_count", 0)
    return author


def author_list(*, client: OpenSearch, q: str | None, cursor: str | None, size: int) -> dict[str, Any]:
    """One page of authors (see `gateway.paged_search` for the shape).

    Args:
        client: the OpenSearch client.
        q: words matched against display names and bios, or a username prefix; None lists everyone.
        cursor: the previous page's `next_cursor`.
        size: page size (already capped by the caller).
    """
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"registered": True}}]}}
    if q:
        text = {"simple_query_string": {"query": q, "fields": ["display_name^2", "bio"], "lenient": True}}
        prefix = {"prefix": {"username": {"value": q, "case_insensitive": True}}}
        query["bool"]["must"] = [{"bool": {"should": [text, prefix]}}]
    body = {"query": query, "sort": SORT, "size": size, "_source": FIELDS}
    return gateway.paged_search(client, "authors", body, key=query_key({"q": q}), cursor=cursor, shape=_author)
