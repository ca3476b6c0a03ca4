"""Per-client limits of the live stream: connections per client address, subscribe frames per connection and address.

Connections are counted in Redis, so the limit holds across ASGI workers and hosts: each open connection holds a
lease in its client address's sorted set (`read_models.keys.stream_clients_key`), scored by when it expires (Redis'
clock), renewed every third of the lease (STREAM_CONNECTION_LEASE_SECONDS, 60 s by default) while the connection
lives and removed when it ends. A worker that crashes cannot leak a lease for ever: its leases lapse within the lease
and stop counting, and the set itself has a TTL
(so Redis may also evict it when full: the count then starts again, a brief loosening, never a refusal).

Subscribe frames are counted twice. Per connection, in memory (a connection lives in one process; `SubscribeRate`,
STREAM_MAX_SUBSCRIBES_PER_MINUTE), always. Per client address, over all its connections and workers, in Redis
(`stream_subscribes_key`, a sliding minute on Redis' clock, `subscribe_allowed`, with
STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE): a higher limit, since one address may be many clients behind a NAT or
a proxy, so opening more connections buys an address only so many frames. The window has a TTL of the window itself;
evicted, it counts from zero again. When Redis cannot count, the per-connection limit still holds.
"""

from __future__ import annotations

import collections
import time

import redis

from read_models.keys import stream_clients_key, stream_subscribes_key

WINDOW_SECONDS = 60.0  # subscribe frames are counted over the last minute

# KEYS: the client's set. ARGV: the connection's member, the limit (0: renew, never refuse), the lease in seconds.
# Returns 1 when the connection holds a lease now, 0 when the client already holds `limit` live ones.
LEASE_SCRIPT = """
local key, member, limit, lease = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if limit > 0 and not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, string.format('%d', now + lease * 1000), member)
redis.call('EXPIRE', key, lease)
return 1
"""

# KEYS: the client's subscribe window. ARGV: a member naming this frame, the limit, the window in ms.
# Returns 1 when the frame is counted, 0 (and it is not) when the client already sent `limit` frames in the window.
SUBSCRIBE_SCRIPT = """
local key, member, limit, window = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, string.format('%d', now), member)
redis.call('PEXPIRE', key, window)
return 1
"""


def client_address(scope: dict) -> str:
    """The connection's client address as the ASGI server gives it (behind a proxy, start uvicorn with
    `--forwarded-allow-ips` so it is the client's, from X-Forwarded-For); `unknown` when there is none."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def lease_acquire(client: redis.Redis, address: str, member: str, limit: int, seconds: int) -> bool:
    """Take a lease of `seconds` for connection `member` of `address`; False when the address holds `limit` live
    leases."""
    return bool(client.eval(LEASE_SCRIPT, 1, stream_clients_key(address), member, limit, seconds))


def lease_renew(client: redis.Redis, address: str, member: str, seconds: int) -> None:
    """Extend the connection's lease to `seconds` from now (taking it again if it had lapsed)."""
    client.eval(LEASE_SCRIPT, 1, stream_clients_key(address), member, 0, seconds)


def lease_release(client: redis.Redis, address: str, member: str) -> None:
    """Give the connection's lease back."""
    client.zrem(stream_clients_key(address), member)


def subscribe_allowed(client: redis.Redis, address: str, frame: str, limit: int) -> bool:
    """Count subscribe frame `frame` (a name unique to the frame) of `address`; False, and not counted, when the
    address already sent `limit` frames in the last WINDOW_SECONDS, over all its connections."""
    window_ms = int(WINDOW_SECONDS * 1000)
    return bool(client.eval(SUBSCRIBE_SCRIPT, 1, stream_subscribes_key(address), frame, limit, window_ms))


class SubscribeRate:
    """At most `limit` subscribe frames in any WINDOW_SECONDS, for one connection."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: collections.deque[float] = collections.deque()

    def allow(self) -> bool:
        """Count one more frame now; False (and not counted) when the window already holds `limit`."""
        now = time.monotonic()
        while self._times and now - self._times[0] >= WINDOW_SECONDS:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True
