"""From the notice stream (`read_models.notices`) to channel-layer messages: for the fan-out and resuming subscribers.

Every stream entry becomes one item, whether or not anyone may see it, so each item can name the entry before it
(`previous`) and a subscriber notices any item it did not get. An item carries:

- `position`, `previous`: the entry's stream id and the one before it (None when unknown: a gap). A gap marker
  (`read_models.notices.gap_encode`: the projector lost notices before it) is such a gap: its item has no event
  and `previous` None, so live subscribers close for a resume and resuming ones are told to resync;
- for a notice subscribers may see at delivery (`query_service.stream.visibility.delivered_view`): `event` (the
  encoded envelope, JSON text, without who acted: `subscriber_event_text`), `document` (JSON text, `null` when
  removed) and the filter keys `aggregate_type`, `tags`, `author_id`.

The stream has no authentication, so every subscriber is anonymous: the envelope's `actor_id` (who wrote, or who
moderated) and `causation_id` (the writer's raw Idempotency-Key) go out as null, for everyone, whether live or
resuming. The envelope keeps its shape (both fields are nullable in the contract), so a frame still decodes.

Delivery judges each notice again against the read models as they are now: `build_items` reads the current
documents of the page's aggregates (and of comments' posts) with one mget per read model, so a notice a later event
superseded, or content no longer public, goes out as a bare position, whether live or to a subscriber resuming from
`0-0`.

Consecutive items travel together in one channel message (`batch_messages`): a channel-layer message costs each
subscriber the same whatever it holds, so under load a batch spreads that cost; when the stream is quiet a batch
holds one item. While the stream is idle the fan-out sends a heartbeat naming the last position it sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import redis
from opensearchpy import OpenSearch

from query_service.search.gateway import alias
from query_service.stream.positions import StreamBounds, bounds_from_info
from query_service.stream.visibility import LOOKUP_FIELDS, Current, delivered_view, lookups
from read_models.keys import notice_stream
from read_models.notices import Entry, Notice, notice_parse

log = logging.getLogger(__name__)
BATCH_TYPE = "stream.notices"  # handled by the consumer's `stream_notices`
HEARTBEAT_TYPE = "stream.heartbeat"  # and `stream_heartbeat`
BATCH_ITEMS = 100
BATCH_BYTES = 256 * 1024  # a larger item travels alone
PRIVATE_ENVELOPE_FIELDS = ("actor_id", "causation_id")  # null in every frame: the stream's subscribers are anonymous


def batch_messages(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive items as channel messages of at most BATCH_ITEMS items and about BATCH_BYTES each."""
    messages: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = len(item.get("event", "")) + len(item.get("document", ""))
        if batch and (len(batch) == BATCH_ITEMS or size + item_size > BATCH_BYTES):
            messages.append({"type": BATCH_TYPE, "items": batch})
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        messages.append({"type": BATCH_TYPE, "items": batch})
    return messages


def heartbeat(position: str) -> dict[str, str]:
    """The idle fan-out's message: every message up to `position` was sent."""
    return {"type": HEARTBEAT_TYPE, "position": position}


def stream_bounds(client: redis.Redis) -> StreamBounds:
    """The notice stream's oldest and newest ids now."""
    try:
        info = client.xinfo_stream(notice_stream())
    except redis.ResponseError as error:
        if "no such key" not in str(error):
            raise
        info = None
    return bounds_from_info(info)


def entries_after(client: redis.Redis, position: str, count: int) -> list[Entry]:
    """Up to `count` stream entries after `position`, oldest first."""
    return client.xrange(notice_stream(), min=f"({position}", max="+", count=count)


def current_documents(search: OpenSearch, wanted: set[tuple[str, str]]) -> Current:
    """The documents named by (read model, id) as the read models hold them now, with the fields delivery reads
    (`LOOKUP_FIELDS`): one mget per read model named (absent documents are left out)."""
    by_model: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in LOOKUP_FIELDS}
    for name, fields in LOOKUP_FIELDS.items():
        ids = sorted(doc_id for model, doc_id in wanted if model == name)
        if not ids:
            continue
        response = search.mget(index=alias(name), body={"ids": ids}, params={"_source_includes": ",".join(fields)})
        by_model[name] = {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
    return Current(**by_model)


def build_items(entries: Sequence[Entry], previous: str | None, search: OpenSearch) -> list[dict[str, Any]]:
    """One item per entry, in order, judged against the read models now (one mget per read model for all of them).

    Args:
        entries: consecutive stream entries.
        previous: the id of the entry before the first one (None when it cannot be vouched for).
        search: the OpenSearch client, for the current documents.
    """
    parsed = [_read(entry) for entry in entries]
    wanted = {pair for notice in parsed if not notice.gap and notice.error is None for pair in lookups(notice.event)}
    return items_of(parsed, previous, current_documents(search, wanted))


def items_of(parsed: Sequence[Notice], previous: str | None, current: Current) -> list[dict[str, Any]]:
    """The items of consecutive notices, each judged with the documents `current` holds (pure)."""
    items = []
    for notice in parsed:
        if notice.gap:  # nobody can vouch for what came before it
            items.append({"position": notice.position, "previous": None})
            previous = notice.position
            continue
        item: dict[str, Any] = {"position": notice.position, "previous": previous}
        view = delivered_view(notice.event, notice.document, current) if notice.error is None else None
        if view is not None:
            item["event"] = subscriber_event_text(notice)
            item["document"] = notice.document_text if view.document is notice.document else json.dumps(view.document)
            item.update(aggregate_type=view.aggregate_type, tags=list(view.tags), author_id=view.author_id)
        items.append(item)
        previous = notice.position
    return items


def subscriber_event_text(notice: Notice) -> str:
    """The notice's event as anonymous subscribers get it: `PRIVATE_ENVELOPE_FIELDS` null, the rest as stored
    (the stored text itself when they are null already, else re-encoded as compactly as `events.envelope.encode`)."""
    if all(notice.event.get(name) is None for name in PRIVATE_ENVELOPE_FIELDS):
        return notice.event_text
    event = {**notice.event, **dict.fromkeys(PRIVATE_ENVELOPE_FIELDS)}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _read(entry: Entry) -> Notice:
    notice = notice_parse(entry)
    if notice.error is not None:  # not written by the projector: nobody sees it, the stream goes on
        log.warning("notice %s is unreadable: %s", notice.position, notice.error)
    elif notice.gap:
        log.warning("notices before %s were lost by the projector: subscribers will resync", notice.position)
    return notice
