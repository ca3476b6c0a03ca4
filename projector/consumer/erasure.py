"""Erasing a person from the read side beyond their own documents: the copies the live projector's writes never reach.

A `user.erased` event arrives after the `post.deleted` and `comment.deleted` of everything the person wrote; applied
in the live read models, those make tombstones that hold no personal field (`read_models.documents.
tombstone_stripped`), and other people's comments forget a deleted post's title. Two kinds of copies remain, which
`Erasure.erase` purges once the batch holding the event is applied (the live loop calls it; a rebuild does not):

- Kept indices (`projector.consumer.live_indices.kept_indices`): those a rebuild left for rollback, which receive no
  writes, and those a running rebuild or rollback is writing. In each, the person's posts, comments and author
  document are deleted (`delete_by_query` by author or user id) and other people's comments on the person's posts
  lose `post_title`. A rollback to such an index replays the log from its recorded position, the erasure included,
  and rebuilds tombstones where it needs them.
  A rebuild running meanwhile ends with no trace however the purge and its own writes interleave: it replays the
  log up to and past the erasure events (its catch-up reads at least what the live group has committed before it
  swaps, `projector.operations.rebuild.switch_aliases`), so whatever it had loaded of the person becomes tombstones
  by the same rule, and from its `user.erased` on its own ring knows the person as erased, so it skips whatever
  sealed events of theirs it still meets.
- The notice stream (`read_models.keys.notice_stream`), whose entries carry events and documents in the clear: every
  entry about the person that holds personal data is deleted (XDEL), its bytes taken off the stream's byte count in
  the same script (`PURGE_SCRIPT`). Entries of the tombstones themselves (ids, versions, flags) stay, and so does
  the `user.erased` notice, which tells subscribers. The dedupe set's members (`<type>:<id>:<version>`) hold ids only
  and are kept. A purge that fails for Redis is owed and retried with the next batch (Redis never fails a batch).
  Events apply in order per aggregate only, so an event of the person's content may be applied after their
  `user.erased`: its notice is not published while it holds their data (`announced`).

Other Redis state of the read side holds no personal data of a person: freshness records, heartbeats, the fan-out's
position, per-client connection leases (client addresses, not accounts). The channel layer's queues hold frames
already sent to subscribers, and expire within channels-redis' message expiry (60 s).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import redis
from opensearchpy import OpenSearch, helpers

from events.envelope import envelope_to_dict
from events.errors import UnsupportedEvent
from events.personal_data import KeyRing
from events.types import current_spec
from projector.consumer.documents import field_of
from projector.consumer.live_indices import kept_indices
from projector.consumer.writer import Applied
from read_models.documents import PERSONAL_FIELDS, public_document
from read_models.keys import notice_bytes_key, notice_stream
from read_models.notices import Notice, notice_parse

log = logging.getLogger(__name__)
PAGE = 500  # stream entries read per XRANGE, ids per terms query

# KEYS: the stream, its byte count. ARGV: entry ids. Deletes those still there, takes their size (as PUBLISH_SCRIPT
# counts it: the lengths of the fields and values) off the count when there is one; returns how many it deleted.
PURGE_SCRIPT = """
local stream, bytes = KEYS[1], KEYS[2]
local removed, size = 0, 0
for _, id in ipairs(ARGV) do
  local entry = redis.call('XRANGE', stream, id, id)
  if #entry == 1 then
    for _, value in ipairs(entry[1][2]) do size = size + #value end
    removed = removed + redis.call('XDEL', stream, id)
  end
end
local total = tonumber(redis.call('GET', bytes) or '')
if total ~= nil then
  total = total - size
  if total < 0 or redis.call('XLEN', stream) == 0 then total = 0 end
  redis.call('SET', bytes, string.format('%d', total))
