"""Opaque pagination cursors for `search_after`: the sort values of a page's last hit, bound to its query.

A cursor is base64url JSON `{"k": <query key>, "a": [sort values]}`. The query key is a digest of the list's
parameters (sort included), so a cursor replayed against a different query is refused instead of silently skipping
or repeating results.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from query_service.search.errors import InvalidParameter

MAX_CURSOR_CHARS = 1024


def query_key(params: Mapping[str, Any]) -> str:
    """A short digest of the parameters that define a result order."""
    canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def cursor_encode(key: str, sort_values: list[Any]) -> str:
    """The cursor of the page after the hit whose sort values are given."""
    raw = json.dumps({"k": key, "a": sort_values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, key: str, arity: int) -> list[Any]:
    """The `search_after` values of a cursor made by `cursor_encode` for the same query.

    Raises:
        InvalidParameter: the cursor is malformed, too long, or belongs to another query.
    """
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidParameter("cursor", "is too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("cursor", "is not a cursor this service issued") from None
    values = data.get("a") if isinstance(data, dict) else None
    if not isinstance(values, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
    ):
        raise InvalidParameter("cursor", "is not a cursor this service issued")
    if data.get("k") != key:
        raise InvalidParameter("cursor", "belongs to a different query (its filters or sort changed); start over")
    if len(values) != arity:
        raise InvalidParameter("cursor", "is not a cursor this service issued")
    return values
