"""Which notices the live stream may show, and with what document: exactly what the HTTP lists may show, now.

Pure functions. A notice is judged twice (`delivered_view`):

1. on what it states: its event (JSON object) and the projector's public document as of that event
   (`notice_view`). A draft never goes out, not even its title: post events go out only while the post is public
   (published and not deleted: `read_models.visibility`, the rule the lists apply), with its document. When a post
   that was once published leaves the lists (unpublished, archived, deleted) the event goes out with no document,
   so subscribers drop it; a draft's own removal stays private. Comment events go out only for comments of public
   posts (a deleted comment, or one of a deleted post, with no document). User events go out with the author's
   public document once registered, except deactivations and reactivations (`ACCOUNT_STATUS_EVENTS`): whether an
   account may sign in is not public. An erasure (`user.erased`) goes out with no document, so subscribers drop
   the author.
2. on what the read models hold at delivery (`is_current`, `public_now`): the aggregate's current document must
   still be at the notice's version (its own version field, `read_models.documents.VERSION_FIELDS`) and public now
   (a post public; a comment not deleted and its post public; an author registered). A notice a later event
   superseded, or content that left the lists since, carries nothing: a subscriber resuming from any position,
   `0-0` included, never receives content that is not public at delivery. A removal (`REMOVALS`) goes out without
   a document, its event's payload holding ids only (`events.types`), while the aggregate is not public now: when
   it is its current version, or when later events kept it out of the lists (so subscribers still drop it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from read_models.documents import VERSION_FIELDS
from read_models.visibility import POST_REMOVALS, PUBLIC_POST_FIELDS, REMOVALS, is_public_post

# What delivery reads of the current documents, per read model.
LOOKUP_FIELDS = {
    "posts": [*PUBLIC_POST_FIELDS, "tags", "published_at", "post_version"],
    "comments": ["deleted", "post_deleted", "post_id", "comment_version"],
    "authors": ["registered", "user_version"],
}
POST_LOOKUP_FIELDS = LOOKUP_FIELDS["posts"]
# User events that change no public field: never shown (their positions still count).
ACCOUNT_STATUS_EVENTS = frozenset({"user.deactivated", "user.reactivated"})


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


@dataclass(frozen=True)
class Current:
    """The documents as the read models hold them at delivery (at least `LOOKUP_FIELDS`), by read model and id."""

    posts: Mapping[str, Mapping[str, Any]]
    comments: Mapping[str, Mapping[str, Any]]
    authors: Mapping[str, Mapping[str, Any]]

    def of(self, aggregate_type: str, doc_id: str | None) -> Mapping[str, Any] | None:
        """The current document of an aggregate (None when the read model has none)."""
        if doc_id is None or aggregate_type not in VERSION_FIELDS:
            return None
        return getattr(self, VERSION_FIELDS[aggregate_type][0]).get(doc_id)


def lookups(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (read model, id) pairs delivery must read for a notice's event: its own aggregate's, and a comment's
    post."""
    aggregate_type, aggregate_id = event.get("aggregate_type"), event.get("aggregate_id")
    if aggregate_type not in VERSION_FIELDS or aggregate_id is None:
        return []
    wanted = [(VERSION_FIELDS[aggregate_type][0], str(aggregate_id))]
    if (post_id := commented_post_id(event)) is not None:
        wanted.append(("posts", post_id))
    return wanted


def commented_post_id(event: Mapping[str, Any]) -> str | None:
    """The post a comment event belongs to (None for other events)."""
    if event.get("aggregate_type") != "comment":
        return None
    post_id = (event.get("payload") or {}).get("post_id")
    return None if post_id is None else str(post_id)


