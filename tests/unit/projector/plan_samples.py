"""Shared inputs of the projector's pure tests: envelopes of fixed events, snapshots, times, and written documents.

Every value a test expects is spelled out in the test itself; this module only builds the inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events.envelope import EventEnvelope
from events.types import AuthorSnapshot, spec_of

# The projector's modules are being reorganised; the one import of them here is kept in this block.
from projector.consumer.plans import Upsert

OCCURRED_AT = datetime(2025, 3, 1, 12, 30, 5, 250000, tzinfo=UTC)
OCCURRED_ISO = "2025-03-01T12:30:05.250000Z"
CREATED_AT = datetime(2025, 2, 28, 8, 0, tzinfo=UTC)
CREATED_ISO = "2025-02-28T08:00:00.000000Z"
PUBLISHED_AT = datetime(2025, 3, 2, 7, 45, 30, 1, tzinfo=UTC)
PUBLISHED_ISO = "2025-03-02T07:45:30.000001Z"

ADA = AuthorSnapshot(
    user_id="u1", username="ada", display_name="Ada Lovelace", avatar_url="https://img.example/ada.png", user_version=3
)
ADA_EMBEDDED = {
    "id": "u1",
    "username": "ada",
    "display_name": "Ada Lovelace",
    "avatar_url": "https://img.example/ada.png",
}
BOB = AuthorSnapshot(user_id="u2", username="bob", display_name="Bob", avatar_url=None, user_version=2)
BOB_EMBEDDED = {"id": "u2", "username": "bob", "display_name": "Bob", "avatar_url": None}

POST_DEFAULTS = {"comment_count": 0, "last_commented_at": None}
AUTHOR_DEFAULTS = {"published_post_count": 0, "comment_count": 0, "registered": False}


def envelope(payload: object, version: int, occurred_at: datetime = OCCURRED_AT) -> EventEnvelope:
    """The envelope of `payload` at aggregate version `version` (an edit's subject: its author, u1)."""
    spec = spec_of(payload)
    return EventEnvelope.create(
        payload,
        aggregate_version=version,
        correlation_id="corr-1",
        causation_id="cmd-1",
        actor_id="u1",
        occurred_at=occurred_at,
        event_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        subject_id="u1" if spec.personal and spec.subject_in(payload) is None else None,
    )


def author_document(user_id: str, user_version: int, **fields: Any) -> dict[str, Any]:
    """An authors document as the projector keeps it, with counts and bookkeeping that embeds must leave out."""
    return {
        "id": user_id,
        "username": "ada",
        "display_name": "Ada King",
        "avatar_url": "https://img.example/ada-2.png",
        "bio": "Countess",
        "user_version": user_version,
        "registered": True,
        "published_post_count": 4,
        "comment_count": 9,
        "count_clock": 1700000000000000,
        "field_versions": {"user_version:bio": user_version},
        **fields,
    }


def written(upsert: Upsert) -> dict[str, Any]:
    """The document a first scripted upsert of `upsert` leaves: id, defaults, each facet's fields and guard."""
    document: dict[str, Any] = {"id": upsert.doc_id, **upsert.defaults}
    for facet in upsert.facets:
        document.update(facet.set)
        document[facet.guard] = max(document.get(facet.guard, 0), facet.version)
    return document
