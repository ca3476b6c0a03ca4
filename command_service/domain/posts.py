"""The post aggregate: its fields' rules, its status machine and who may change it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from command_service.domain import rules
from command_service.domain.actors import Actor
from command_service.domain.errors import InvalidTransition, NotFound, PermissionDenied
from command_service.domain.rules import FieldErrors
from command_service.domain.users import User
from events.types import (
    PostArchived,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostPublished,
    PostTagsChanged,
    PostUnpublished,
)


class PostStatus(StrEnum):
    """Where a post is in its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    DELETED = "deleted"


# The statuses each change may start from.
EDITABLE = frozenset({PostStatus.DRAFT, PostStatus.PUBLISHED})
TRANSITIONS: dict[str, tuple[frozenset[PostStatus], PostStatus]] = {
    "publish": (frozenset({PostStatus.DRAFT}), PostStatus.PUBLISHED),
    "unpublish": (frozenset({PostStatus.PUBLISHED}), PostStatus.DRAFT),
    "archive": (frozenset({PostStatus.DRAFT, PostStatus.PUBLISHED}), PostStatus.ARCHIVED),
    "delete": (frozenset({PostStatus.DRAFT, PostStatus.PUBLISHED, PostStatus.ARCHIVED}), PostStatus.DELETED),
}


def post_visible_to(status: str, author_id: int, actor: Actor | None) -> bool:
    """The read rule, shared by the aggregate and the detail reads of the API."""
    if status == PostStatus.PUBLISHED:
        return True
    return status != PostStatus.DELETED and actor is not None and actor.owns(author_id)


def _checked(*, title: str, content: str, tags: list[str]) -> tuple[str, str, tuple[str, ...]]:
    """Check every field at once; return the normalized title, content and (sorted, unique) tags."""
    errors = FieldErrors()
    rules.check_text(errors, "title", title, max_length=rules.TITLE_MAX)
    rules.check_text(errors, "content", content, max_length=rules.CONTENT_MAX)
    normalized = tuple(sorted(rules.normalize_tags(errors, tags)))
    errors.raise_if_any()
    return title.strip(), content, normalized


@dataclass
class Post:
    """A post; `version` counts its changes from 1 (creation)."""

    id: int | None
    author_id: int
    title: str
    content: str
    tags: tuple[str, ...]
    status: PostStatus
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    version: int = 1

    @classmethod
    def draft(cls, *, author_id: int, title: str, content: str, tags: list[str], now: datetime) -> Post:
        """A new draft, checked."""
        title, content, normalized = _checked(title=title, content=content, tags=tags)
        return cls(None, author_id, title, content, normalized, PostStatus.DRAFT, now, now)

    def created_event(self, author: User) -> PostCreated:
        """The event of this post's creation (after the id is assigned)."""
        return PostCreated(
            post_id=str(self.id),
            author=author.snapshot(),
            title=self.title,
            content=self.content,
            tags=self.tags,
            created_at=self.created_at,
        )

    # Who may see and change it.

    def is_visible_to(self, actor: Actor | None) -> bool:
        """Published posts are public; drafts and archived posts only their author's; deleted ones nobody's."""
        return post_visible_to(self.status, self.author_id, actor)

    def ensure_visible(self, actor: Actor | None) -> None:
        """Raise NotFound (not Forbidden: existence is not revealed) when the actor may not see the post."""
        if not self.is_visible_to(actor):
            raise NotFound(f"post {self.id} not found")

    def ensure_can_edit(self, actor: Actor) -> None:
        """Only the author changes content and tags."""
        if not actor.owns(self.author_id) or self.status == PostStatus.DELETED:
            self._refuse(actor, "only the post's author may change it")

    def ensure_can_moderate(self, actor: Actor) -> None:
        """The author, or staff, may unpublish, archive or delete."""
        if not (actor.owns(self.author_id) or actor.is_staff) or self.status == PostStatus.DELETED:
            self._refuse(actor, "only the post's author or staff may do this")

    def _refuse(self, actor: Actor, why: str) -> None:
        self.ensure_visible(actor)
        raise PermissionDenied(why)

    # Changes: each checks its rules, applies, bumps the version and returns its event.

    def edit(self, *, title: str, content: str, now: datetime) -> PostEdited:
        """Replace title and content."""
        self._ensure_editable()
        self.title, self.content, _ = _checked(title=title, content=content, tags=list(self.tags))
        self._touch(now)
        return PostEdited(post_id=str(self.id), title=self.title, content=self.content)

    def set_tags(self, *, tags: list[str], now: datetime) -> PostTagsChanged:
        """Replace the tags."""
        self._ensure_editable()
        _, _, self.tags = _checked(title=self.title, content=self.content, tags=tags)
        self._touch(now)
        return PostTagsChanged(post_id=str(self.id), tags=self.tags)

    def publish(self, *, now: datetime) -> PostPublished:
        """Make the post public."""
        self._transition("publish", now)
        self.published_at = now
        return PostPublished(post_id=str(self.id), published_at=now)

    def unpublish(self, *, now: datetime) -> PostUnpublished:
        """Take a published post back to draft."""
        self._transition("unpublish", now)
        return PostUnpublished(post_id=str(self.id))

    def restore(self, *, now: datetime) -> PostPublished:
        """Undo a hide: republish a post that was published and went back to draft, as of its first publication.

        Only such a post: a draft never published is its author's to publish, and archived and deleted posts stay
        retired. The event is `post.published` with the original `published_at`, so the post returns to its place
        in the lists.
        """
        if self.status != PostStatus.DRAFT or self.published_at is None:
            state = "a draft never published" if self.status == PostStatus.DRAFT else f"a {self.status} post"
            raise InvalidTransition(
                f"cannot restore {state}: only a hidden post (published, then unpublished) can be restored",
                {"status": [f"is {self.status}"]},
            )
        self.status = PostStatus.PUBLISHED
        self._touch(now)
        return PostPublished(post_id=str(self.id), published_at=self.published_at)

    def archive(self, *, now: datetime) -> PostArchived:
        """Retire the post from lists; its author still sees it."""
        self._transition("archive", now)
        return PostArchived(post_id=str(self.id))

    def delete(self, *, now: datetime) -> PostDeleted:
        """Delete the post (a tombstone remains in the write model)."""
        self._transition("delete", now)
        return PostDeleted(post_id=str(self.id))

    def _ensure_editable(self) -> None:
        if self.status not in EDITABLE:
            raise InvalidTransition(f"a {self.status} post cannot be edited", {"status": [f"is {self.status}"]})

    def _transition(self, change: str, now: datetime) -> None:
        allowed_from, target = TRANSITIONS[change]
        if self.status not in allowed_from:
            raise InvalidTransition(f"cannot {change} a {self.status} post", {"status": [f"is {self.status}"]})
        self.status = target
        self._touch(now)

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
