"""Who is asking: the services' view of the caller, free of any web framework."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """An authenticated caller. Anonymous callers are `None` where a service accepts them."""

    user_id: int
    is_staff: bool = False

    def owns(self, author_id: int) -> bool:
        """True when the actor wrote the thing (author id given)."""
        return self.user_id == author_id
