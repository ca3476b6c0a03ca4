"""Recounting owners from their members: the aggregations asked for, the counts read back, the guarded writes."""

from __future__ import annotations

from typing import Any

from projector.consumer.counts import CHUNK, CLOCK_GUARD, COUNTERS, count_upserts, counts_of, recount_searches
from projector.consumer.plans import Facet, Recount, Upsert
from read_models.models import MODELS_BY_NAME


def _buckets(*buckets: dict[str, Any]) -> dict[str, Any]:
    return {"aggregations": {"owners": {"buckets": list(buckets)}}}


def test_every_counter_counts_mapped_fields_of_mapped_models() -> None:
    for counter in COUNTERS:
        owner = MODELS_BY_NAME[counter.owner].mappings["properties"]
        members = MODELS_BY_NAME[counter.members].mappings["properties"]
        assert counter.field in owner
        key, *sub = counter.key.split(".")
        assert key in members
        assert not sub or sub[0] in members[key]["properties"]
        if counter.newest:
            assert counter.newest[0] in owner
            assert counter.newest[1] in members


def test_each_owner_is_recounted_once_by_every_counter_of_its_model() -> None:
    searches = recount_searches([Recount("authors", "u2"), Recount("posts", "p1"), Recount("authors", "u1"),
                                 Recount("authors", "u2")])  # fmt: skip

    assert [(s.counter.owner, s.counter.field, s.counter.members, s.ids) for s in searches] == [
        ("posts", "comment_count", "comments", ("p1",)),
        ("authors", "comment_count", "comments", ("u1", "u2")),
        ("authors", "published_post_count", "posts", ("u1", "u2")),
    ]


def test_many_owners_are_recounted_a_chunk_at_a_time() -> None:
    searches = recount_searches([Recount("posts", f"p{n:05}") for n in range(CHUNK + 1)])

    assert [len(search.ids) for search in searches] == [CHUNK, 1]


def test_an_aggregation_counts_only_the_live_members_of_its_owners_in_one_bucket_each() -> None:
    (search, *_) = recount_searches([Recount("posts", "p1"), Recount("posts", "p2")])

    body = search.body()
    assert body["size"] == 0
    assert body["query"] == {"bool": {"filter": [{"terms": {"post_id": ["p1", "p2"]}}, {"term": {"deleted": False}}]}}
    owners = body["aggs"]["owners"]
    assert owners["terms"] == {"field": "post_id", "size": 2, "shard_size": 2}
    assert owners["aggs"]["newest"]["top_hits"]["sort"] == [{"created_at": "desc"}]


def test_an_author_counts_only_published_posts() -> None:
    (_, posts_search) = recount_searches([Recount("authors", "u1")])

    assert posts_search.body()["query"]["bool"]["filter"][1] == {"term": {"status": "published"}}
    assert "aggs" not in posts_search.body()["aggs"]["owners"]


def test_counts_read_back_give_zero_and_none_to_owners_without_members_and_the_exact_newest_time() -> None:
    (search,) = recount_searches([Recount("posts", "p1"), Recount("posts", "p2")])
    newest = {"hits": {"hits": [{"_source": {"created_at": "2025-03-01T09:05:00.000041Z"}},
                                {"_source": {"created_at": "2025-03-01T09:05:00.000042Z"}}]}}  # fmt: skip
    response = _buckets({"key": "p1", "doc_count": 3, "newest": newest})

    assert counts_of(search, response) == {
        "p1": {"comment_count": 3, "last_commented_at": "2025-03-01T09:05:00.000042Z"},
        "p2": {"comment_count": 0, "last_commented_at": None},
    }


def test_count_writes_are_guarded_by_the_recount_tick_and_leave_an_unknown_author_unregistered() -> None:
    counted = {
        ("authors", "u1"): {"comment_count": 2, "published_post_count": 1},
        ("posts", "p1"): {"comment_count": 0},
    }

    assert count_upserts(42, counted) == [
        Upsert("authors", "u1", facets=(Facet(CLOCK_GUARD, 42, {"comment_count": 2, "published_post_count": 1}),),
               defaults={"registered": False}),
        Upsert("posts", "p1", facets=(Facet(CLOCK_GUARD, 42, {"comment_count": 0}),)),
    ]  # fmt: skip
