"""The user aggregate: an account's public profile."""

from __future__ import annotations

from dataclasses import dataclass

from command_service.domain import rules
from command_service.domain.rules import FieldErrors
from events.types import AuthorSnapshot, UserProfileChanged, UserRegistered


@dataclass
class User:
    """A registered user; `version` counts the changes to its profile, from 1."""

    id: int | None
    username: str
    display_name: str
    avatar_url: str | None
    bio: str
    is_staff: bool = False
    version: int = 1

    @classmethod
    def register(cls, *, username: str, password: str, display_name: str) -> User:
        """A new user, checked; the password is only checked here, never kept by the domain."""
        errors = FieldErrors()
        rules.check_username(errors, username)
        rules.check_password(errors, password)
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

    def snapshot(self) -> AuthorSnapshot:
        """The author as content events carry it."""
        return AuthorSnapshot(
            user_id=str(self.id),
            username=self.username,
            display_name=self.display_name,
            avatar_url=self.avatar_url,
            user_version=self.version,
        )
