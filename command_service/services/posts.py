"""Post commands: create a draft, edit, set tags, publish, unpublish, restore, archive, delete."""

from __future__ import annotations

from collections.abc import Callable

from command_service.domain.actors import Actor
from command_service.domain.posts import Post
from command_service.services.checks import ensure_version
from command_service.services.unit_of_work import UnitOfWork, Written


def post_create(*, actor: Actor, title: str, content: str, tags: list[str], uow: UnitOfWork) -> Written:
    """Create a draft post by the actor."""
    with uow:
        author = uow.users.get(actor.user_id)
        post = Post.draft(author_id=actor.user_id, title=title, content=content, tags=tags, now=uow.now())
        uow.posts.add(post)
        written = uow.record(post.created_event(author), aggregate_version=post.version)
        uow.commit()
    return written


def _post_change(
    uow: UnitOfWork,
    *,
    post_id: int,
    actor: Actor,
    expected_version: int | None,
    authorize: Callable[[Post, Actor], None],
    apply: Callable[[Post], object],
) -> Written:
    """The shape of every change: load, authorize, check the version, apply, save and record, in one transaction."""
    with uow:
        post = uow.posts.get(post_id)
        authorize(post, actor)
        ensure_version(post.version, expected_version)
        event = apply(post)
        uow.posts.save(post)
        written = uow.record(event, aggregate_version=post.version, subject_id=post.author_id)
        uow.commit()
    return written


def post_edit(
    *,
    post_id: int,
    actor: Actor,
    title: str | None = None,
    content: str | None = None,
    expected_version: int | None = None,
    uow: UnitOfWork,
) -> Written:
    """Change a post's title and/or content (author only); the one not given is kept."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_edit,
        apply=lambda post: post.edit(
            title=post.title if title is None else title, content=post.content if content is None else content,
            now=uow.now(),
        ),
    )  # fmt: skip


def post_tags_set(
    *, post_id: int, actor: Actor, tags: list[str], expected_version: int | None = None, uow: UnitOfWork
) -> Written:
    """Replace a post's tags (author only)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_edit,
        apply=lambda post: post.set_tags(tags=tags, now=uow.now()),
    )  # fmt: skip


def post_publish(*, post_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Publish a draft (author only: staff moderate, they do not publish for others)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_edit,
        apply=lambda post: post.publish(now=uow.now()),
    )  # fmt: skip


def post_unpublish(*, post_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Take a published post back to draft (author or staff)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_moderate,
        apply=lambda post: post.unpublish(now=uow.now()),
    )  # fmt: skip


def post_restore(*, post_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Republish a hidden post (one published, then unpublished) as of its first publication (author or staff)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_moderate,
        apply=lambda post: post.restore(now=uow.now()),
    )  # fmt: skip


def post_archive(*, post_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Archive a post (author or staff)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_moderate,
        apply=lambda post: post.archive(now=uow.now()),
    )  # fmt: skip


def post_delete(*, post_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Delete a post (author or staff)."""
    return _post_change(
        uow, post_id=post_id, actor=actor, expected_version=expected_version, authorize=Post.ensure_can_moderate,
        apply=lambda post: post.delete(now=uow.now()),
    )  # fmt: skip
