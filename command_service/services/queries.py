"""What the views read after a write or for a GET: one user, post or comment, as plain data."""

from __future__ import annotations

from typing import Any, Protocol

from command_service.domain.actors import Actor


class DetailQueries(Protocol):
    """Detail reads of the write model; every list and search is the query service's."""

    def user_detail(self, *, user_id: int) -> dict[str, Any]:
        """A user's public profile (raises NotFound)."""

    def post_detail(self, *, post_id: int, viewer: Actor | None, check_visibility: bool = True) -> dict[str, Any]:
        """A post with its author, tags and comment count, if the viewer may see it (raises NotFound).

        `check_visibility=False` is for the response to a write the viewer was allowed to make.
        """

    def comment_detail(self, *, comment_id: int, viewer: Actor | None) -> dict[str, Any]:
        """A comment with its author and post, if the viewer may see it (raises NotFound)."""
