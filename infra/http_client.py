"""A small JSON-over-HTTP client from the standard library, for scripts that use the public APIs (the demo)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any


class ApiError(Exception):
    """The API did not answer, or answered with a status the caller did not expect; the message says which."""


@dataclass(frozen=True)
class Reply:
    """One response: status, headers and the decoded JSON body (None when empty)."""

    status: int
    headers: Message
    body: Any

    @property
    def replayed(self) -> bool:
        """True when the API replayed a stored response for a repeated Idempotency-Key."""
        return self.headers.get("Idempotent-Replayed") == "true"

    def expect(self, *statuses: int, what: str) -> Reply:
        """This reply if its status is one of `statuses`.

        Raises:
            ApiError: another status, with the API's error message and fields.
        """
        if self.status in statuses:
            return self
        detail = self.body if not isinstance(self.body, dict) else self.body.get("message", self.body)
        fields = self.body.get("fields") if isinstance(self.body, dict) else None
        raise ApiError(f"{what} failed: HTTP {self.status}: {detail}{f' {fields}' if fields else ''}")


class ApiClient:
    """Calls one service's HTTP API with JSON bodies and token authentication."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, key: str | None = None
    ) -> Reply:
        """One request; `token` is sent as `Authorization: Token ...`, `key` as the Idempotency-Key.

        Raises:
            ApiError: the service does not answer at all.
        """
        headers = {"Accept": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Reply(response.status, response.headers, _decoded(response.read()))
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, exc.headers, _decoded(exc.read()))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(
                f"nothing answers at {self.base_url} ({reason}): start the system with `make run` "
                "(or give the right address)"
            ) from exc


def _decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500]
