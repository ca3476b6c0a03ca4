"""The consistency token: the aggregate version a write produced, which a read may ask to see.

The command service answers every write with `X-Consistency-Token: <aggregate type>:<id>:<version>`; a client
sends it back to the query service, which waits (bounded) until search shows that version and says how it went in
`X-Consistency-Status`. Both services build and parse the token here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from events.types import AGGREGATE_TYPES

TOKEN_HEADER = "X-Consistency-Token"
STATUS_HEADER = "X-Consistency-Status"  # "consistent", or "stale" when the wait timed out
TOKEN_FORMAT = f"<{'|'.join(AGGREGATE_TYPES)}>:<id>:<version>"
TOKEN_PATTERN = rf"^({'|'.join(AGGREGATE_TYPES)}):([0-9]{{1,19}}):([0-9]{{1,12}})$"  # the query API's schema states it
_TOKEN = re.compile(TOKEN_PATTERN)


@dataclass(frozen=True)
class ConsistencyToken:
    """An aggregate at a version: what a write produced, what a read waits for."""

    aggregate_type: str
    aggregate_id: str
    version: int

    def encode(self) -> str:
        """The header value, `<aggregate type>:<id>:<version>`."""
        return f"{self.aggregate_type}:{self.aggregate_id}:{self.version}"


def token_parse(raw: str) -> ConsistencyToken:
    """A token as `ConsistencyToken.encode` writes it (surrounding blanks allowed).

    Raises:
        ValueError: anything else; the message says the expected form.
    """
    match = _TOKEN.match(raw.strip())
    if not match:
        raise ValueError(f"must be {TOKEN_FORMAT}, as a command response sent it")
    return ConsistencyToken(match[1], match[2], int(match[3]))