def delivered_view(event: dict[str, Any], document: dict[str, Any] | None, current: Current) -> View | None:
    """What subscribers may see of one notice at delivery, or None when nothing (both judgments above).

    Args:
        event: the event's JSON object (an encoded envelope, parsed).
        document: the public read-model document as of the event, as the projector published it.
        current: the documents of the notice's aggregate (and a comment's post) as the read models hold them now.
    """
    aggregate_type = event.get("aggregate_type")
    own = current.of(str(aggregate_type), str(event.get("aggregate_id")))
    post = current.posts.get(commented_post_id(event) or "")
    view = notice_view(event, document, post)
    if view is None:
        return None
    if view.document is None:  # a removal (or a comment gone), bare: its payload holds ids only
        # It goes out while the aggregate is not public now, which it never is while the removal is current; a
        # later event that kept it out of the lists (an edit of the draft it became) does not hide the removal.
        return view if not public_now(str(aggregate_type), own, post) else None
    return view if is_current(event, own) and public_now(str(aggregate_type), own, post) else None


def is_current(event: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """Whether the aggregate's current document is still at the event's version (no later event applied since)."""
    fields = VERSION_FIELDS.get(str(event.get("aggregate_type")))
    if fields is None or current is None:
        return False
    version = current.get(fields[1])
    return version is not None and version == event.get("aggregate_version")


def public_now(aggregate_type: str, current: Mapping[str, Any] | None, post: Mapping[str, Any] | None) -> bool:
    """Whether an aggregate's current document is one the lists show (a comment's judged with its current post)."""
    if aggregate_type == "post":
        return is_public_post(current)
    if aggregate_type == "comment":
        return is_live_comment(current) and is_public_post(post)
    if aggregate_type == "user":
        return is_registered_author(current)
    return False


def is_live_comment(comment: Mapping[str, Any] | None) -> bool:
    """Whether a comment document is one its post's list shows (its post's visibility aside): not deleted, nor its
    post."""
    return comment is not None and not comment.get("deleted") and not comment.get("post_deleted")


def is_registered_author(author: Mapping[str, Any] | None) -> bool:
    """Whether an author document is one the authors directory shows: registered."""
    return author is not None and bool(author.get("registered"))


def notice_view(
    event: Mapping[str, Any], document: dict[str, Any] | None, post: Mapping[str, Any] | None
) -> View | None:
    """What subscribers may see of one notice judged on what it states, or None when nothing.

    Args:
        event: the event's JSON object (an encoded envelope, parsed).
        document: the public read-model document after the event, as the projector published it.
        post: for a comment event, its post's document now (at least `POST_LOOKUP_FIELDS`); else ignored.
    """
    aggregate_type = event.get("aggregate_type")
    if aggregate_type == "post":
        return _post_view(str(event.get("event_type")), document)
    if aggregate_type == "comment":
        return _comment_view(str(event.get("event_type")), document, post)
    if aggregate_type == "user":
        if event.get("event_type") in REMOVALS:  # an erasure: the author leaves the directory
            return View(None, "user", (), str(event.get("aggregate_id")))
        return None if event.get("event_type") in ACCOUNT_STATUS_EVENTS else _user_view(document)
    return None


def _author_id(document: Mapping[str, Any]) -> str | None:
    author = document.get("author") or {}
    return str(author["id"]) if author.get("id") is not None else None


def _post_view(event_type: str, post: dict[str, Any] | None) -> View | None:
    if post is None:
        return None
    view = View(post, "post", tuple(post.get("tags") or ()), _author_id(post))
    if event_type in POST_REMOVALS:  # once published, `published_at` stays: the post was on someone's list
        return View(None, view.aggregate_type, view.tags, view.author_id) if post.get("published_at") else None
    return view if is_public_post(post) else None


def _comment_view(event_type: str, comment: dict[str, Any] | None, post: Mapping[str, Any] | None) -> View | None:
    if comment is None or not is_public_post(post):
        return None
    gone = event_type == "comment.deleted" or not is_live_comment(comment)
    tags = tuple(post.get("tags") or ()) if post else ()
    return View(None if gone else comment, "comment", tags, _author_id(comment))


def _user_view(author: dict[str, Any] | None) -> View | None:
    if not is_registered_author(author):
        return None
    return View(author, "user", (), str(author["id"]))  # type: ignore[index]
