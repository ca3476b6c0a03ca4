"""The comments of one published post, oldest first, in `search_after` pages."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from query_service.search import gateway
from query_service.search.cursors import query_key

SORT = [{"created_at": "asc"}, {"id": "asc"}]
FIELDS = ["id", "post_id", "post_title", "body", "author", "created_at", "updated_at", "comment_version"]


def comment_list(*, client: OpenSearch, post_id: str, cursor: str | None, size: int) -> dict[str, Any]:
    """One page of a post's live comments (see `gateway.paged_search` for the shape).

    The caller checks first that the post itself is public (`post_is_public`).
    """
    body: dict[str, Any] = {
        "query": {
            "bool": {
                "filter": [{"term": {"post_id": post_id}}],
                "must_not": [{"term": {"deleted": True}}, {"term": {"post_deleted": True}}],
            }
        },
        "sort": SORT,
        "size": size,
        "_source": FIELDS,
    }
    return gateway.paged_search(
        client, "comments", body, key=query_key({"post_id": post_id}), cursor=cursor,
        shape=lambda hit: gateway.with_version(hit["_source"], "comment_version"),
    )  # fmt: skip
