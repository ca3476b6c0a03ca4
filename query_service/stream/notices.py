"""From the projector's notice stream to channel-layer messages: shared by the fan-out and by resuming subscribers.

Every stream entry becomes one message, whether or not anyone may see it, so each message can name the entry
before it (`previous`) and a subscriber notices any message it did not get. A message carries:

- `position`, `previous`: the entry's stream id and the one before it (None when unknown: a gap);
- for a notice subscribers may see (`query_service.stream.visibility`): `event` (the encoded envelope, JSON
  text), `document` (JSON text, `null` when removed) and the filter keys `aggregate_type`, `tags`, `author_id`.

A heartbeat (`HEARTBEAT_TYPE`) names the position of the last message sent, while the stream is idle.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import redis
from opensearchpy import OpenSearch

from projector.indices import index_prefix
from projector.notices import notice_stream
from query_service.search.read_models import alias
from query_service.stream.positions import StreamBounds, bounds_from_info
from query_service.stream.visibility import POST_LOOKUP_FIELDS, commented_post_id, notice_view

log = logging.getLogger(__name__)
MESSAGE_TYPE = "stream.notice"  # handled by the consumer's `stream_notice`
HEARTBEAT_TYPE = "stream.heartbeat"  # and `stream_heartbeat`
type Entry = tuple[bytes | str, dict[bytes, bytes]]  # (stream id, fields) as redis-py returns them


def group_name() -> str:
    """The channel-layer group every subscriber joins; namespaced like the notice stream."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", f"{index_prefix()}live")[:90]


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


def build_messages(entries: Sequence[Entry], previous: str | None, search: OpenSearch) -> list[dict[str, Any]]:
    """One message per entry, in order (one post lookup for the whole batch).

    Args:
        entries: consecutive stream entries.
        previous: the id of the entry before the first one (None when it cannot be vouched for).
        search: the OpenSearch client, for the posts of comment notices.
    """
    parsed = [_parse(entry) for entry in entries]
    post_ids = {post_id for _, event, _, _ in parsed if (post_id := commented_post_id(event))}
    posts = posts_by_id(search, post_ids)
    messages = []
    for position, event, document, raw in parsed:
        message: dict[str, Any] = {"type": MESSAGE_TYPE, "position": position, "previous": previous}
        view = notice_view(event, document, posts.get(commented_post_id(event) or ""))
        if view is not None:
            message["event"] = raw["event"]
            message["document"] = raw["document"] if view.document is document else json.dumps(view.document)
            message.update(aggregate_type=view.aggregate_type, tags=list(view.tags), author_id=view.author_id)
        messages.append(message)
        previous = position
    return messages


def _parse(entry: Entry) -> tuple[str, dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    entry_id, fields = entry
    position = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    try:
        raw = {"event": fields[b"event"].decode(), "document": fields.get(b"document", b"null").decode()}
        event, document = json.loads(raw["event"]), json.loads(raw["document"])
        if not isinstance(event, dict) or not isinstance(document, dict | None):
            raise ValueError("not JSON objects")
    except (KeyError, ValueError) as error:  # not written by the projector: nobody sees it, the stream goes on
        log.warning("notice %s is unreadable: %s", position, error)
        return position, {}, None, {}
    return position, event, document, raw
