"""Plans of post events: the post document under the post's version, the author snapshot, counts, comment rewrites."""

from __future__ import annotations

from typing import Any

import pytest

from events.types import (
    PostArchived,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostPublished,
    PostTagsChanged,
    PostUnpublished,
)

# Projector imports in one block (its modules are being moved into subpackages).
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Facet, FollowUps, Plan, Recount, Rewrite, Upsert
from tests.unit.projector.plan_samples import (
    ADA,
    ADA_EMBEDDED,
    CREATED_AT,
    CREATED_ISO,
    OCCURRED_ISO,
    POST_DEFAULTS,
    PUBLISHED_AT,
    PUBLISHED_ISO,
    author_document,
    envelope,
    written,
)

CREATED = PostCreated(
    post_id="p1",
    author=ADA,
    title="Hello",
    content="Some  words\nhere",
    tags=("python", "kafka"),
    created_at=CREATED_AT,
)
AUTHOR_2 = {"id": "u1", "username": "ada", "display_name": "Ada King", "avatar_url": "https://img.example/ada-2.png"}


def _plan(payload: object, version: int) -> Plan:
    plan = plan_for(envelope(payload, version))
    assert isinstance(plan, Plan)
    return plan


AUTHOR_RECOUNT = Recount("authors", "u1")  # a post's status counts for its author: recounted from the posts


# post.created


def test_post_created_writes_a_draft_with_its_text_tags_and_times_under_the_post_version() -> None:
    plan = _plan(CREATED, version=1)

    own = {
        "updated_at": OCCURRED_ISO,
        "title": "Hello",
        "content": "Some  words\nhere",
        "content_preview": "Some words here",
        "reading_time": 1,
        "tags": ["python", "kafka"],
        "status": "draft",
        "deleted": False,
        "created_at": CREATED_ISO,
        "published_at": None,
        "comment_facing_version": 1,
    }
    assert plan.primary == Upsert(
        "posts",
        "p1",
        facets=(Facet("post_version", 1, own), Facet("author_version", 3, {"author": ADA_EMBEDDED})),
        defaults=POST_DEFAULTS,
    )


def test_post_created_recounts_its_author_and_titles_comments_that_came_first() -> None:
    plan = _plan(CREATED, version=1)

    follow = plan.follow(written(plan.primary))
    assert follow.recounts == (AUTHOR_RECOUNT,)
    facing = Facet("post_version", 1, {"post_title": "Hello", "post_deleted": False})
    assert follow.rewrites == (Rewrite("comments", {"post_id": "p1"}, facing),)
    assert [(lookup.model, lookup.doc_id) for lookup in follow.lookups] == [("authors", "u1")]


def test_post_created_folds_in_the_author_document_only_when_it_knows_a_newer_profile() -> None:
    plan = _plan(CREATED, version=1)
    (lookup,) = plan.follow(written(plan.primary)).lookups  # the snapshot is at user version 3

    assert lookup.fold(author_document("u1", 4)) == Upsert(
        "posts", "p1", facets=(Facet("author_version", 4, {"author": AUTHOR_2}),)
    )
    assert lookup.fold(author_document("u1", 3)) is None
    assert lookup.fold(author_document("u1", 2)) is None


def test_post_created_compares_the_author_document_with_the_post_as_written_not_with_the_snapshot() -> None:
    """A user event's rewrite may already have put version 6 into the post: version 5 of the author is then stale."""
    plan = _plan(CREATED, version=1)
    (lookup,) = plan.follow({**written(plan.primary), "author_version": 6}).lookups

    assert lookup.fold(author_document("u1", 5)) is None
    assert lookup.fold(author_document("u1", 7)) == Upsert(
        "posts", "p1", facets=(Facet("author_version", 7, {"author": AUTHOR_2}),)
    )


def test_an_author_document_made_only_of_counts_is_never_folded_into_the_post() -> None:
    plan = _plan(CREATED, version=1)
    (lookup,) = plan.follow(written(plan.primary)).lookups

    assert lookup.fold({"id": "u1", "published_post_count": 1, "comment_count": 0, "registered": False}) is None


# post.edited and post.tags_changed


def test_post_edited_replaces_the_text_and_moves_the_comment_facing_version() -> None:
    plan = _plan(PostEdited(post_id="p1", title="New title", content="one two three"), version=3)

    own = {
        "updated_at": OCCURRED_ISO,
        "title": "New title",
        "content": "one two three",
        "content_preview": "one two three",
        "reading_time": 1,
        "comment_facing_version": 3,
    }
    assert plan.primary == Upsert("posts", "p1", facets=(Facet("post_version", 3, own),))


def test_post_edited_retitles_the_posts_comments_under_the_post_version() -> None:
    plan = _plan(PostEdited(post_id="p1", title="New title", content="one two three"), version=3)

    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps(
        rewrites=(Rewrite("comments", {"post_id": "p1"}, Facet("post_version", 3, {"post_title": "New title"})),)
    )


