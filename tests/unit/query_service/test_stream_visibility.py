"""The live stream shows exactly what the lists show: no draft, ever; removals go out without documents; and at
delivery only what is still current and public now."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from events.types import SPECS
from query_service.stream.visibility import (
    LOOKUP_FIELDS,
    Current,
    View,
    commented_post_id,
    delivered_view,
    is_current,
    is_live_comment,
    is_registered_author,
    lookups,
    notice_view,
    public_now,
)
from read_models.documents import VERSION_FIELDS
from read_models.visibility import POST_REMOVALS, REMOVALS, is_public_post

AUTHOR = {"id": "7", "username": "ann", "display_name": "Ann", "avatar_url": None}


def post(status: str = "published", *, deleted: bool = False, published_at: str | None = "2025-01-01T00:00:00Z"):
    return {"id": "1", "title": "T", "content": "secret draft words", "tags": ["python", "web"], "status": status,
            "deleted": deleted, "author": AUTHOR, "published_at": published_at}  # fmt: skip


def event(event_type: str, **payload: Any) -> dict[str, Any]:
    return {"event_type": event_type, "aggregate_type": event_type.split(".")[0], "payload": payload}


def comment(*, deleted: bool = False, post_deleted: bool = False) -> dict[str, Any]:
    author = {**AUTHOR, "id": "8"}
    return {"id": "3", "post_id": "1", "body": "Nice", "deleted": deleted, "post_deleted": post_deleted,
            "author": author}  # fmt: skip


@pytest.mark.parametrize("event_type", ["post.created", "post.edited", "post.tags_changed", "post.published"])
def test_events_of_a_published_post_go_out_with_its_document(event_type: str) -> None:
    document = post()
    assert notice_view(event(event_type, post_id="1"), document, None) == View(document, "post", ("python", "web"), "7")


@pytest.mark.parametrize("event_type", ["post.created", "post.edited", "post.tags_changed"])
@pytest.mark.parametrize("status", ["draft", "archived"])
def test_events_of_a_post_the_lists_do_not_show_never_go_out(event_type: str, status: str) -> None:
    assert notice_view(event(event_type, post_id="1"), post(status, published_at=None), None) is None
    assert notice_view(event(event_type, post_id="1"), post(status), None) is None


@pytest.mark.parametrize(
    ("event_type", "status", "deleted"),
    [("post.unpublished", "draft", False), ("post.archived", "archived", False), ("post.deleted", "deleted", True)],
)
def test_a_once_published_post_leaving_the_lists_goes_out_without_a_document(
    event_type: str, status: str, deleted: bool
) -> None:
    view = notice_view(event(event_type, post_id="1"), post(status, deleted=deleted), None)
    assert view == View(None, "post", ("python", "web"), "7")
    never_published = post(status, deleted=deleted, published_at=None)
    assert notice_view(event(event_type, post_id="1"), never_published, None) is None


def test_an_event_the_projector_ignored_has_no_document_and_goes_nowhere() -> None:
    assert notice_view(event("post.edited", post_id="1"), None, None) is None
    assert notice_view(event("comment.added", comment_id="3", post_id="1"), None, post()) is None
    assert notice_view({"aggregate_type": "tenant", "event_type": "tenant.created"}, {"id": "1"}, None) is None


def test_comments_of_a_public_post_go_out_with_the_posts_tags_and_their_own_author() -> None:
    document = comment()
    view = notice_view(event("comment.added", comment_id="3", post_id="1"), document, post())
    assert view == View(document, "comment", ("python", "web"), "8")


@pytest.mark.parametrize(
    "parent", [None, post("draft", published_at=None), post("draft"), post("archived"), post("deleted", deleted=True)]
)
def test_comments_of_a_post_the_lists_do_not_show_never_go_out(parent: dict[str, Any] | None) -> None:
    for event_type in ("comment.added", "comment.edited", "comment.deleted"):
        assert notice_view(event(event_type, comment_id="3", post_id="1"), comment(), parent) is None


def test_a_deleted_comment_goes_out_without_a_document() -> None:
    deleted = event("comment.deleted", comment_id="3", post_id="1")
    assert notice_view(deleted, comment(deleted=True), post()) == View(None, "comment", ("python", "web"), "8")
    edited = event("comment.edited", comment_id="3", post_id="1")
    assert notice_view(edited, comment(deleted=True), post()).document is None  # type: ignore[union-attr]


def test_user_events_go_out_with_the_authors_document_once_registered() -> None:
    author = {"id": "7", "username": "ann", "display_name": "Ann", "registered": True, "published_post_count": 2}
    changed = event("user.profile_changed", user_id="7")
    assert notice_view(changed, author, None) == View(author, "user", (), "7")
    assert notice_view(changed, {**author, "registered": False}, None) is None


@pytest.mark.parametrize("event_type", ["user.deactivated", "user.reactivated"])
def test_a_deactivation_or_reactivation_is_never_shown(event_type: str) -> None:
    author = {"id": "7", "username": "ann", "display_name": "Ann", "registered": True, "user_version": 2}
    notice = {**event(event_type, user_id="7"), "aggregate_id": "7", "aggregate_version": 2}

    assert notice_view(notice, author, None) is None
    assert delivered_view(notice, author, Current(posts={}, comments={}, authors={"7": author})) is None


def test_only_comment_events_need_their_post_looked_up() -> None:
    assert commented_post_id(event("comment.edited", comment_id="3", post_id="12")) == "12"
    assert commented_post_id(event("post.edited", post_id="12")) is None
    assert is_public_post(post())
    assert not is_public_post(None)
    assert not is_public_post(post(deleted=True))


# Delivery: the notice judged again against the documents the read models hold now.


def envelope(event_type: str, version: int, **payload: Any) -> dict[str, Any]:
    aggregate_type = event_type.split(".")[0]
    return {
        **event(event_type, **payload),
        "aggregate_id": payload[f"{aggregate_type}_id"],
        "aggregate_version": version,
    }


def now(posts: dict | None = None, comments: dict | None = None, authors: dict | None = None) -> Current:
    return Current(posts=posts or {}, comments=comments or {}, authors=authors or {})


def test_removal_events_carry_ids_only_so_a_bare_removal_leaks_no_content() -> None:
    for (event_type, _), spec in SPECS.items():
        if event_type in REMOVALS:
            assert {f.name for f in fields(spec.payload_class)} <= {"post_id", "comment_id", "user_id"}, event_type
    assert POST_REMOVALS < REMOVALS


def test_a_notice_is_current_only_while_its_aggregate_is_at_its_version() -> None:
    edited = envelope("post.edited", 3, post_id="1")
    assert is_current(edited, {"post_version": 3})
    assert not is_current(edited, {"post_version": 4})  # a later event was applied since
    assert not is_current(edited, {"post_version": 2})
    assert not is_current(edited, {})
    assert not is_current(edited, None)
    assert is_current(
        envelope("comment.added", 1, comment_id="3", post_id="1"), {"comment_version": 1, "post_version": 9}
    )
    assert not is_current(envelope("comment.added", 1, comment_id="3", post_id="1"), {"post_version": 1})
    assert is_current(envelope("user.registered", 2, user_id="7"), {"user_version": 2})
    assert not is_current({"aggregate_type": "tenant", "aggregate_version": 1}, {"tenant_version": 1})


def test_what_is_public_now_is_the_lists_rule_per_aggregate_type() -> None:
    assert public_now("post", post(), None)
    assert not public_now("post", post("draft"), None)
    assert not public_now("post", None, None)
    assert public_now("comment", comment(), post())
    assert not public_now("comment", comment(deleted=True), post())
    assert not public_now("comment", comment(post_deleted=True), post())
    assert not public_now("comment", comment(), post("archived"))
    assert not public_now("comment", None, post())
    assert public_now("user", {"registered": True}, None)
    assert not public_now("user", {"registered": False}, None)
    assert not public_now("tenant", {"registered": True}, None)
    assert is_live_comment(comment())
    assert not is_live_comment(None)
    assert is_registered_author({"registered": True})
    assert not is_registered_author(None)


def test_only_the_current_notice_of_a_public_post_goes_out() -> None:
    document = {**post(), "post_version": 3}
    published = envelope("post.published", 3, post_id="1")
    assert delivered_view(published, document, now({"1": document})) == View(document, "post", ("python", "web"), "7")
    assert delivered_view(published, document, now({"1": {**document, "post_version": 4}})) is None
    assert delivered_view(published, document, now({"1": {**document, "status": "draft"}})) is None
    assert delivered_view(published, document, now()) is None
    # A replayed draft edit announced with the post's current, public document: the event still holds the draft.
    assert delivered_view(envelope("post.created", 1, post_id="1"), document, now({"1": document})) is None
    draft = {**post("draft", published_at=None), "post_version": 1}
    assert delivered_view(envelope("post.created", 1, post_id="1"), draft, now({"1": document})) is None


def test_a_removal_goes_out_bare_while_the_post_is_not_public_now() -> None:
    gone = {**post("draft"), "post_version": 4}
    unpublished = envelope("post.unpublished", 4, post_id="1")
    bare = View(None, "post", ("python", "web"), "7")
    assert delivered_view(unpublished, gone, now({"1": gone})) == bare  # current
    assert delivered_view(unpublished, gone, now({"1": {**gone, "post_version": 5}})) == bare  # a draft edit since
    assert delivered_view(unpublished, gone, now()) == bare
    republished = {**post(), "post_version": 5}
    assert delivered_view(unpublished, gone, now({"1": republished})) is None  # public again: the later notice says
    never_published = {**post("draft", published_at=None), "post_version": 2}
    assert delivered_view(envelope("post.deleted", 2, post_id="1"), never_published, now()) is None


def test_a_comment_goes_out_while_current_and_its_post_public_and_a_deleted_one_only_as_its_deletion() -> None:
    parent = {**post(), "post_version": 2}
    added, live = envelope("comment.added", 1, comment_id="3", post_id="1"), {**comment(), "comment_version": 1}
    assert delivered_view(added, live, now({"1": parent}, {"3": live})) == View(live, "comment", ("python", "web"), "8")
    assert delivered_view(added, live, now({"1": {**parent, "status": "draft"}}, {"3": live})) is None
    assert delivered_view(added, live, now({}, {"3": live})) is None
    deleted_now = {**comment(deleted=True), "comment_version": 2}
    assert delivered_view(added, live, now({"1": parent}, {"3": deleted_now})) is None  # its body stays home
    deletion = envelope("comment.deleted", 2, comment_id="3", post_id="1")
    view = delivered_view(deletion, deleted_now, now({"1": parent}, {"3": deleted_now}))
    assert view == View(None, "comment", ("python", "web"), "8")
    assert delivered_view(deletion, deleted_now, now({"1": {**parent, "deleted": True}}, {"3": deleted_now})) is None


def test_a_user_notice_goes_out_while_current() -> None:
    author = {"id": "7", "username": "ann", "registered": True, "user_version": 2}
    changed = envelope("user.profile_changed", 2, user_id="7")
    assert delivered_view(changed, author, now(authors={"7": author})) == View(author, "user", (), "7")
    assert delivered_view(changed, author, now(authors={"7": {**author, "user_version": 3}})) is None
    assert delivered_view(changed, author, now(authors={"7": {**author, "registered": False}})) is None


def test_the_lookups_of_a_notice_are_its_aggregate_and_a_comments_post() -> None:
    assert lookups(envelope("post.edited", 2, post_id="1")) == [("posts", "1")]
    assert lookups(envelope("comment.edited", 2, comment_id="3", post_id="1")) == [("comments", "3"), ("posts", "1")]
    assert lookups(envelope("user.registered", 1, user_id="7")) == [("authors", "7")]
    assert lookups({"aggregate_type": "tenant", "aggregate_id": "1"}) == []
    assert set(LOOKUP_FIELDS) == {name for name, _ in VERSION_FIELDS.values()}
    for name, field in VERSION_FIELDS.values():
        assert field in LOOKUP_FIELDS[name]
