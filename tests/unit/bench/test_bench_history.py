"""The benchmark histories have the recipe's shape: counts, per-aggregate versions and order, snapshots, the seed."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from bench.history import HOT_AUTHOR, Recipe, expected_documents, history, hot_author_history, mismatches, renamed
from events.envelope import decode, encode

RECIPE = Recipe(posts=60, users=40)


@pytest.fixture(scope="module")
def events() -> list:
    return history(RECIPE)


def test_counts_per_event_type_follow_the_recipe(events: list) -> None:
    assert Counter(e.event_type for e in events) == RECIPE.expected_counts()
    assert RECIPE.expected_counts()["post.unpublished"] + RECIPE.expected_counts()["post.deleted"] == 3


def test_versions_run_one_to_n_per_aggregate_in_time_order(events: list) -> None:
    versions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for event in events:
        versions[(event.aggregate_type, event.aggregate_id)].append(event.aggregate_version)
    assert all(seen == list(range(1, len(seen) + 1)) for seen in versions.values())
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_each_post_follows_its_lifecycle(events: list) -> None:
    per_post: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if event.aggregate_type == "post":
            per_post[event.aggregate_id].append(event.event_type)
    lifecycle = ["post.created", "post.edited", "post.edited", "post.tags_changed", "post.published"]
    assert all(types[:5] == lifecycle and len(types) in (5, 6) for types in per_post.values())
    assert sum(len(types) == 6 for types in per_post.values()) == RECIPE.posts // RECIPE.gone_every


def test_nothing_is_written_before_its_author_registers_or_its_post_is_published(events: list) -> None:
    registered, published, added = set(), set(), set()
    for event in events:
        payload = event.payload
        if event.event_type == "user.registered":
            registered.add(payload.user_id)
        elif event.event_type == "post.published":
            published.add(payload.post_id)
        elif event.event_type in ("post.created", "comment.added"):
            assert payload.author.user_id in registered
        if event.event_type == "comment.added":
            assert payload.post_id in published
            added.add(payload.comment_id)
        elif event.event_type in ("comment.edited", "comment.deleted"):
            assert payload.comment_id in added
        if event.event_type in ("post.deleted", "post.unpublished"):  # after all of the post's comments
            assert all(e.payload.post_id != payload.post_id for e in events[events.index(event) + 1 :]
                       if e.aggregate_type == "comment")  # fmt: skip


def test_every_user_is_renamed_once_mid_history_and_snapshots_follow(events: list) -> None:
    renames = [i for i, e in enumerate(events) if e.event_type == "user.profile_changed"]
    assert len({events[i].aggregate_id for i in renames}) == RECIPE.users
    assert all(events[i].payload.display_name == renamed(f"User {events[i].aggregate_id}") for i in renames)
    assert min(renames) > len(events) * 0.1  # mid-history
    assert max(renames) < len(events) * 0.9
    user_version: dict[str, int] = {}
    for event in events:
        if event.aggregate_type == "user":
            user_version[event.aggregate_id] = event.aggregate_version
        elif event.event_type in ("post.created", "comment.added"):
            author = event.payload.author
            assert author.user_version == user_version[author.user_id]
            expected = f"User {author.user_id}" if author.user_version == 1 else renamed(f"User {author.user_id}")
            assert author.display_name == expected


def test_the_popular_author_writes_one_comment_in_ten(events: list) -> None:
    added = [e for e in events if e.event_type == "comment.added"]
    hot = sum(e.payload.author.user_id == HOT_AUTHOR for e in added)
    assert hot == len(added) // RECIPE.hot_every
    others = Counter(e.payload.author.user_id for e in added if e.payload.author.user_id != HOT_AUTHOR)
    assert max(others.values()) < hot


def test_the_same_seed_gives_the_same_events_and_they_encode(events: list) -> None:
    assert [encode(e) for e in history(RECIPE)] == [encode(e) for e in events]
    assert [encode(e) for e in history(Recipe(posts=60, users=40, seed=2))] != [encode(e) for e in events]
    assert all(decode(encode(e)) == e for e in events[:50])


def test_expected_documents_fold_the_final_state(events: list) -> None:
    expected = expected_documents(events)
    assert len(expected["posts"]) == RECIPE.posts
    assert len(expected["comments"]) == RECIPE.posts * RECIPE.comments_per_post
    assert len(expected["authors"]) == RECIPE.users
    statuses = Counter(p["status"] for p in expected["posts"].values())
    assert statuses == {"published": 57, "draft": 2, "deleted": 1}
    assert sum(p["comment_count"] for p in expected["posts"].values()) == RECIPE.posts * 4
    assert all(a["display_name"].endswith("(renamed)") for a in expected["authors"].values())
    one = {"1": {"status": "draft", "author": {"display_name": "x"}}}
    assert mismatches({"1": {"status": "draft", "author.display_name": "y"}}, one) == [
        "1.author.display_name: expected 'y', got 'x'"
    ]


def test_the_hot_author_history_is_one_authors_comments_in_order() -> None:
    setup, comments = hot_author_history(120, per_post=50)
    assert Counter(e.event_type for e in setup) == {"user.registered": 2, "post.created": 3, "post.published": 3}
    assert [e.aggregate_id for e in comments] == [str(n) for n in range(1, 121)]
    assert {e.payload.author.user_id for e in comments} == {HOT_AUTHOR}
    assert Counter(e.payload.post_id for e in comments) == {"1": 50, "2": 50, "3": 20}
    assert setup[-1].occurred_at < comments[0].occurred_at
