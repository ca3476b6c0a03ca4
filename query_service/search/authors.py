"""The authors directory: every registered user's public profile and counts, by username, optionally searched.

User text reaches OpenSearch inside `simple_query_string` (no syntax errors; it cannot address fields or scripts),
as for posts. The one exception is the username prefix, which must match case-insensitively (`username` is a
keyword without a normalizer, which `simple_query_string` would match case-sensitively): it is a `prefix` query,
built only when the text could begin a username (letters, digits and underscores: `USERNAME_PREFIX`, the command
side's rule) and so holds nothing any query language reads as syntax. Other text could match no username anyway.
"""

from __future__ import annotations

import re
from typing import Any

from opensearchpy import OpenSearch

from query_service.search import gateway
from query_service.search.cursors import query_key

SORT = [{"username": "asc"}, {"id": "asc"}]
USERNAME_PREFIX = re.compile(r"[A-Za-z0-9_]{1,30}")  # how a username can begin (3 to 30 of these, whole)
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
        q: words matched against display names and bios, or a username prefix (when it can be one); None lists
            everyone.
        cursor: the previous page's `next_cursor`.
        size: page size (already capped by the caller).
    """
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"registered": True}}]}}
    if q:
        should: list[dict[str, Any]] = [
            {"simple_query_string": {"query": q, "fields": ["display_name^2", "bio"], "lenient": True}}
        ]
        if USERNAME_PREFIX.fullmatch(q):
            should.append({"prefix": {"username": {"value": q, "case_insensitive": True}}})
        query["bool"]["must"] = [{"bool": {"should": should}}]
    body = {"query": query, "sort": SORT, "size": size, "_source": FIELDS}
    return gateway.paged_search(client, "authors", body, key=query_key({"q": q}), cursor=cursor, shape=_author)
