"""Checks every service makes the same way."""

from __future__ import annotations

from command_service.domain.errors import StaleVersion


def ensure_version(current: int, expected: int | None) -> None:
    """Optimistic concurrency: raise StaleVersion when the caller saw another version (None: no precondition)."""
    if expected is not None and expected != current:
        raise StaleVersion(expected=expected, current=current)
