"""One handler per event type, through a table: each turns an event into a Plan (see `projector.consumer.plans`).

Every event a handler does not change anything for is still recorded as processed by the consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.envelope import EventEnvelope
from events.types import (
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    PostCreated,
    PostEdited,
    PostPublished,
    PostTagsChanged,
    UserErased,
    UserProfileChanged,
    UserRegistered,
)
from projector.consumer.documents import author_fields, iso, text_fields
from projector.consumer.plans import Facet, FollowUps, Lookup, Plan, Recount, Rewrite, Upsert

POST_DEFAULTS = {"comment_count": 0, "last_commented_at": None}
AUTHOR_DEFAULTS = {"published_post_count": 0, "comment_count": 0, "registered": False}


def _post_facet(event: EventEnvelope, **fields: Any) -> Facet:
    return Facet("post_version", event.aggregate_version, {"updated_at": iso(event.occurred_at), **fields})


def _author_of(document: dict[str, Any]) -> str | None:
    return (document.get("author") or {}).get("id")


def _newer_author(into_model: str, into_id: str, current_version: int) -> Callable[[dict[str, Any]], Upsert | None]:
    """Fold an authors document into a content document when it knows a newer profile than the snapshot."""

    def fold(author: dict[str, Any]) -> Upsert | None:
        version = author.get("user_version") or 0
        if version <= current_version:
            return None
        embedded = {k: author.get(k) for k in ("id", "username", "display_name", "avatar_url")}
        return Upsert(into_model, into_id, facets=(Facet("author_version", version, {"author": embedded}),))

    return fold


def _author_recount(author_id: str | None) -> tuple[Recount, ...]:
    """The author's counts, recounted: a post's status or a comment's liveness may have changed them."""
    return () if author_id is None else (Recount("authors", author_id),)


# Users


def user_changed(event: EventEnvelope) -> Plan:
    """Registration or profile change: the author document, then every post and comment that embeds the author."""
    payload: UserRegistered | UserProfileChanged = event.payload
    fields = {"display_name": payload.display_name, "avatar_url": payload.avatar_url, "bio": payload.bio}
    if isinstance(payload, UserRegistered):
        fields["username"] = payload.username
    fields["registered"] = True
    primary = Upsert(
        "authors", event.aggregate_id,
        facets=(Facet("user_version", event.aggregate_version, fields),), defaults=AUTHOR_DEFAULTS,
    )  # fmt: skip
    return Plan(primary, _author_rewrites(event.aggregate_id))


def user_status_changed(event: EventEnvelope) -> Plan:
    """Deactivation or reactivation: no public field changes, but the user's version does.

    Whether an account may sign in is not public: the author document records only the new `user_version`, and
    the posts and comments embedding the author follow it (`author_version`), so every document keeps the user's
    current version, as `verify` expects.
    """
    primary = Upsert(
        "authors", event.aggregate_id,
        facets=(Facet("user_version", event.aggregate_version, {}),), defaults=AUTHOR_DEFAULTS,
    )  # fmt: skip
    return Plan(primary, _author_rewrites(event.aggregate_id))


def user_erased(event: EventEnvelope) -> Plan:
    """The author document becomes a tombstone: out of the directory, no personal field (the apply script's rule).

    The person's posts and comments were deleted by their own events just before; the other copies of their data
    (kept indices, the notice stream) are the loop's to purge (`projector.consumer.erasure`).
    """
    payload: UserErased = event.payload
    fields = {"erased": True, "registered": False}
    primary = Upsert(
        "authors", payload.user_id,
        facets=(Facet("user_version", event.aggregate_version, fields),), defaults=AUTHOR_DEFAULTS,
    )  # fmt: skip
    return Plan(primary)


def _author_rewrites(user_id: str) -> Callable[[dict[str, Any]], FollowUps]:
    """Every post and comment embedding the author takes the author document as written (its profile, version)."""

    def follow(author: dict[str, Any]) -> FollowUps:
        if not author.get("username"):
            return FollowUps()
        embedded = {k: author.get(k) for k in ("id", "username", "display_name", "avatar_url")}
        facet = Facet("author_version", author.get("user_version") or 0, {"author": embedded})
        return FollowUps(
            rewrites=tuple(Rewrite(model, {"author.id": user_id}, facet) for model in ("posts", "comments"))
        )

    return follow


# Posts


def post_created(event: EventEnvelope) -> Plan:
    """A draft: its own fields and the author snapshot, then the author's own document if it knows more."""
    payload: PostCreated = event.payload
    snapshot = payload.author
    fields = {
        **text_fields(payload.title, payload.content),
        "tags": list(payload.tags),
        "status": "draft",
        "deleted": False,
        "created_at": iso(payload.created_at),
        "published_at": None,
        "comment_facing_version": event.aggregate_version,
    }
    primary = Upsert(
        "posts", event.aggregate_id,
        facets=(
            _post_facet(event, **fields),
            Facet("author_version", snapshot.user_version, {"author": author_fields(snapshot)}),
        ),
        defaults=POST_DEFAULTS,
    )  # fmt: skip

    def follow(post: dict[str, Any]) -> FollowUps:
        # Comments may have arrived first (another topic): they learn the post's title from this side.
        facing = Facet("post_version", event.aggregate_version, {"post_title": payload.title, "post_deleted": False})
        return FollowUps(
            recounts=_author_recount(snapshot.user_id),
            rewrites=(Rewrite("comments", {"post_id": event.aggregate_id}, facing),),
            lookups=(
                Lookup("authors", snapshot.user_id, _newer_author("posts", event.aggregate_id, post["author_version"])),
            ),
        )

    return Plan(primary, follow)


