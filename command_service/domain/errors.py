"""The one error root of the command side; the API maps each subclass to one HTTP status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FIELD_MESSAGES_MAX = 10
"""The most messages an error body gives one field (one per bad item of a list, say); the rest are only counted."""


def not_shown(count: int) -> str:
    """The message that stands for `count` messages of a field left out of an error body."""
    return f"and {count} more {'error' if count == 1 else 'errors'} not shown"


def bounded(messages: Sequence[str]) -> list[str]:
    """A field's messages as an error body gives them: the first FIELD_MESSAGES_MAX, then one counting the rest."""
    if len(messages) <= FIELD_MESSAGES_MAX:
        return list(messages)
    return [*messages[:FIELD_MESSAGES_MAX], not_shown(len(messages) - FIELD_MESSAGES_MAX)]


class DomainError(Exception):
    """Root of every error a service raises on purpose."""

    def __init__(self, message: str, fields: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {name: list(errors) for name, errors in (fields or {}).items()}


class ValidationFailed(DomainError):
    """Input breaks a rule of the domain (length, format, count); `fields` says which and why."""


class NotFound(DomainError):
    """The aggregate does not exist, or the actor may not know that it does."""


class PermissionDenied(DomainError):
    """The actor may see the aggregate but not change it this way."""


class InvalidTransition(DomainError):
    """The aggregate's status does not allow this change (publish a deleted post, say)."""


class Conflict(DomainError):
    """The change collides with the current state: a taken username, a concurrent write."""


class StaleVersion(DomainError):
    """The caller's expected version (If-Match) is not the aggregate's current version."""

    def __init__(self, *, expected: int, current: int) -> None:
        super().__init__(f"version {expected} is stale: the current version is {current}")
        self.expected = expected
        self.current = current
