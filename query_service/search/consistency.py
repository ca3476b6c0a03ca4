"""Read-your-writes: wait, bounded, until the aggregate version a consistency token names is visible to search.

The command service answers every write with a consistency token (`events.consistency`) naming a version. The read
model document of that aggregate carries the version that built it, so "visible" means a search (not a realtime
get: lists are searches) finds the document at that version or newer.
"""

from __future__ import annotations

import time

from opensearchpy import OpenSearch

from events.consistency import TOKEN_HEADER, ConsistencyToken, token_parse
from query_service.search import gateway
from query_service.search.errors import InvalidParameter
from read_models.documents import VERSION_FIELDS

POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.2


def token_read(raw: str) -> ConsistencyToken:
    """The token a request sent (`events.consistency`); raises InvalidParameter for anything else."""
    try:
        return token_parse(raw)
    except ValueError as error:
        raise InvalidParameter(TOKEN_HEADER, str(error)) from None


def version_visible(*, client: OpenSearch, token: ConsistencyToken) -> bool:
    """Whether search already sees the token's aggregate at its version or later."""
    model, field = VERSION_FIELDS[token.aggregate_type]
    source = gateway.get_source(client, model, token.aggregate_id, [field])
    return bool(source) and (source.get(field) or 0) >= token.version


def version_wait(*, client: OpenSearch, token: ConsistencyToken, timeout: float) -> bool:
    """Poll until the version is visible or `timeout` seconds passed; True when it became visible.

    Polling starts fast and backs off (the projector's batches take tens of milliseconds), so a satisfied wait
    adds little latency and an unsatisfied one costs a handful of cheap id lookups.
    """
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST_SECONDS
    while True:
        if version_visible(client=client, token=token):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, POLL_MAX_SECONDS)
