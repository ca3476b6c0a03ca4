"""User commands: register, change profile, deactivate and reactivate (staff)."""

from __future__ import annotations

import functools

from command_service.domain.actors import Actor
from command_service.domain.errors import PermissionDenied
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
