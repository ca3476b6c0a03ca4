"""Published posts: full-text search with highlights, filters, three sorts, `search_after` pages, tag facets.

Only published, undeleted posts are ever returned: the visibility filter (`read_models.visibility`) is part of every
query this module builds, whatever the parameters. User text reaches OpenSearch only inside `simple_query_string`,
which has no syntax errors and cannot address fields or scripts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from query_service.search import gateway
from query_service.search.cursors import query_key
from read_models.visibility import PUBLIC_POST_FIELDS, is_public_post, public_post_clauses

SORTS = {
    "newest": [{"published_at": "desc"}, {"id": "asc"}],
    "most_commented": [{"comment_count": "desc"}, {"published_at": "desc"}, {"id": "asc"}],
    "relevance": [{"_score": "desc"}, {"published_at": "desc"}, {"id": "asc"}],
}
SEARCH_FIELDS = ["title^3", "tags.text^2", "content"]  # tags.text: stemmed, so "run" finds #running
LIST_FIELDS = [
    "id", "title", "content_preview", "reading_time", "tags", "author", "comment_count", "last_commented_at",
    "created_at", "updated_at", "published_at", "post_version",
]  # fmt: skip
FACET_SIZE = 50
FACET_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
HIGHLIGHT = {
    "pre_tags": ["<mark>"],
    "post_tags": ["</mark>"],
    "encoder": "html",  # the text around the marks is escaped, so a highlight is safe to render as HTML
    "fields": {"title": {"number_of_fragments": 0}, "content": {"fragment_size": 160, "number_of_fragments": 2}},
}


@dataclass(frozen=True)
class PostFilter:
    """Which published posts a list covers."""

    q: str | None = None
    tags: tuple[str, ...] = ()
    author_id: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None

    def query(self) -> dict[str, Any]:
        """The bool query: visibility first, then the filters, then the text (which alone scores)."""
        visible = public_post_clauses()
        filters = visible["filter"]
        filters += [{"term": {"tags": tag}} for tag in self.tags]
        if self.author_id:
            filters.append({"term": {"author.id": self.author_id}})
        window = {}
        if self.published_after:
            window["gte"] = self.published_after.isoformat()
        if self.published_before:
            window["lt"] = self.published_before.isoformat()
        if window:
            filters.append({"range": {"published_at": window}})
        query: dict[str, Any] = {"filter": filters, "must_not": visible["must_not"]}
        if self.q:
            query["must"] = [
                {
                    "simple_query_string": {
                        "query": self.q,
                        "fields": SEARCH_FIELDS,
                        "default_operator": "and",
                        "lenient": True,
                    }
                }
            ]
        return {"bool": query}


def _sort_name(post_filter: PostFilter, sort: str) -> str:
    return "newest" if sort == "relevance" and not post_filter.q else sort


def _post(hit: dict[str, Any]) -> dict[str, Any]:
    source = gateway.with_version(hit["_source"], "post_version")
    source.setdefault("comment_count", 0)
    source["highlights"] = hit.get("highlight", {})
    return source


def post_search_body(post_filter: PostFilter, sort: str, size: int) -> tuple[dict[str, Any], str]:
    """The search body of one page of published posts (before its cursor) and the key that binds cursors to it.

    Args:
        post_filter: which posts.
        sort: newest, most_commented or relevance (relevance without `q` is newest).
        size: page size (already capped by the caller).
    """
    sort = _sort_name(post_filter, sort)
    body: dict[str, Any] = {"query": post_filter.query(), "sort": SORTS[sort], "size": size, "_source": LIST_FIELDS}
    if post_filter.q:
        body["highlight"] = HIGHLIGHT
    return body, query_key({**asdict(post_filter), "sort": sort})


def post_search(
    *, client: OpenSearch, post_filter: PostFilter, sort: str, cursor: str | None, size: int
) -> dict[str, Any]:
    """One page of published posts.

    Args:
        client: the OpenSearch client.
        post_filter: which posts.
        sort: newest, most_commented or relevance (relevance without `q` is newest).
        cursor: the previous page's `next_cursor`, or None for the first page.
        size: page size (already capped by the caller).

    Returns:
        {"results": [post, ...], "next_cursor": str | None, "total": int, "total_is_exact": bool}; each post has
        `highlights` ({field: [fragment, ...]}) when `q` is given.
    """
    body, key = post_search_body(post_filter, sort, size)
    return gateway.paged_search(client, "posts", body, key=key, cursor=cursor, shape=_post)


def tag_facets_body(post_filter: PostFilter) -> dict[str, Any]:
    """The search body of the tag counts over the published posts the filter matches."""
    return {
        "query": post_filter.query(),
        "size": 0,
        "aggs": {"tags": {"terms": {"field": "tags", "size": FACET_SIZE, "order": FACET_ORDER}}},
    }


def tag_facets(*, client: OpenSearch, post_filter: PostFilter) -> list[dict[str, Any]]:
    """Tag counts over the published posts the filter matches, most frequent first (ties by name)."""
    buckets = gateway.search(client, "posts", tag_facets_body(post_filter))["aggregations"]["tags"]["buckets"]
    return [{"tag": bucket["key"], "count": bucket["doc_count"]} for bucket in buckets]


def post_is_public(*, client: OpenSearch, post_id: str) -> bool:
    """Whether the post is published and not deleted (what its comments' visibility follows)."""
    source = gateway.get_source(client, "posts", post_id, list(PUBLIC_POST_FIELDS))
    return is_public_post(source)