end
return removed
"""


def holds_personal_data(notice: Notice, users: set[str], posts: set[str]) -> bool:
    """Whether a notice carries data of the `users` (or a copy of their `posts`' text) that erasure must purge.

    A notice is about them when its event is a user event of theirs or names them as its subject, its document's
    author is one of them, or it belongs to one of their posts (a post event, or a comment of the post: its
    document holds the post's title). It holds data when its event is a personal one (its payload in the clear) or
    its document has a personal field; a tombstone's notice, or the `user.erased` one, has neither.
    """
    event, document = notice.event, notice.document or {}
    if not event:
        return False  # a gap marker, or not the projector's
    aggregate_type, aggregate_id = event.get("aggregate_type"), str(event.get("aggregate_id"))
    post_id = aggregate_id if aggregate_type == "post" else str((event.get("payload") or {}).get("post_id"))
    about = (
        (aggregate_type == "user" and aggregate_id in users)
        or event.get("subject_id") in users
        or str(field_of(document, "author.id")) in users
        or (aggregate_type in ("post", "comment") and post_id in posts)
    )
    return about and (_personal_event(event) or _has_personal_field(document))


def _personal_event(event: dict[str, Any]) -> bool:
    try:
        return current_spec(str(event.get("event_type"))).personal
    except UnsupportedEvent:
        return True  # a type this release does not know: assume the worst


def _has_personal_field(document: dict[str, Any]) -> bool:
    holders = (document, document.get("author") if isinstance(document.get("author"), dict) else {})
    return any(holder.get(name) is not None for holder in holders for name in PERSONAL_FIELDS)


def _chunks(values: list[str], size: int = PAGE) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Erasure:
    """Purges erased people from the kept indices and the notice stream (see the module docstring).

    Attributes:
        owed: people whose notice purge failed for Redis; retried with the next call.
    """

    def __init__(self, client: OpenSearch, targets: dict[str, str], notices: redis.Redis | None, keys: KeyRing) -> None:
        self.client = client
        self.targets = targets  # the live read models ({model: alias}): where the person's post ids are found
        self.redis = notices
        self.keys = keys
        self.owed: set[str] = set()
        self._purge = None if notices is None else notices.register_script(PURGE_SCRIPT)

    def announced(self, applied: Sequence[Applied]) -> list[Applied]:
        """The applied events whose notices may go out: not those holding data of a person erased already."""
        kept = []
        for item in applied:
            named = {item.event.subject_id, field_of(item.document or {}, "author.id")}
            if item.event.aggregate_type == "user":
                named.add(item.event.aggregate_id)
            erased = {str(user_id) for user_id in named if user_id is not None and self.keys.erased(str(user_id))}
            notice = Notice("", envelope_to_dict(item.event), public_document(item.document)) if erased else None
            if notice is None or not holds_personal_data(notice, erased, set()):
                kept.append(item)
        return kept

    def erase(self, user_ids: Iterable[str]) -> None:
        """Purge the people erased by a batch just applied, and those whose purge is owed (a no-op for none).

        Raises for OpenSearch (the batch is then read again: every step is idempotent); never for Redis.
        """
        users = set(user_ids)
        if users:
            kept = kept_indices(self.client)
            if names := [index for indices in kept.values() for index in indices]:
                self.client.indices.refresh(index=",".join(names))  # a build writes with periodic refresh off
            posts = self._post_ids(users, [self.targets["posts"], *kept["posts"]])
            self._scrub(kept, users, posts)
        else:
            posts = set()
        pending = users | self.owed
        if pending and self._purge is not None:
            if users != pending:
                posts |= self._post_ids(pending - users, [self.targets["posts"]])
            self._purge_notices(pending, posts)

    def _post_ids(self, users: set[str], indices: list[str]) -> set[str]:
        """The ids of the people's posts in `indices` (tombstones keep their author's id)."""
        query = {"query": {"terms": {"author.id": sorted(users)}}, "_source": False}
        hits = helpers.scan(self.client, index=",".join(indices), query=query, size=PAGE, ignore_unavailable=True)
        return {hit["_id"] for hit in hits}

    def _scrub(self, kept: dict[str, list[str]], users: set[str], posts: set[str]) -> None:
        """Delete the people's documents from every kept index; other people's comments forget their posts' titles."""
        by_author = {"terms": {"author.id": sorted(users)}}
        queries = {"posts": by_author, "comments": by_author, "authors": {"ids": {"values": sorted(users)}}}
        for model, query in queries.items():
            for index in kept[model]:
                self.client.delete_by_query(index=index, body={"query": query}, conflicts="proceed", refresh=True)
        forget = {"source": "if (ctx._source.remove('post_title') == null) { ctx.op = 'noop'; }", "lang": "painless"}
        for index in kept["comments"]:
            for chunk in _chunks(sorted(posts)):
                query = {"terms": {"post_id": chunk}}  # (`post_title` is not indexed: no `exists` query finds it)
                self.client.update_by_query(
                    index=index, body={"query": query, "script": forget}, conflicts="proceed", refresh=True
                )
        log.info("erased %d people from the kept indices %s", len(users), [i for names in kept.values() for i in names])

    def _purge_notices(self, users: set[str], posts: set[str]) -> None:
        """Delete the stream entries that hold the people's data, a page at a time; owe the purge on a Redis error."""
        stream, cursor, removed = notice_stream(), "-", 0
        try:
            while page := self.redis.xrange(stream, cursor, "+", count=PAGE):
                doomed = [entry[0] for entry in page if holds_personal_data(notice_parse(entry), users, posts)]
                if doomed:
                    removed += int(self._purge(keys=[stream, notice_bytes_key()], args=doomed))
                last = page[-1][0]
                cursor = "(" + (last.decode() if isinstance(last, bytes) else last)
        except redis.RedisError as error:
            self.owed |= users
            log.warning("notices of %d erased people not purged yet (retried with the next batch): %s", len(users),
                        error)  # fmt: skip
            return
        self.owed -= users
        log.info("purged %d notices of %d erased people", removed, len(users))
