"""What `Idempotency-Key` needs from storage: the first response to a key, kept until it expires.

The HTTP side (api/idempotency.py) decides when to replay; a store only keeps records. It writes in whatever
transaction is open, so that a response is stored in the same transaction as the write it describes.

Keys are kept per caller (`caller_scope`): an authenticated user's are theirs alone, and an anonymous caller's
belong to its client address, so one anonymous client never replays another's response (a registration's, say)
by sending the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredResponse:
    """The first successful response to a request with a key, and the fingerprint of that request."""

    fingerprint: str  # sha256 of method, path and body
    status_code: int
    body: bytes  # the rendered JSON, b"" for none
    headers: dict[str, str]  # those a replay repeats (ETag, Location, the consistency token)
    created_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        """Whether the key still replays at `now`; after expiry it starts afresh."""
        return self.expires_at > now


def caller_scope(user_id: int | None, client_address: str | None) -> str:
    """The scope of a caller's keys: `user:<id>` for a user, else `anonymous:<digest>` of the client address.

    The address is digested (sha256, 40 hex digits): the scope stays within its column whatever a forwarded-for
    header held, and records do not keep the address itself. An anonymous caller whose address is unknown gets
    the scope `anonymous`, shared by every such caller (none does, behind DRF's address handling).

    Args:
        user_id: the authenticated caller's id, None for an anonymous caller.
        client_address: the anonymous caller's address as DRF's throttles see it (`BaseThrottle.get_ident`).
    """
    if user_id is not None:
        return f"user:{user_id}"
    if not client_address:
        return "anonymous"
    return f"anonymous:{hashlib.sha256(client_address.encode()).hexdigest()[:40]}"


class KeyTaken(Exception):
    """Another request stored a response under this key first."""


class IdempotencyStore(Protocol):
    """Responses by (scope, key): the scope is the caller, so two users' keys never meet."""

    def find(self, scope: str, key: str) -> StoredResponse | None:
        """The response stored under the key, expired or not; None when there is none."""

    def forget(self, scope: str, key: str) -> None:
        """Delete the response under the key (an expired one, before the key is used afresh)."""

    def remember(self, scope: str, key: str, response: StoredResponse) -> None:
        """Store the response under the key (raises KeyTaken when a concurrent request stored one first)."""

    def prune(self, now: datetime) -> int:
        """Delete every response expired by `now`; returns how many went."""
