"""Redis clients that cannot hang: every one the system builds has a read and a connect timeout.

A Redis that is down refuses connections at once, but one that is hung (SIGSTOPped, a full network buffer) accepts
them and never answers: without a socket timeout a client would wait for ever. Callers treat a timeout as any other
`redis.RedisError`.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from runtime.settings import redis_url

SOCKET_TIMEOUT_SECONDS = 5.0  # a command's answer; above every blocking read the system issues (at most 1 s)
CONNECT_TIMEOUT_SECONDS = 2.0


def redis_timeouts(socket_timeout: float = SOCKET_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The timeout options of a redis-py (sync or asyncio) client or connection pool."""
    return {"socket_timeout": socket_timeout, "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS}


def redis_client(socket_timeout: float = SOCKET_TIMEOUT_SECONDS) -> redis.Redis:
    """A client of REDIS_URL with timeouts.

    A command that fails on its connection (one Redis closed when it restarted) is retried once at once; one that
    timed out is not, so a hung Redis costs a call one `socket_timeout` (redis-py's default retries three times,
    timeouts included, with growing pauses).
    """
    retry = Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    return redis.Redis.from_url(redis_url(), retry=retry, **redis_timeouts(socket_timeout))
