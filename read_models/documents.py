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


def public_document(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A document as readers see it, without the projector's bookkeeping."""
    if document is None:
        return None
    return {key: value for key, value in document.items() if key not in PRIVATE_FIELDS}
