"""Plans of comment events: the comment under its version, its author snapshot, counts and its post's title."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.types import CommentAdded, CommentDeleted, CommentEdited

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Facet, FollowUps, Plan, Recount, Upsert
from tests.unit.projector.plan_samples import (
    BOB,
    BOB_EMBEDDED,
    OCCURRED_ISO,
    author_document,
    envelope,
    written,
)

COMMENTED_AT = datetime(2025, 3, 1, 9, 5, 0, 42, tzinfo=UTC)
COMMENTED_ISO = "2025-03-01T09:05:00.000042Z"
ADDED = CommentAdded(comment_id="c1", post_id="p1", author=BOB, body="Nice post", created_at=COMMENTED_AT)
BOB_2 = {"id": "u2", "username": "bob", "display_name": "Robert", "avatar_url": None}


def _bob(user_version: int) -> dict[str, Any]:
    """Bob's authors document at `user_version`, with a newer name than his snapshot."""
    return author_document("u2", user_version, username="bob", display_name="Robert", avatar_url=None)


def _plan(payload: object, version: int) -> Plan:
    plan = plan_for(envelope(payload, version))
    assert isinstance(plan, Plan)
    return plan


# comment.added


def test_comment_added_writes_the_comment_and_its_author_snapshot_under_their_versions() -> None:
    plan = _plan(ADDED, version=1)

    own = {
        "updated_at": OCCURRED_ISO,
        "post_id": "p1",
        "body": "Nice post",
        "created_at": COMMENTED_ISO,
        "deleted": False,
    }
    assert plan.primary == Upsert(
        "comments",
        "c1",
        facets=(Facet("comment_version", 1, own), Facet("author_version", 2, {"author": BOB_EMBEDDED})),
        defaults={"post_deleted": False},
    )


def test_comment_added_has_its_post_and_its_author_recounted() -> None:
    plan = _plan(ADDED, version=1)

    follow = plan.follow(written(plan.primary))
    assert follow.recounts == (Recount("posts", "p1"), Recount("authors", "u2"))
    assert follow.rewrites == ()
    assert [(lookup.model, lookup.doc_id) for lookup in follow.lookups] == [("posts", "p1"), ("authors", "u2")]


def test_comment_added_takes_its_posts_title_and_deletion_under_the_comment_facing_version() -> None:
    plan = _plan(ADDED, version=1)
    (post_lookup, _) = plan.follow(written(plan.primary)).lookups

    post = {"id": "p1", "title": "Hello", "deleted": False, "post_version": 5, "comment_facing_version": 3}
    assert post_lookup.fold(post) == Upsert(
        "comments", "c1", facets=(Facet("post_version", 3, {"post_title": "Hello", "post_deleted": False}),)
    )
    tombstone = {"id": "p1", "title": "Hello", "deleted": True, "comment_facing_version": 8}
    assert post_lookup.fold(tombstone) == Upsert(
        "comments", "c1", facets=(Facet("post_version", 8, {"post_title": "Hello", "post_deleted": True}),)
    )


@pytest.mark.parametrize(
    "post",
    [
        {"id": "p1", "comment_count": 1, "last_commented_at": None, "count_clock": 7},
        {"id": "p1", "title": "Hello", "comment_facing_version": 0},
    ],
    ids=["counts only", "version 0"],
)
def test_comment_added_takes_nothing_from_a_post_no_post_event_has_written_yet(post: dict[str, Any]) -> None:
    """A comment can arrive before its post (another topic); post.created's rewrite will title it later."""
    plan = _plan(ADDED, version=1)
    (post_lookup, _) = plan.follow(written(plan.primary)).lookups

    assert post_lookup.fold(post) is None


def test_a_post_without_a_deleted_field_counts_as_not_deleted() -> None:
    plan = _plan(ADDED, version=1)
    (post_lookup, _) = plan.follow(written(plan.primary)).lookups

    folded = post_lookup.fold({"id": "p1", "title": "Hello", "comment_facing_version": 2})
    assert folded == Upsert(
        "comments", "c1", facets=(Facet("post_version", 2, {"post_title": "Hello", "post_deleted": False}),)
    )


def test_comment_added_folds_in_the_author_document_only_when_newer_than_the_comment_as_written() -> None:
    plan = _plan(ADDED, version=1)
    (_, author_lookup) = plan.follow(written(plan.primary)).lookups  # the snapshot is at user version 2

    assert author_lookup.fold(_bob(3)) == Upsert(
        "comments", "c1", facets=(Facet("author_version", 3, {"author": BOB_2}),)
    )
    assert author_lookup.fold(_bob(2)) is None
    (_, rewritten) = plan.follow({**written(plan.primary), "author_version": 5}).lookups
    assert rewritten.fold(_bob(4)) is None


# comment.edited and comment.deleted


def test_comment_edited_replaces_the_body_under_the_comment_version_and_nothing_else() -> None:
    plan = _plan(CommentEdited(comment_id="c1", post_id="p1", body="Nicer post"), version=2)

    own = {"body": "Nicer post", "updated_at": OCCURRED_ISO}
    assert plan.primary == Upsert("comments", "c1", facets=(Facet("comment_version", 2, own),))
    assert plan.follow({"id": "c1", "post_id": "p1", "author": {"id": "u2"}}) == FollowUps()


def test_comment_deleted_leaves_a_tombstone_with_its_version() -> None:
    plan = _plan(CommentDeleted(comment_id="c1", post_id="p1"), version=3)

    own = {"deleted": True, "updated_at": OCCURRED_ISO}
    assert plan.primary == Upsert("comments", "c1", facets=(Facet("comment_version", 3, own),))


def test_comment_deleted_has_its_post_and_its_author_recounted() -> None:
    plan = _plan(CommentDeleted(comment_id="c1", post_id="p1"), version=3)

    assert plan.follow({"id": "c1", "post_id": "p1", "author": {"id": "u2"}}) == FollowUps(
        recounts=(Recount("posts", "p1"), Recount("authors", "u2"))
    )


def test_comment_deleted_has_its_post_recounted_even_when_the_author_is_unknown() -> None:
    plan = _plan(CommentDeleted(comment_id="c1", post_id="p1"), version=3)

    assert plan.follow({"id": "c1"}) == FollowUps(recounts=(Recount("posts", "p1"),))
