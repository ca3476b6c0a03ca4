"""The user aggregate: an account's public profile."""

from __future__ import annotations

from dataclasses import dataclass

from command_service.domain import rules
from command_service.domain.actors import Actor
from command_service.domain.errors import InvalidTransition, PermissionDenied, ValidationFailed
from command_service.domain.rules import FieldErrors
from events.types import (
    AuthorSnapshot,
    UserDeactivated,
    UserErased,
    UserProfileChanged,
    UserReactivated,
    UserRegistered,
)

WRONG_PASSWORD = "is not the current password"


def erased_username(user_id: int) -> str:
    """The username an erased account keeps: its id only, and never a name anyone can register (`~` is no letter,
    digit or underscore), so the person's own username is free for anyone, them included, at once."""
    return f"~erased-{user_id}"


@dataclass
class User:
    """A registered user; `version` counts the changes to the account (profile, deactivation), from 1."""

    id: int | None
    username: str
    display_name: str
    avatar_url: str | None
    bio: str
    is_staff: bool = False
    version: int = 1
    is_active: bool = True

    @classmethod
    def register(
        cls, *, username: str, password: str, display_name: str, password_policy: rules.PasswordPolicy | None = None
    ) -> User:
        """A new user, checked; the password is only checked here (against `password_policy` too), never kept."""
        errors = FieldErrors()
        rules.check_username(errors, username)
        rules.check_password(errors, password, policy=password_policy)
        rules.check_text(errors, "display_name", display_name, max_length=rules.DISPLAY_NAME_MAX)
        errors.raise_if_any()
        return cls(id=None, username=username, display_name=display_name.strip(), avatar_url=None, bio="")

    def registered_event(self) -> UserRegistered:
        """The event of this user's registration (after the id is assigned)."""
        return UserRegistered(
            user_id=str(self.id),
            username=self.username,
            display_name=self.display_name,
            avatar_url=self.avatar_url,
            bio=self.bio,
        )

    def change_profile(self, *, display_name: str, avatar_url: str | None, bio: str) -> UserProfileChanged:
        """Replace the public profile; every field is given (a PATCH is merged by the caller)."""
        errors = FieldErrors()
        rules.check_text(errors, "display_name", display_name, max_length=rules.DISPLAY_NAME_MAX)
        rules.check_avatar_url(errors, avatar_url)
        rules.check_text(errors, "bio", bio, max_length=rules.BIO_MAX, required=False)
        errors.raise_if_any()
        self.display_name, self.avatar_url, self.bio = display_name.strip(), avatar_url or None, bio
        self.version += 1
        return UserProfileChanged(
            user_id=str(self.id), display_name=self.display_name, avatar_url=self.avatar_url, bio=self.bio
        )

    def ensure_can_deactivate(self, actor: Actor) -> None:
        """Only staff deactivate or reactivate an account, and never their own (that would lock them out)."""
        if not actor.is_staff:
            raise PermissionDenied("only staff may deactivate or reactivate an account")
        if actor.owns(self.id):
            raise PermissionDenied("staff may not deactivate or reactivate their own account")

    def deactivate(self) -> UserDeactivated:
        """Stop the account from signing in; its profile and content stay."""
        if not self.is_active:
            raise InvalidTransition(f"user {self.id} is already deactivated", {"is_active": ["is false"]})
        self.is_active = False
        self.version += 1
        return UserDeactivated(user_id=str(self.id))

    def reactivate(self) -> UserReactivated:
        """Let a deactivated account sign in again."""
        if self.is_active:
            raise InvalidTransition(f"user {self.id} is active", {"is_active": ["is true"]})
        self.is_active = True
        self.version += 1
        return UserReactivated(user_id=str(self.id))

    def ensure_can_erase(self, actor: Actor, *, password_confirmed: bool) -> None:
        """The person themself, having re-entered their password (`password_confirmed`), or staff for anyone."""
        if actor.owns(self.id):
            if not password_confirmed:
                raise ValidationFailed("the password does not match", {"password": [WRONG_PASSWORD]})
        elif not actor.is_staff:
            raise PermissionDenied("only the user or staff may erase an account")

    def erase(self) -> UserErased:
        """Close the account and drop its personal data (deactivated accounts too); it keeps its id and version."""
        self.username, self.display_name, self.avatar_url, self.bio = erased_username(self.id), "", None, ""
        self.is_active = False
        self.version += 1
        return UserErased(user_id=str(self.id))

    def snapshot(self) -> AuthorSnapshot:
        """The author as content events carry it."""
        return AuthorSnapshot(
            user_id=str(self.id),
            username=self.username,
            display_name=self.display_name,
            avatar_url=self.avatar_url,
            user_version=self.version,
        )
