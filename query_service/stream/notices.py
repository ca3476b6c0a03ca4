"""From the notice stream (`read_models.notices`) to channel-layer messages: for the fan-out and resuming subscribers.

Every stream entry becomes one item, whether or not anyone may see it, so each item can name the entry before it
(`previous`) and a subscriber notices any item it did not get. An item carries:

- `position`, `previous`: the entry's stream id and the one before it (None when unknown: a gap). A gap marker
  (`read_models.notices.gap_encode`: the projector lost notices before it) is such a gap: its item has no event
  and `previous` None, so live subscribers close for a resume and resuming ones are told to resync;
- for a notice subscribers may see (`query_service.stream.visibility`): `event` (the encoded envelope, JSON
  text), `document` (JSON text, `null` when removed) and the filter keys `aggregate_type`, `tags`, `author_id`.

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
from query_service.stream.visibility import POST_LOOKUP_FIELDS, commented_post_id, notice_view
from read_models.keys import notice_stream
from read_models.notices import Entry, Notice, notice_parse

log = logging.getLogger(__name__)
BATCH_TYPE = "stream.notices"  # handled by the consumer's `stream_notices`
HEARTBEAT_TYPE = "stream.heartbeat"  # and `stream_heartbeat`
BATCH_ITEMS = 100
BATCH_BYTES = 256 * 1024  # a larger item travels alone


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


def posts_by_id(search: OpenSearch, post_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The visibility fields of these posts as the read model has them now (absent posts are left out)."""
    if not post_ids:
        return {}
    response = search.mget(
        index=alias("posts"), body={"ids": sorted(post_ids)}, params={"_source_includes": ",".join(POST_LOOKUP_FIELDS)}
    )
    return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}


def build_items(entries: Sequence[Entry], previous: str | None, search: OpenSearch) -> list[dict[str, Any]]:
    """One item per entry, in order (one post lookup for all of them).

    Args:
        entries: consecutive stream entries.
        previous: the id of the entry before the first one (None when it cannot be vouched for).
        search: the OpenSearch client, for the posts of comment notices.
    """
    parsed = [_read(entry) for entry in entries]
    post_ids = {post_id for notice in parsed if (post_id := commented_post_id(notice.event))}
    posts = posts_by_id(search, post_ids)
    items = []
    for notice in parsed:
        if notice.gap:  # nobody can vouch for what came before it
            items.append({"position": notice.position, "previous": None})
            previous = notice.position
            continue
        item: dict[str, Any] = {"position": notice.position, "previous": previous}
        view = notice_view(notice.event, notice.document, posts.get(commented_post_id(notice.event) or ""))
        if view is not None:
            item["event"] = notice.event_text
            item["document"] = notice.document_text if view.document is notice.document else json.dumps(view.document)
            item.update(aggregate_type=view.aggregate_type, tags=list(view.tags), author_id=view.author_id)
        items.append(item)
        previous = notice.position
    return items


def _read(entry: Entry) -> Notice:
    notice = notice_parse(entry)
    if notice.error is not None:  # not written by the projector: nobody sees it, the stream goes on
        log.warning("notice %s is unreadable: %s", notice.position, notice.error)
    elif notice.gap:
        log.warning("notices before %s were lost by the projector: subscribers will resync", notice.position)
    return notice
