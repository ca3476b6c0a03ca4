"""The live stream shows exactly what the lists show: no draft, ever; removals go out without documents."""

from __future__ import annotations

from typing import Any

import pytest

from query_service.stream.visibility import View, commented_post_id, notice_view
from read_models.visibility import is_public_post

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


def test_only_comment_events_need_their_post_looked_up() -> None:
    assert commented_post_id(event("comment.edited", comment_id="3", post_id="12")) == "12"
    assert commented_post_id(event("post.edited", post_id="12")) is None
    assert is_public_post(post())
    assert not is_public_post(None)
    assert not is_public_post(post(deleted=True))
