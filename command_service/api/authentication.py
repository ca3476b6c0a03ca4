"""`Authorization: Token <key>`: knox's hashed, expiring tokens (several per user, each revocable).

knox refuses an unknown, expired (deleting it) or revoked token and an inactive user's token with 401. Two changes
here: a key that is not UTF-8 is refused like any wrong key (knox would fail on decoding it, a 500), and a request
costs one query (knox also reads every other token of the user on each request to delete the expired ones; sign-in
prunes them instead, `apps.users.tokens.token_issue`).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

INVALID_TOKEN = "Invalid token."


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication with the scheme `Token` (REST_KNOX's AUTH_HEADER_PREFIX)."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """The user and token of a key; 401 for a key that is unknown, expired, revoked or not text."""
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed(INVALID_TOKEN) from None
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        """Delete `auth_token` if it has expired (True: it is refused); the user's other tokens are not read."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False
