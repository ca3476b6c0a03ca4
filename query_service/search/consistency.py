"""Read-your-writes: wait, bounded, until the aggregate version a consistency token names is visible to search.

The command service answers every write with a consistency token (`events.consistency`) naming a version. The read
model document of that aggregate carries the version that built it, so "visible" means a search (not a realtime
get: lists are searches) finds the document at that version or newer, and public: one the lists show
(`query_service.stream.visibility.public_now`: a published, undeleted post; a live comment of one; a registered
author).

A token naming an aggregate the lists do not show (a draft, a deleted comment, a comment of an unpublished post)
answers exactly as one naming an id that does not exist: polled until the wait runs out, then `stale`. The service
has no authentication and a token is only three numbers, so anything else would tell anyone which drafts exist and
how far they were edited. Each poll does the same lookups whether the aggregate exists or not (a comment's post is
looked up even when the comment is not found), so the time taken tells nothing either. The price: the token of a
write that takes content out of the lists (unpublish, archive, delete) also answers `stale` after the full wait,
its list read only once the wait is over.
"""

from __future__ import annotations

import time

from opensearchpy import OpenSearch

from events.consistency import TOKEN_HEADER, ConsistencyToken, token_parse
from query_service.search import gateway
from query_service.search.errors import InvalidParameter
from query_service.stream.visibility import LOOKUP_FIELDS, public_now
from read_models.documents import VERSION_FIELDS

POLL_FIRST_SECONDS = 0.02
NO_ID = "none"  # no aggregate has it (ids are digits): what a comment not found has for its post
POLL_MAX_SECONDS = 0.2


def token_read(raw: str) -> ConsistencyToken:
    """The token a request sent (`events.consistency`); raises InvalidParameter for anything else."""
    try:
        return token_parse(raw)
    except ValueError as error:
        raise InvalidParameter(TOKEN_HEADER, str(error)) from None


def version_visible(*, client: OpenSearch, token: ConsistencyToken) -> bool:
    """Whether search already sees the token's aggregate at its version or later, and public (see above)."""
    model, field = VERSION_FIELDS[token.aggregate_type]
    source = gateway.get_source(client, model, token.aggregate_id, LOOKUP_FIELDS[model])
    post = None
    if token.aggregate_type == "comment":  # looked up found or not, so that both take the same time
        post_id = source.get("post_id") if source else None
        post = gateway.get_source(client, "posts", str(post_id or NO_ID), LOOKUP_FIELDS["posts"])
    if source is None or not public_now(token.aggregate_type, source, post):
        return False
    return (source.get(field) or 0) >= token.version


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
