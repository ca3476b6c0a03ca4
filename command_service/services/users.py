"""User commands: register, change profile, deactivate and reactivate (staff), erase."""

from __future__ import annotations

import functools

from command_service.domain.actors import Actor
from command_service.domain.errors import PermissionDenied
from command_service.domain.posts import PostStatus
from command_service.domain.users import User
from command_service.services.checks import ensure_version
from command_service.services.unit_of_work import UnitOfWork, Written


def user_register(*, username: str, password: str, display_name: str, uow: UnitOfWork) -> Written:
    """Create an account and its public profile."""
    with uow:
        policy = functools.partial(uow.users.password_problems, username=username, display_name=display_name)
        user = User.register(username=username, password=password, display_name=display_name, password_policy=policy)
        uow.users.add(user, password=password)
        written = uow.record(user.registered_event(), aggregate_version=user.version)
        uow.commit()
    return written


def user_profile_change(
    *,
    user_id: int,
    actor: Actor,
    display_name: str | None = None,
    avatar_url: str | None = None,
    bio: str | None = None,
    expected_version: int | None = None,
    uow: UnitOfWork,
) -> Written:
    """Change some profile fields (None keeps a field; an empty avatar_url removes the avatar). Own profile only."""
    with uow:
        user = uow.users.get(user_id)
        if actor.user_id != user_id:
            raise PermissionDenied("only the user may change their profile")
        ensure_version(user.version, expected_version)
        event = user.change_profile(
            display_name=user.display_name if display_name is None else display_name,
            avatar_url=user.avatar_url if avatar_url is None else avatar_url,
            bio=user.bio if bio is None else bio,
        )
        uow.users.save(user)
        written = uow.record(event, aggregate_version=user.version)
        uow.commit()
    return written


def user_deactivate(*, user_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Deactivate an account (staff, not their own): it can no longer sign in."""
    with uow:
        user = uow.users.get(user_id, include_inactive=True)  # so a second deactivation says so
        user.ensure_can_deactivate(actor)
        ensure_version(user.version, expected_version)
        event = user.deactivate()
        uow.users.save(user)
        written = uow.record(event, aggregate_version=user.version)
        uow.commit()
    return written


def user_reactivate(*, user_id: int, actor: Actor, expected_version: int | None = None, uow: UnitOfWork) -> Written:
    """Reactivate a deactivated account (staff, not their own)."""
    with uow:
        user = uow.users.get(user_id, include_inactive=True)
        user.ensure_can_deactivate(actor)
        ensure_version(user.version, expected_version)
        event = user.reactivate()
        uow.users.save(user)
        written = uow.record(event, aggregate_version=user.version)
        uow.commit()
    return written


def user_erase(
    *,
    user_id: int,
    actor: Actor,
    password: str | None = None,
    expected_version: int | None = None,
    uow: UnitOfWork,
) -> Written:
    """Erase a person (GDPR art. 17): the user with their current password, or staff. In one transaction:

    1. each of their posts and comments not yet deleted is deleted, with its `post.deleted` / `comment.deleted`
       (the policy: a person's content is theirs and goes with them; others' comments under their posts go the way
       of any deleted post's comments);
    2. the account is erased (`User.erase`): username, profile and password gone, tokens revoked, stored responses
       dropped, their posts' and comments' text blanked (`UserRepository.erase`), and `user.erased` recorded;
    3. their key is forgotten (`UnitOfWork.forget_subject`): every sealed event about them becomes unreadable.

    An erased account is not found from then on, so a second erasure answers NotFound.
    """
    with uow:
        user = uow.users.get(user_id, include_inactive=True)
        confirmed = actor.owns(user_id) and password is not None and uow.users.password_matches(user_id, password)
        user.ensure_can_erase(actor, password_confirmed=confirmed)
        ensure_version(user.version, expected_version)
        event = user.erase()
        now = uow.now()
        for post in uow.posts.of_author(user_id):
            if post.status != PostStatus.DELETED:
                deleted = post.delete(now=now)
                uow.posts.save(post)
                uow.record(deleted, aggregate_version=post.version)
        for comment in uow.comments.of_author(user_id):
            if not comment.is_deleted:
                deleted = comment.delete(now=now)
                uow.comments.save(comment)
                uow.record(deleted, aggregate_version=comment.version)
        uow.users.erase(user)
        written = uow.record(event, aggregate_version=user.version)
        uow.forget_subject(user_id)
        uow.commit()
    return written
