"""User commands: register, change profile."""

from __future__ import annotations

from command_service.domain.actors import Actor
from command_service.domain.errors import PermissionDenied
from command_service.domain.users import User
from command_service.services.checks import ensure_version
from command_service.services.unit_of_work import UnitOfWork, Written


def user_register(*, username: str, password: str, display_name: str, uow: UnitOfWork) -> Written:
    """Create an account and its public profile."""
    with uow:
        user = User.register(username=username, password=password, display_name=display_name)
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
