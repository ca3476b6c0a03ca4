"""Comment commands: add, edit, delete."""

from __future__ import annotations

from command_service.domain.actors import Actor
from command_service.domain.comments import Comment
from command_service.services.checks import ensure_version
from command_service.services.unit_of_work import UnitOfWork, Written


def comment_add(*, post_id: int, actor: Actor, body: str, uow: UnitOfWork) -> Written:
    """Comment on a published post the actor can see."""
    with uow:
        post = uow.posts.get(post_id)
        post.ensure_visible(actor)
        author = uow.users.get(actor.user_id)
        comment = Comment.on(post, author_id=actor.user_id, body=body, now=uow.now())
        uow.comments.add(comment)
        written = uow.record(comment.added_event(author), aggregate_version=comment.version)
        uow.commit()
    return written


def comment_edit(
    *, comment_id: int, actor: Actor, body: str, expected_version: int | None = None, uow: UnitOfWork
) -> Written:
    """Replace a comment's body (its author only)."""
    with uow:
        comment = uow.comments.get(comment_id)
        comment.ensure_can_edit(uow.posts.get(comment.post_id), actor)
        ensure_version(comment.version, expected_version)
        event = comment.edit(body=body, now=uow.now())
        uow.comments.save(comment)
        written = uow.record(event, aggregate_version=comment.version, subject_id=comment.author_id)
        uow.commit()
    return written


def comment_delete(*, comment_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Delete a comment (its author, the post's author, or staff)."""
    with uow:
        comment = uow.comments.get(comment_id)
        comment.ensure_can_delete(uow.posts.get(comment.post_id), actor)
        ensure_version(comment.version, expected_version)
        event = comment.delete(now=uow.now())
        uow.comments.save(comment)
        written = uow.record(event, aggregate_version=comment.version)
        uow.commit()
    return written
