"""A notice: one entry of the notice stream (`read_models.keys.notice_stream`), written and read in one place.

The projector appends one per applied event, once the batch is searchable; the query service reads them to fan
events out to WebSocket subscribers and to let a reconnecting subscriber resume. An entry carries the encoded
envelope (`event`), the public document after the event (`document`, JSON, `null` when there is none) and the
event type. A subscriber resumes only from a retained id; the stream's retention (`Retention`) is bounded three
ways: by count (NOTICE_RETENTION entries), by age (NOTICE_MAX_AGE_SECONDS) and by bytes (NOTICE_MAX_BYTES of encoded
entries, `entry_size`, counted exactly beside the stream: `read_models.keys.notice_bytes_key`).

A notice's document is bounded too: one whose JSON is over NOTICE_MAX_DOCUMENT_BYTES goes without its large text
fields (`LARGE_TEXT_FIELDS`), which `OMITTED_FIELD` then names (`bounded_document`); subscribers fetch the whole
document over HTTP. The event itself is bounded by the envelope's limit (`events.envelope.MAX_MESSAGE_BYTES`).

Each notice is written once per (aggregate type, aggregate id, aggregate version): `seen_member` names it in the
dedupe set beside the stream (`read_models.keys.notice_seen_key`), kept as long as the stream keeps entries, so a
redelivered or replayed event adds no second entry.

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
from runtime.settings import notice_max_age_seconds, notice_max_bytes, notice_retention

NOTICE_RETENTION = 100_000  # the default count bound (`runtime.settings.notice_retention`)
NOTICE_MAX_DOCUMENT_BYTES = 32 * 1024  # the default document bound (`runtime.settings.notice_max_document_bytes`)
LARGE_TEXT_FIELDS = ("content", "body", "bio")  # a post's, a comment's and an author's unbounded-ish text
OMITTED_FIELD = "omitted_fields"  # in a bounded document: the large text fields left out
GAP_KIND = "gap"
type Entry = tuple[bytes | str, dict[bytes, bytes]]  # (stream id, fields) as redis-py returns them


@dataclass(frozen=True)
class Retention:
    """How much of the notice stream is kept: the fewest entries any bound allows.

    Attributes:
        count: at most this many entries.
        max_age_seconds: no entry older than this (by its stream id, which is Redis' clock in milliseconds).
        max_bytes: at most this many bytes of encoded entries (`entry_size`); the newest entry is always kept.
    """

    count: int = NOTICE_RETENTION
    max_age_seconds: int = 86_400
    max_bytes: int = 256 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Retention:
        """NOTICE_RETENTION, NOTICE_MAX_AGE_SECONDS and NOTICE_MAX_BYTES (`runtime.settings`)."""
        return cls(notice_retention(), notice_max_age_seconds(), notice_max_bytes())

    def oldest_kept_millis(self, now_millis: int) -> int:
        """The smallest stream-id time (ms) still kept at `now_millis`: the MINID of the age bound."""
        return now_millis - self.max_age_seconds * 1000


def seen_member(event: EventEnvelope) -> str:
    """The dedupe set's name for an event's notice: `<aggregate type>:<aggregate id>:<aggregate version>`."""
    return f"{event.aggregate_type}:{event.aggregate_id}:{event.aggregate_version}"


def entry_size(fields: dict[str, bytes | str]) -> int:
    """The encoded size of an entry's fields and values, in bytes (what the byte budget counts)."""
    return sum(len(_bytes(name)) + len(_bytes(value)) for name, value in fields.items())


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


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


def notice_encode(
    event: EventEnvelope, document: dict[str, Any] | None, max_document_bytes: int = NOTICE_MAX_DOCUMENT_BYTES
) -> dict[str, bytes | str]:
    """The stream entry's fields (for XADD) announcing `event` and the document it left (bookkeeping removed, in its
    bounded form when its JSON is over `max_document_bytes`: `bounded_document`)."""
    return {
        "event": encode(event),
        "document": bounded_document(public_document(document), max_document_bytes),
        "event_type": event.event_type,
    }


def bounded_document(document: dict[str, Any] | None, max_bytes: int) -> str:
    """A document's JSON as a notice carries it: whole when at most `max_bytes` (UTF-8), else without the
    `LARGE_TEXT_FIELDS` it has, which its `OMITTED_FIELD` then lists (the rest of a document is bounded by the
    command side's limits)."""
    document_json = json.dumps(document)
    if document is None or len(document_json.encode()) <= max_bytes:
        return document_json
    omitted = [name for name in LARGE_TEXT_FIELDS if name in document]
    if not omitted:
        return document_json
    bounded = {key: value for key, value in document.items() if key not in omitted}
    return json.dumps({**bounded, OMITTED_FIELD: omitted})


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
