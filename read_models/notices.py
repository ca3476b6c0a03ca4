"""A notice: one entry of the notice stream (`read_models.keys.notice_stream`), written and read in one place.

The projector appends one per applied event, once the batch is searchable; the query service reads them to fan
events out to WebSocket subscribers and to let a reconnecting subscriber resume. An entry carries the encoded
envelope (`event`), the public document after the event (`document`, JSON, `null` when there is none) and the
event type. The stream is trimmed to about NOTICE_RETENTION entries: a subscriber resumes only from a retained id.

An entry that does not parse (not written by the projector) is still a position in the stream: the reader moves
past it and nobody sees it.

A gap marker (`gap_encode`, field `kind` = GAP_KIND) is the projector's word that notices before it were lost (Redis
was unreachable when their batch became searchable): readers cannot vouch for continuity across it, so a
subscriber must resync. It is never shown as an event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from events.envelope import EventEnvelope, encode
from read_models.documents import public_document

NOTICE_RETENTION = 100_000
GAP_KIND = "gap"
type Entry = tuple[bytes | str, dict[bytes, bytes]]  # (stream id, fields) as redis-py returns them


@dataclass(frozen=True)
class Notice:
    """One stream entry as readers see it.

    Attributes:
        position: the entry's stream id.
        event: the event's JSON object (an encoded envelope, parsed); empty when unreadable.
        document: the public document after the event, None when removed (or unreadable).
        event_text: the encoded envelope as stored (JSON text); empty when unreadable.
        document_text: the document as stored (JSON text); empty when unreadable.
        error: why the entry is unreadable, None when it was read.
        gap: whether the entry is a gap marker (notices before it were lost); it then carries no event.
    """

    position: str
    event: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] | None = None
    event_text: str = ""
    document_text: str = ""
    error: str | None = None
    gap: bool = False


def notice_encode(event: EventEnvelope, document: dict[str, Any] | None) -> dict[str, bytes | str]:
    """The stream entry's fields (for XADD) announcing `event` and the document it left (bookkeeping removed)."""
    return {
        "event": encode(event),
        "document": json.dumps(public_document(document)),
        "event_type": event.event_type,
    }


def gap_encode(lost: int) -> dict[str, str]:
    """The fields (for XADD) of a gap marker: `lost` notices before it could not be written."""
    return {"kind": GAP_KIND, "lost": str(lost)}


def notice_parse(entry: Entry) -> Notice:
    """The notice in a stream entry; an unreadable entry gives a Notice with only its position and `error`, a gap
    marker one with only its position and `gap`."""
    entry_id, fields = entry
    position = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    if fields.get(b"kind") == GAP_KIND.encode():
        return Notice(position, gap=True)
    try:
        event_text, document_text = fields[b"event"].decode(), fields.get(b"document", b"null").decode()
        event, document = json.loads(event_text), json.loads(document_text)
        if not isinstance(event, dict) or not isinstance(document, dict | None):
            raise ValueError("not JSON objects")
    except (KeyError, ValueError) as error:
        return Notice(position, error=str(error))
    return Notice(position, event, document, event_text, document_text)
