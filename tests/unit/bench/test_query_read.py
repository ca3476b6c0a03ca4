"""The read benchmark's peers: the raw `_search` bodies are the query service's own, and the ratios pair samples."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import pytest

from bench.query_read import PAGE, Case, Figures, ListCase, answer_ids, paired_ratio, plan_scans, ratio, ratio_lines
from bench.search_bodies import list_filter, post_search_body
from query_service.search.cursors import cursor_encode, query_key
from query_service.search.gateway import alias
from query_service.search.posts import PostFilter, post_search, tag_facets


class RecordingClient:
    """An OpenSearch client stand-in that records each search and answers with no hits."""

    def __init__(self) -> None:
        self.searches: list[tuple[str, dict[str, Any]]] = []

    def search(self, *, index: str, body: dict[str, Any]) -> dict[str, Any]:
        self.searches.append((index, body))
        hits = {"hits": [], "total": {"value": 0, "relation": "eq"}}
        return {"hits": hits, "aggregations": {"tags": {"buckets": []}}}


def sent_by_post_search(post_filter: PostFilter, sort: str, cursor: str | None) -> dict[str, Any]:
    """The body `post_search` hands the client for one page of 20."""
    client = RecordingClient()
    post_search(client=client, post_filter=post_filter, sort=sort, cursor=cursor, size=PAGE)  # type: ignore[arg-type]
    [(index, body)] = client.searches
    assert index == alias("posts")
    return body


def cursor_of(post_filter: PostFilter, sort: str) -> str:
    """A cursor as the service issues it for the list (after a hit with these sort values)."""
    values = [1767225600000, 42] if sort == "newest" else [3.5, 1767225600000, 42]
    return cursor_encode(query_key({**asdict(post_filter), "sort": sort}), values)


def test_the_newest_page_1_body_is_what_post_search_sends() -> None:
    assert ListCase("newest", "newest, page 1").body() == sent_by_post_search(PostFilter(), "newest", None)


@pytest.mark.parametrize(
    ("params", "sort"),
    [
        ({"tag": "python"}, "newest"),
        ({"q": "data", "sort": "relevance"}, "relevance"),
        ({"q": "data", "tag": "Python", "sort": "relevance"}, "relevance"),
        ({"sort": "most_commented"}, "most_commented"),
        ({"sort": "relevance"}, "newest"),  # relevance without q is newest, for the body and the cursor's key
    ],
)
def test_every_list_case_body_is_what_post_search_sends(params: dict[str, str], sort: str) -> None:
    post_filter = list_filter(params)
    assert ListCase("k", "label", params).body() == sent_by_post_search(post_filter, params.get("sort", "newest"), None)
    cursor = cursor_of(post_filter, sort)
    paged = ListCase("k", "label", {**params, "cursor": cursor}).body()
    assert paged == sent_by_post_search(post_filter, params.get("sort", "newest"), cursor)
    assert paged["search_after"]
    assert paged["track_total_hits"] == 10_000


def test_a_deep_page_body_carries_the_cursor_as_search_after() -> None:
    cursor = cursor_of(PostFilter(), "newest")
    body = ListCase("deep", "newest, page 51", {"cursor": cursor}).body()
    assert body == sent_by_post_search(PostFilter(), "newest", cursor)
    assert body["search_after"] == [1767225600000, 42]
    assert body == {**post_search_body(PostFilter(), "newest", None, PAGE), "search_after": [1767225600000, 42]}


def test_the_tag_facets_body_is_what_tag_facets_sends() -> None:
    client = RecordingClient()
    tag_facets(client=client, post_filter=PostFilter())  # type: ignore[arg-type]
    assert ListCase("facets", "tag facets", facets=True).body() == client.searches[0][1]


def test_list_case_paths_are_the_query_services() -> None:
    assert ListCase("newest", "x").path() == "/api/v1/posts/"
    assert ListCase("q", "x", {"q": "data", "sort": "relevance"}).path() == "/api/v1/posts/?q=data&sort=relevance"
    assert ListCase("facets", "x", facets=True).path() == "/api/v1/posts/tags/"


def figures(rate: float, p50: float, p99: float, alone: float) -> Figures:
    return Figures(requests=10, rate=rate, p50_ms=p50, p90_ms=p50, p99_ms=p99, alone_p50_ms=alone, alone_p99_ms=alone,
                   errors=0)  # fmt: skip


def test_ratios_pair_samples_round_by_round() -> None:
    top = [figures(100, 10, 20, 2), figures(50, 30, 60, 3)]
    bottom = [figures(200, 5, 10, 1), figures(100, 10, 20, 3)]
    spread = paired_ratio(top, bottom, lambda f: f.p50_ms)
    assert (spread.median, spread.low, spread.high, spread.n) == (2.0, 2.0, 3.0, 2)
    assert math.isnan(ratio(1, 0))
    assert math.isnan(ratio(math.nan, 1))
    assert ratio(3, 2) == 1.5


def test_ratio_lines_name_every_peer_and_target() -> None:
    one = [figures(100, 10, 20, 2)]
    results = [
        (Case("query", "newest", "newest, page 1", 1, "/"), "", one),
        (Case("raw", "newest", "newest, page 1", 2, "/p/_search", b"{}"), "", [figures(200, 5, 10, 1)]),
        (Case("orm", "newest", "newest, page 1", 3, "/o/"), "", [figures(25, 40, 100, 8)]),
        (Case("query", "far", "newest, page 1000 (cursor)", 1, "/?cursor=c"), "", [figures(100, 12, 20, 3)]),
        (Case("raw", "far", "newest, page 1000 (cursor)", 2, "/p/_search", b"{}"), "", [figures(200, 5, 10, 1)]),
    ]
    text = "\n".join(ratio_lines(results, 16, "far"))
    assert "p50 alone 2.00 (2.00-2.00, n=1) [<= 1.5]" in text
    assert "throughput at 16 0.50 (0.50-0.50, n=1) [>= 0.7]" in text
    assert "p99 at 16 0.20 (0.20-0.20, n=1) [<= 0.25]" in text
    assert "throughput at 16 4.00 (4.00-4.00, n=1) [>= 2]" in text
    assert "newest, page 1000 (cursor) / page 1" in text
    assert "p50 alone 1.50 (1.50-1.50, n=1)" in text


def test_answer_ids_read_every_peers_answer() -> None:
    hits = [{"_source": {"id": "7"}}, {"_source": {"id": "3"}}]
    raw = {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": hits}}
    assert answer_ids(raw) == answer_ids({"results": [{"id": 7}, {"id": 3}], "total": 2}) == [7, 3]
    facets = {"hits": {"hits": []}, "aggregations": {"tags": {"buckets": [{"key": "python", "doc_count": 3}]}}}
    assert answer_ids(facets) == answer_ids({"results": [{"tag": "python", "count": 3}]}) == ["python"]


PLAN = """Limit  (cost=0.42..12.34 rows=21 width=100)
  ->  Nested Loop  (cost=0.42..1000.00 rows=2000 width=100)
        ->  Index Scan using bench_posts_keyset on posts  (cost=0.29..500.00 rows=2000 width=90)
              Index Cond: ((status)::text = 'published'::text)
        ->  Bitmap Heap Scan on posts posts_1  (cost=1.00..2.00 rows=1 width=8)
              ->  Bitmap Index Scan on bench_posts_search  (cost=0.00..1.00 rows=1 width=0)
        ->  Seq Scan on users  (cost=0.00..3.00 rows=100 width=10)"""


def test_plan_scans_names_the_indices_and_full_scans_in_plan_order() -> None:
    assert plan_scans(PLAN) == ["bench_posts_keyset", "bench_posts_search", "seq scan of users"]
    assert plan_scans("Seq Scan on posts  (cost=0.00..1.00 rows=1 width=8)") == ["seq scan of posts"]
