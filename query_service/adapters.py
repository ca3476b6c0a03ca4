"""The one place where the query service's real adapters are built, once per process, on first use (never at import)."""

from __future__ import annotations

from functools import cache

import redis
from opensearchpy import OpenSearch

from runtime import redis_clients
from runtime.settings import opensearch_url

# Requests fail fast when OpenSearch is unreachable (the API answers 503); a search itself is bounded by this.
OPENSEARCH_TIMEOUT_SECONDS = 10


@cache
def opensearch() -> OpenSearch:
    """The shared OpenSearch client (thread-safe; a pool sized for the ASGI server's worker threads)."""
    return OpenSearch(opensearch_url(), timeout=OPENSEARCH_TIMEOUT_SECONDS, pool_maxsize=32, max_retries=0)


@cache
def redis_client() -> redis.Redis:
    """The shared Redis client (its own connection pool, timeouts: a hung Redis fails a request, not hangs it)."""
    return redis_clients.redis_client()
