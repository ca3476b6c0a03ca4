"""The OpenSearch `_search` body the query service sends for a page of the posts list, by the service's own
functions (`query_service.search.posts.post_search_body`, `gateway.page_body`) without running the search: what
`bench.query_read`'s raw peer posts straight to OpenSearch (the tag facets' body is `posts.tag_facets_body` itself).
The unit tests compare them with what `post_search` and `tag_facets` hand the OpenSearch client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from query_service.search import posts
from query_service.search.gateway import page_body
from query_service.search.posts import PostFilter


def list_filter(params: Mapping[str, Any]) -> PostFilter:
    """The PostFilter the posts list builds from a case's `q` and `tag` parameters (as `PostFilterParams` does)."""
    tags = params.get("tag", [])
    tags = [tags] if isinstance(tags, str) else tags
    return PostFilter(q=params.get("q") or None, tags=tuple(dict.fromkeys(tag.lower() for tag in tags)))


def post_search_body(post_filter: PostFilter, sort: str, cursor: str | None, size: int) -> dict[str, Any]:
    """The body `post_search` sends for one page of the posts list (its cursor: as the service issued it, or None)."""
    body, key = posts.post_search_body(post_filter, sort, size)
    return page_body(body, key=key, cursor=cursor)