@pytest.mark.parametrize(("tags", "expected"), [(("b", "a", "b"), ["b", "a", "b"]), ((), [])])
def test_post_tags_changed_replaces_the_tags_as_given_and_nothing_else(
    tags: tuple[str, ...], expected: list[str]
) -> None:
    plan = _plan(PostTagsChanged(post_id="p1", tags=tags), version=4)

    assert plan.primary == Upsert(
        "posts", "p1", facets=(Facet("post_version", 4, {"updated_at": OCCURRED_ISO, "tags": expected}),)
    )
    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps()


# Status changes


def test_post_published_sets_status_and_publication_time_and_has_its_author_recounted() -> None:
    plan = _plan(PostPublished(post_id="p1", published_at=PUBLISHED_AT), version=2)

    own = {"updated_at": OCCURRED_ISO, "status": "published", "published_at": PUBLISHED_ISO}
    assert plan.primary == Upsert("posts", "p1", facets=(Facet("post_version", 2, own),))
    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps(recounts=(AUTHOR_RECOUNT,))


@pytest.mark.parametrize(
    ("payload", "status"),
    [(PostUnpublished(post_id="p1"), "draft"), (PostArchived(post_id="p1"), "archived")],
    ids=["unpublished", "archived"],
)
def test_leaving_the_lists_sets_the_status_keeps_published_at_and_has_its_author_recounted(
    payload: object, status: str
) -> None:
    plan = _plan(payload, version=5)

    assert plan.primary == Upsert(
        "posts", "p1", facets=(Facet("post_version", 5, {"updated_at": OCCURRED_ISO, "status": status}),)
    )
    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps(recounts=(AUTHOR_RECOUNT,))


@pytest.mark.parametrize(
    "payload",
    [
        PostPublished(post_id="p1", published_at=PUBLISHED_AT),
        PostUnpublished(post_id="p1"),
        PostArchived(post_id="p1"),
        PostDeleted(post_id="p1"),
    ],
    ids=lambda payload: type(payload).__name__,
)
@pytest.mark.parametrize("document", [{"id": "p1"}, {"id": "p1", "author": None}, {"id": "p1", "author": {}}])
def test_a_status_change_recounts_nobody_while_the_post_has_no_known_author(
    payload: object, document: dict[str, Any]
) -> None:
    assert _plan(payload, version=2).follow(document).recounts == ()


# post.deleted


def test_post_deleted_leaves_a_tombstone_with_its_version() -> None:
    plan = _plan(PostDeleted(post_id="p1"), version=7)

    own = {"updated_at": OCCURRED_ISO, "status": "deleted", "deleted": True, "comment_facing_version": 7}
    assert plan.primary == Upsert("posts", "p1", facets=(Facet("post_version", 7, own),))


def test_post_deleted_recounts_its_author_and_marks_its_comments_under_the_post_version() -> None:
    plan = _plan(PostDeleted(post_id="p1"), version=7)

    assert plan.follow({"id": "p1", "author": {"id": "u1"}}) == FollowUps(
        recounts=(AUTHOR_RECOUNT,),
        rewrites=(
            Rewrite(
                "comments", {"post_id": "p1"}, Facet("post_version", 7, {"post_deleted": True, "post_title": None})
            ),
        ),
    )


# Across post events


@pytest.mark.parametrize(
    ("payload", "moves_it"),
    [
        (CREATED, True),
        (PostEdited(post_id="p1", title="T", content="C"), True),
        (PostDeleted(post_id="p1"), True),
        (PostTagsChanged(post_id="p1", tags=("x",)), False),
        (PostPublished(post_id="p1", published_at=PUBLISHED_AT), False),
        (PostUnpublished(post_id="p1"), False),
        (PostArchived(post_id="p1"), False),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value),
)
def test_only_changes_comments_show_move_the_comment_facing_version(payload: object, moves_it: bool) -> None:
    """Title and deletion are what a comment shows of its post; the fold into comments is versioned by them."""
    (own, *_) = _plan(payload, version=9).primary.facets
    assert own.set.get("comment_facing_version") == (9 if moves_it else None)


@pytest.mark.parametrize(
    "payload",
    [
        CREATED,
        PostEdited(post_id="p1", title="T", content="C"),
        PostTagsChanged(post_id="p1", tags=("x",)),
        PostPublished(post_id="p1", published_at=PUBLISHED_AT),
        PostUnpublished(post_id="p1"),
        PostArchived(post_id="p1"),
        PostDeleted(post_id="p1"),
    ],
    ids=lambda payload: type(payload).__name__,
)
def test_every_post_event_writes_its_fields_under_the_post_version_and_its_time(payload: object) -> None:
    plan = _plan(payload, version=11)

    (own, *others) = plan.primary.facets
    assert (plan.primary.model, plan.primary.doc_id, own.guard, own.version) == ("posts", "p1", "post_version", 11)
    assert own.set["updated_at"] == OCCURRED_ISO
    assert [facet.guard for facet in others] == (["author_version"] if payload is CREATED else [])
