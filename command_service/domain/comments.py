"""The comment aggregate: a body on a published post, changed only by its author (deleted also by staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from command_service.domain import rules
from command_service.domain.actors import Actor
from command_service.domain.errors import InvalidTransition, NotFound, PermissionDenied
from command_service.domain.posts import Post, PostStatus
from command_service.domain.rules import FieldErrors
from command_service.domain.users import User
from events.types import CommentAdded, CommentDeleted, CommentEdited


def _checked_body(body: str) -> str:
    errors = FieldErrors()
    rules.check_text(errors, "body", body, max_length=rules.COMMENT_MAX)
    errors.raise_if_any()
    return body.strip()


@dataclass
class Comment:
    """A comment; `version` counts its changes from 1."""

    id: int | None
    post_id: int
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime
    is_deleted: bool = False
    version: int = 1

    @classmethod
    def on(cls, post: Post, *, author_id: int, body: str, now: datetime) -> Comment:
        """A new comment on `post`, which must be published."""
        if post.status != PostStatus.PUBLISHED:
            raise InvalidTransition(f"a {post.status} post takes no comments", {"post": [f"is {post.status}"]})
        return cls(None, post.id, author_id, _checked_body(body), now, now)

    def added_event(self, author: User) -> CommentAdded:
        """The event of this comment's creation (after the id is assigned)."""
        return CommentAdded(
            comment_id=str(self.id),
            post_id=str(self.post_id),
            author=author.snapshot(),
            body=self.body,
            created_at=self.created_at,
        )

    def ensure_visible(self, post: Post, actor: Actor | None) -> None:
        """A comment is seen where its post is seen, until it is deleted."""
        if self.is_deleted or not post.is_visible_to(actor):
            raise NotFound(f"comment {self.id} not found")

    def ensure_can_edit(self, post: Post, actor: Actor) -> None:
        """Only the author edits."""
        self.ensure_visible(post, actor)
        if not actor.owns(self.author_id):
            raise PermissionDenied("only the comment's author may edit it")

    def ensure_can_delete(self, post: Post, actor: Actor) -> None:
        """The comment's author, the post's author or staff delete."""
        self.ensure_visible(post, actor)
        if not (actor.owns(self.author_id) or actor.owns(post.author_id) or actor.is_staff):
            raise PermissionDenied("only the comment's author, the post's author or staff may delete it")

    def edit(self, *, body: str, now: datetime) -> CommentEdited:
        """Replace the body."""
        self.body = _checked_body(body)
        self._touch(now)
        return CommentEdited(comment_id=str(self.id), post_id=str(self.post_id), body=self.body)

    def delete(self, *, now: datetime) -> CommentDeleted:
        """Delete the comment (a tombstone remains in the write model)."""
        self.is_deleted = True
        self._touch(now)
        return CommentDeleted(comment_id=str(self.id), post_id=str(self.post_id))

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
