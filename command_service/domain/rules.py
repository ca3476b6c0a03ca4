"""Field rules shared by the aggregates, collected so that one request reports every broken field at once."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from command_service.domain.errors import ValidationFailed

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
TITLE_MAX = 200
CONTENT_MAX = 100_000
TAGS_MAX = 10
COMMENT_MAX = 5_000
DISPLAY_NAME_MAX = 80
BIO_MAX = 1_000
AVATAR_URL_MAX = 500
PASSWORD_MIN = 8


class FieldErrors:
    """Collects messages per field and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        """Record one broken rule."""
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        """Raise ValidationFailed naming every recorded field, if there is one."""
        if self.errors:
            raise ValidationFailed("the request breaks the rules of some fields", self.errors)


def check_text(errors: FieldErrors, field: str, value: str, *, max_length: int, required: bool = True) -> None:
    """A text field: not blank when required, at most `max_length` characters."""
    if required and not value.strip():
        errors.add(field, "must not be blank")
    if len(value) > max_length:
        errors.add(field, f"must be at most {max_length} characters (got {len(value)})")


def check_username(errors: FieldErrors, username: str) -> None:
    """3 to 30 letters, digits or underscores."""
    if not USERNAME_RE.fullmatch(username):
        errors.add("username", "must be 3 to 30 letters, digits or underscores")


def check_password(errors: FieldErrors, password: str) -> None:
    """At least PASSWORD_MIN characters, not only digits."""
    if len(password) < PASSWORD_MIN:
        errors.add("password", f"must be at least {PASSWORD_MIN} characters")
    elif password.isdigit():
        errors.add("password", "must not be only digits")


def check_avatar_url(errors: FieldErrors, url: str | None) -> None:
    """Empty, or an absolute http(s) URL of at most AVATAR_URL_MAX characters."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.add("avatar_url", "must be an absolute http or https URL")
    if len(url) > AVATAR_URL_MAX:
        errors.add("avatar_url", f"must be at most {AVATAR_URL_MAX} characters")


def normalize_tags(errors: FieldErrors, tags: list[str]) -> tuple[str, ...]:
    """Lower-case, de-duplicated (first occurrence wins) tags, each checked against TAG_RE; at most TAGS_MAX."""
    normalized: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not TAG_RE.match(tag):
            errors.add("tags", f"{tag!r} must be 1 to 32 lower-case letters, digits or hyphens, not starting with one")
        elif tag not in normalized:
            normalized.append(tag)
    if len(normalized) > TAGS_MAX:
        errors.add("tags", f"at most {TAGS_MAX} tags (got {len(normalized)})")
    return tuple(normalized)
