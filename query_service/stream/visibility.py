"""Which notices the live stream may show, and with what document: exactly what the HTTP lists may show.

Pure functions over the notice (event JSON object and the projector's public document) and, for comment events, the
post they belong to as the read model has it now. A draft never goes out, not even its title: post events go out
only while the post is public (published and not deleted: `read_models.visibility`, the rule the lists apply), with
its document. When a post that was once published leaves the lists (unpublished, archived, deleted) the event goes
out with no document, so subscribers drop it; a draft's own removal stays private. Comment events go out only for
comments of public posts (a deleted comment, or one of a deleted post, with no document). User events go out with
the author's public document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from read_models.visibility import PUBLIC_POST_FIELDS, is_public_post

POST_REMOVALS = frozenset({"post.unpublished", "post.archived", "post.deleted"})
POST_LOOKUP_FIELDS = [*PUBLIC_POST_FIELDS, "tags"]


@dataclass(frozen=True)
class View:
    """What subscribers see of a notice, and the keys their filters match.

    Attributes:
        document: the document to send, None when the event removes it from the lists.
        aggregate_type: post, comment or user.
        tags: the post's tags (a comment's are its post's); empty for users.
        author_id: who wrote the content (a user event's own id).
    """

    document: dict[str, Any] | None
    aggregate_type: str
    tags: tuple[str, ...]
    author_id: str | None


def commented_post_id(event: dict[str, Any]) -> str | None:
    """The post a comment event belongs to (None for other events): the one to look up for `notice_view`."""
    if event.get("aggregate_type") != "comment":
        return None
    return str(event["payload"]["post_id"])


def notice_view(event: dict[str, Any], document: dict[str, Any] | None, post: dict[str, Any] | None) -> View | None:
    """What subscribers may see of one notice, or None when nothing.

    Args:
        event: the event's JSON object (an encoded envelope, parsed).
        document: the public read-model document after the event, as the projector published it.
        post: for a comment event, its post's document now (at least `POST_LOOKUP_FIELDS`); else ignored.
    """
    aggregate_type = event.get("aggregate_type")
    if aggregate_type == "post":
        return _post_view(event["event_type"], document)
    if aggregate_type == "comment":
        return _comment_view(event["event_type"], document, post)
    if aggregate_type == "user":
        return _user_view(document)
    return None


def _author_id(document: dict[str, Any]) -> str | None:
    author = document.get("author") or {}
    return str(author["id"]) if author.get("id") is not None else None


def _post_view(event_type: str, post: dict[str, Any] | None) -> View | None:
    if post is None:
        return None
    view = View(post, "post", tuple(post.get("tags") or ()), _author_id(post))
    if event_type in POST_REMOVALS:  # once published, `published_at` stays: the post was on someone's list
        return View(None, view.aggregate_type, view.tags, view.author_id) if post.get("published_at") else None
    return view if is_public_post(post) else None


def _comment_view(event_type: str, comment: dict[str, Any] | None, post: dict[str, Any] | None) -> View | None:
    if comment is None or not is_public_post(post):
        return None
    gone = event_type == "comment.deleted" or comment.get("deleted") or comment.get("post_deleted")
    tags = tuple(post.get("tags") or ()) if post else ()
    return View(None if gone else comment, "comment", tags, _author_id(comment))


def _user_view(author: dict[str, Any] | None) -> View | None:
    if author is None or not author.get("registered"):
        return None
    return View(author, "user", (), str(author["id"]))
