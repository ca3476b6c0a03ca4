"""What the projector tells the live side once a batch is searchable: one notice per event, and its progress.

Notices go to the Redis stream: the query service fans them out to WebSocket subscribers, and a subscriber that
reconnects resumes from its last stream id while that is still retained. Progress goes to a Redis hash: per
read-model consumer group, the newest event's commit time and when it became searchable, so readers can say how
fresh a list is. Both formats and key names are the read-model contract's (`read_models.notices`,
`read_models.freshness`, `read_models.keys`).

A notice states what its event did: an event that a later event of its aggregate supersedes (`Applied.superseded`,
later in the batch or already applied: its document is not the one as of that event) gets none. A batch's notices
are written by one Lua script (PUBLISH_SCRIPT), which writes each once per (aggregate type, id, version): it adds
the notice's `seen_member` to the dedupe set beside the stream (ZADD NX, scored by Redis' clock in ms) and appends
the entry only when the member is new, so a redelivered batch (a crash before the commit, a commit refused in a
rebalance, a replay) adds no entry. The same script trims the stream to its retention (`read_models.notices.
Retention`: count, age, and bytes, by an exact count of the encoded bytes the stream holds, kept beside it) and the
set by the same age and count, so the set remembers every notice the stream holds. A document too big for a notice
goes in its bounded form (`read_models.notices.bounded_document`, NOTICE_MAX_DOCUMENT_BYTES).

Redis only carries the live side, so its failure never fails a batch that is already searchable: the notices are
lost, counted and logged, and the next write that succeeds first appends a gap marker, from which readers know that
notices are missing there and tell subscribers to resync. The freshness record is advisory and is skipped likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from projector.consumer import metrics
from projector.consumer.writer import Applied
from read_models.freshness import FreshnessRecord, freshness_encode, freshness_parse
from read_models.keys import FRESHNESS_TTL_SECONDS, freshness_key, notice_bytes_key, notice_seen_key, notice_stream
from read_models.notices import Retention, gap_encode, notice_encode, seen_member
from runtime.settings import notice_max_document_bytes

log = logging.getLogger(__name__)

# KEYS: the stream, its dedupe set, its byte count. ARGV: max length, max age (ms), max bytes, the set's count bound,
# then per entry its dedupe member ("" for a gap marker: always written), its field count and its fields and values.
# Returns the number of entries written. Redis' own clock scores the set, so ages compare with stream ids (Redis'
# clock too). The byte count is the sum of the field and value lengths of the entries the stream holds (counted once
# from the stream when it is missing: a stream from before it); trimming walks from the oldest entry, dropping while
# an entry is past the count, the age or the byte budget, and keeps at least the newest.
PUBLISH_SCRIPT = """
local stream, seen, bytes = KEYS[1], KEYS[2], KEYS[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local oldest_ms = now - tonumber(ARGV[2])
local max_length, budget = tonumber(ARGV[1]), tonumber(ARGV[3])
local score = string.format('%d', now)
local function size_of(fields)
  local size = 0
  for _, value in ipairs(fields) do size = size + #value end
  return size
end
local total = tonumber(redis.call('GET', bytes) or '')
if total == nil then
  total = 0
  local cursor = '-'
  repeat
    local chunk = redis.call('XRANGE', stream, cursor, '+', 'COUNT', 100)
    for _, entry in ipairs(chunk) do total = total + size_of(entry[2]) end
    if #chunk > 0 then cursor = '(' .. chunk[#chunk][1] end
  until #chunk < 100
end
local written = 0
local i = 5
while i <= #ARGV do
  local member, count = ARGV[i], tonumber(ARGV[i + 1])
  if member == '' or redis.call('ZADD', seen, 'NX', score, member) == 1 then
    redis.call('XADD', stream, '*', unpack(ARGV, i + 2, i + 1 + 2 * count))
    for j = i + 2, i + 1 + 2 * count do total = total + #ARGV[j] end
    written = written + 1
  end
  i = i + 2 + 2 * count
end
local length = redis.call('XLEN', stream)
local cursor, dropped = '-', false
while length > 1 do
  local chunk = redis.call('XRANGE', stream, cursor, '+', 'COUNT', 10)
  local kept = #chunk == 0
  for _, entry in ipairs(chunk) do
    local millis = tonumber(string.match(entry[1], '^(%d+)'))
    if length <= 1 or not (length > max_length or millis < oldest_ms or total > budget) then
      kept = true
      break
    end
    total, length, cursor, dropped = total - size_of(entry[2]), length - 1, '(' .. entry[1], true
  end
  if kept then break end
end
if dropped then
  redis.call('XTRIM', stream, 'MINID', redis.call('XRANGE', stream, cursor, '+', 'COUNT', 1)[1][1])
end
if length == 0 or total < 0 then total = 0 end
redis.call('SET', bytes, string.format('%d', total))
redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. string.format('%d', oldest_ms))
redis.call('ZREMRANGEBYRANK', seen, 0, -(tonumber(ARGV[4]) + 1))
return written
"""


class Notices:
    """Publishes notices and progress to Redis.

    Attributes:
        lost: notices not written since the last gap marker (a marker precedes the next ones written).
        retention: the stream's bounds (from the environment unless given).
        written: entries the last successful call appended (redelivered notices are not appended again).
    """

    def __init__(self, client: redis.Redis, group: str, retention: Retention | None = None) -> None:
        self.client = client
        self.group = group
        self.retention = retention or Retention.from_env()
        self.lost = 0
        self.written = 0
        self.max_document_bytes = notice_max_document_bytes()
        self._script = client.register_script(PUBLISH_SCRIPT)

    def publish(self, applied: Sequence[Applied]) -> None:
        """One stream entry per applied event not superseded, once per (aggregate, version), then the group's
        freshness; a no-op for an empty batch.

        A gap marker goes first when earlier notices were lost. Never raises for Redis (down, or hung past the
        client's socket timeout): the notices are then lost, and the marker is owed to the next call.
        """
        if not applied and not self.lost:
            return
        announced = [item for item in applied if not item.superseded]
        entries: list[tuple[str, dict[str, bytes | str]]] = []
        if self.lost:
            entries.append(("", gap_encode(self.lost)))
        entries += [
            (seen_member(item.event), notice_encode(item.event, item.document, self.max_document_bytes))
            for item in announced
        ]
        args: list[bytes | str | int] = [
            self.retention.count,
            self.retention.max_age_seconds * 1000,
            self.retention.max_bytes,
            self.retention.count,
        ]
        for member, fields in entries:
            args += [member, len(fields)]
            for name, value in fields.items():
                args += [name, value]
        pipe = self.client.pipeline(transaction=False)
        self._script(keys=[notice_stream(), notice_seen_key(), notice_bytes_key()], args=args, client=pipe)
        if applied:
            newest = max(item.event.occurred_at for item in applied)
            progress = FreshnessRecord(last_occurred_at=newest, last_applied_at=datetime.now(UTC))
            pipe.hset(freshness_key(), self.group, freshness_encode(progress))
            pipe.expire(freshness_key(), FRESHNESS_TTL_SECONDS)  # re-created by the next batch: Redis may evict it
        try:
            written, *_ = pipe.execute()
        except redis.RedisError as error:  # a marker that did go out is harmless: the next one says the same
            self.lost += len(announced)
            metrics.NOTICES_LOST.inc(len(announced))
            log.warning(
                "notices of %d events lost (%d since the last gap marker): %s", len(announced), self.lost, error
            )
            return
        self.written = int(written) - (1 if self.lost else 0)
        if self.lost:
            log.warning("Redis is back: a gap marker stands for %d lost notices", self.lost)
            metrics.NOTICE_GAPS.inc()
            self.lost = 0

    def settle(self) -> None:
        """Write the gap marker owed for lost notices now, if any (an idle or stopping projector's); never raises."""
        self.publish(())

    def freshness(self) -> FreshnessRecord | None:
        """This group's last progress record, if any."""
        raw = self.client.hget(freshness_key(), self.group)
        return freshness_parse(raw) if raw else None
