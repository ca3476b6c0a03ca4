"""What readers may rely on in a read-model document: its public fields and the version of what built it.

The projector keeps bookkeeping inside documents (per-field versions, the counts' recount tick) that only it
reads; notices must carry the document without it, and lists never ask for it. Every document also carries the
version of the aggregate that built it, which read-your-writes compares with the version a consistency token names.
"""

from __future__ import annotations

from typing import Any

PRIVATE_FIELDS = ("field_versions", "count_clock")  # projector bookkeeping, not part of a read model's document

# Fields that hold a list of values (a mapping cannot say so: any OpenSearch field may hold one or many).
LIST_VALUED_FIELDS = {"posts": ("tags",)}

# Which read model and document field carry the version of each aggregate type (a consistency token's names).
VERSION_FIELDS = {"post": ("posts", "post_version"), "comment": ("comments", "comment_version"),
                  "user": ("authors", "user_version")}  # fmt: skip


# A person's data in a document: text they wrote, their profile, an author snapshot's fields (inside `author` too),
# a copy of another document's text (`post_title`). A tombstone holds none of it (`tombstone_stripped`).
PERSONAL_FIELDS = ("title", "content", "content_preview", "tags", "body", "post_title", "username", "display_name",
                   "avatar_url", "bio")  # fmt: skip
TOMBSTONE_FLAGS = ("deleted", "erased")  # a post or comment deleted, an author erased


def is_tombstone(document: dict[str, Any] | None) -> bool:
    """Whether a document is a tombstone: kept (ids, versions, flags) only so that stale events stay harmless."""
    return document is not None and any(document.get(flag) is True for flag in TOMBSTONE_FLAGS)


def tombstone_stripped(document: dict[str, Any]) -> bool:
    """Drop the personal fields of a tombstone in place (an author snapshot keeps its `id`); whether any was dropped.

    The projector's apply scripts run the same rule after every write (`projector.consumer.scripts`), so no later
    write (a rewrite of the author's profile, a lookup's fold) can put text back into a tombstone.
    """
    if not is_tombstone(document):
        return False
    dropped = [name for name in PERSONAL_FIELDS if name in document]
    for name in dropped:
        del document[name]
    author = document.get("author")
    if isinstance(author, dict) and any(name in author for name in PERSONAL_FIELDS):
        # a new dict: the snapshot may be shared with other documents (one facet written to many in memory)
        document["author"] = {key: value for key, value in author.items() if key not in PERSONAL_FIELDS}
        dropped.append("author")
    return bool(dropped)


def public_document(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A document as readers see it, without the projector's bookkeeping."""
    if document is None:
        return None
    return {key: value for key, value in document.items() if key not in PRIVATE_FIELDS}