def post_edited(event: EventEnvelope) -> Plan:
    """New title and content; comments show the post's title, so they are rewritten too."""
    payload: PostEdited = event.payload
    fields = {**text_fields(payload.title, payload.content), "comment_facing_version": event.aggregate_version}
    primary = Upsert("posts", event.aggregate_id, facets=(_post_facet(event, **fields),))

    def follow(post: dict[str, Any]) -> FollowUps:
        facet = Facet("post_version", event.aggregate_version, {"post_title": payload.title})
        return FollowUps(rewrites=(Rewrite("comments", {"post_id": event.aggregate_id}, facet),))

    return Plan(primary, follow)


def post_tags_changed(event: EventEnvelope) -> Plan:
    """New tags."""
    payload: PostTagsChanged = event.payload
    return Plan(Upsert("posts", event.aggregate_id, facets=(_post_facet(event, tags=list(payload.tags)),)))


def _post_status(status: str, **extra: Any) -> Callable[[EventEnvelope], Plan]:
    def handle(event: EventEnvelope) -> Plan:
        primary = Upsert("posts", event.aggregate_id, facets=(_post_facet(event, status=status, **extra),))

        def follow(post: dict[str, Any]) -> FollowUps:
            return FollowUps(recounts=_author_recount(_author_of(post)))

        return Plan(primary, follow)

    return handle


def post_published(event: EventEnvelope) -> Plan:
    """Public from now on."""
    payload: PostPublished = event.payload
    return _post_status("published", published_at=iso(payload.published_at))(event)


post_unpublished = _post_status("draft")
post_archived = _post_status("archived")


def post_deleted(event: EventEnvelope) -> Plan:
    """A tombstone, so stale events stay harmless; the post's comments leave the comments read model and forget its
    title (the tombstone's own text goes by the apply script's rule, `read_models.documents.tombstone_stripped`)."""
    fields = {"status": "deleted", "deleted": True, "comment_facing_version": event.aggregate_version}
    primary = Upsert("posts", event.aggregate_id, facets=(_post_facet(event, **fields),))

    def follow(post: dict[str, Any]) -> FollowUps:
        facet = Facet("post_version", event.aggregate_version, {"post_deleted": True, "post_title": None})
        return FollowUps(
            recounts=_author_recount(_author_of(post)),
            rewrites=(Rewrite("comments", {"post_id": event.aggregate_id}, facet),),
        )

    return Plan(primary, follow)


# Comments


def _post_into_comment(comment_id: str) -> Callable[[dict[str, Any]], Upsert | None]:
    def fold(post: dict[str, Any]) -> Upsert | None:
        """The post's title and deletion, versioned by the last post event that changed either."""
        if not post.get("comment_facing_version"):
            return None
        fields = {"post_title": post.get("title"), "post_deleted": bool(post.get("deleted"))}
        return Upsert("comments", comment_id, facets=(Facet("post_version", post["comment_facing_version"], fields),))

    return fold


def comment_added(event: EventEnvelope) -> Plan:
    """The comment with its author snapshot; then its post's and its author's counts, the post's title."""
    payload: CommentAdded = event.payload
    created = iso(payload.created_at)
    fields = {"post_id": payload.post_id, "body": payload.body, "created_at": created, "deleted": False}
    primary = Upsert(
        "comments", event.aggregate_id,
        facets=(
            Facet("comment_version", event.aggregate_version, {"updated_at": iso(event.occurred_at), **fields}),
            Facet("author_version", payload.author.user_version, {"author": author_fields(payload.author)}),
        ),
        defaults={"post_deleted": False},
    )  # fmt: skip

    def follow(comment: dict[str, Any]) -> FollowUps:
        return FollowUps(
            recounts=(Recount("posts", payload.post_id), *_author_recount(payload.author.user_id)),
            lookups=(
                Lookup("posts", payload.post_id, _post_into_comment(event.aggregate_id)),
                Lookup("authors", payload.author.user_id,
                       _newer_author("comments", event.aggregate_id, comment["author_version"])),
            ),
        )  # fmt: skip

    return Plan(primary, follow)


def comment_edited(event: EventEnvelope) -> Plan:
    """A new body."""
    payload: CommentEdited = event.payload
    facet = Facet(
        "comment_version", event.aggregate_version, {"body": payload.body, "updated_at": iso(event.occurred_at)}
    )
    return Plan(Upsert("comments", event.aggregate_id, facets=(facet,)))


def comment_deleted(event: EventEnvelope) -> Plan:
    """A tombstone; the post's and the author's counts drop it."""
    payload: CommentDeleted = event.payload
    facet = Facet("comment_version", event.aggregate_version, {"deleted": True, "updated_at": iso(event.occurred_at)})
    primary = Upsert("comments", event.aggregate_id, facets=(facet,))

    def follow(comment: dict[str, Any]) -> FollowUps:
        return FollowUps(recounts=(Recount("posts", payload.post_id), *_author_recount(_author_of(comment))))

    return Plan(primary, follow)


HANDLERS: dict[str, Callable[[EventEnvelope], Plan]] = {
    "user.registered": user_changed,
    "user.profile_changed": user_changed,
    "user.deactivated": user_status_changed,
    "user.reactivated": user_status_changed,
    "user.erased": user_erased,
    "post.created": post_created,
    "post.edited": post_edited,
    "post.tags_changed": post_tags_changed,
    "post.published": post_published,
    "post.unpublished": post_unpublished,
    "post.archived": post_archived,
    "post.deleted": post_deleted,
    "comment.added": comment_added,
    "comment.edited": comment_edited,
    "comment.deleted": comment_deleted,
}


def plan_for(event: EventEnvelope) -> Plan | None:
    """The plan of an event, or None for a type this projector ignores (still recorded as processed)."""
    handler = HANDLERS.get(event.event_type)
    return handler(event) if handler else None
