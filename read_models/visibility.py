"""Which posts are public: published and not deleted. One rule, as a predicate and as the query that applies it.

The lists and search filter with the query; a post's comments, and the live stream's notices, are judged with the
predicate on the post's document. Defined side by side so that what the stream shows and what the lists show
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUBLIC_POST_FIELDS = ("status", "deleted")  # what the rule reads of a post document
POST_REMOVALS = frozenset({"post.unpublished", "post.archived", "post.deleted"})
# Events that take an aggregate out of the lists: the stream sends them without a document (their payloads are ids
# only), and the projector announces each one even when a later event of its aggregate is in the same batch.
REMOVALS = POST_REMOVALS | {"comment.deleted", "user.erased"}


def is_public_post(post: Mapping[str, Any] | None) -> bool:
    """Whether a post document is one the lists show: published and not deleted."""
    return post is not None and post.get("status") == "published" and not post.get("deleted")


def public_post_clauses() -> dict[str, list[dict[str, Any]]]:
    """The same rule as `bool` query clauses (`filter`, `must_not`), to extend with a query's own (fresh lists)."""
    return {"filter": [{"term": {"status": "published"}}], "must_not": [{"term": {"deleted": True}}]}
