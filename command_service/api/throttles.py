"""Rate limits of the command API: DRF's SimpleRateThrottle, counted in Redis through the `throttle` cache.

Scopes (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from THROTTLE_* variables; see README):

- `login_username` and `login_address`: `POST /auth/token/` per username (case-insensitive) and per client address;
- `register_address`: `POST /users/` per client address;
- `write_user`: every POST, PATCH, PUT and DELETE of an authenticated user;
- `anon_read`: anonymous GETs (the detail reads) per client address.

The admin's sign-in form is behind the two login scopes too (`sign_in_throttled`), counted in the same counters, so
a password cannot be guessed through /admin/login/ either.

DRF runs every throttle in `APIView.initial`, before the handler: a throttled login never reaches the password hash.
The client address is DRF's `get_ident` (REMOTE_ADDR, or X-Forwarded-For as NUM_PROXIES says).

Throttles fail open: when Redis is unreachable or hung (the cache has short socket timeouts and no retries), the
request is served and a warning logged. Rates are read per request, so `override_settings` changes them, and a
scope whose rate is None is not counted at all.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it is loading
    from rest_framework.request import Request
    from rest_framework.views import APIView

CACHE_ALIAS = "throttle"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

WARN_EVERY_SECONDS = 10.0

log = logging.getLogger(__name__)
_warned: dict[tuple[str, str], float] = {}  # (scope, Redis location) -> when it was last logged (monotonic)


def _digest(value: str) -> str:
    """A short fixed-length form of an identity, so that no input makes a long or odd cache key."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _warn(scope: str, exc: Exception) -> None:
    """Log that a scope failed open: at most once per WARN_EVERY_SECONDS per scope and Redis, not once a request."""
    where = (scope, str(settings.CACHES[CACHE_ALIAS].get("LOCATION")))
    now = time.monotonic()
    if now - _warned.get(where, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
        _warned[where] = now
        log.warning("throttle %s not applied, Redis unavailable: %s", scope, exc)


class RedisRateThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle whose rate is read when it is built and whose counters live in the `throttle` cache.

    Every counter is written with the scope's duration as its TTL (DRF's `cache.set(key, history, duration)`).
    """

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        """The Redis cache of the throttles (looked up per use, so a test may point it elsewhere)."""
        return caches[CACHE_ALIAS]

    def get_rate(self) -> str | None:
        """The scope's rate in the current settings; None (not throttled) for a scope without one."""
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def identity(self, request: Request, view: APIView) -> str | None:
        """Who is counted: a string, or None when this request is not counted by this scope."""
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        """The counter's key: the scope and a digest of the identity."""
        ident = self.identity(request, view)
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": _digest(ident)}

    def wait(self) -> float:
        """Seconds until the request that fills the window leaves it, when the next one is let through (DRF's own
        estimate spreads the remaining requests over the window, and gives none once the window is over-full)."""
        filling = self.history[self.num_requests - 1] if len(self.history) >= self.num_requests else self.now
        return max(self.duration - (self.now - filling), 1.0)

    def allow_request(self, request: Request, view: APIView) -> bool:
        """DRF's decision, or True (with a warning) when Redis cannot be reached in time."""
        try:
            return super().allow_request(request, view)
        except redis.RedisError as exc:
            _warn(self.scope, exc)
            return True


class LoginUsernameThrottle(RedisRateThrottle):
    """Sign-in attempts per username, whatever its case (a body without a string username is not counted here)."""

    scope = "login_username"

    def identity(self, request: Request, view: APIView) -> str | None:
        data: Any = request.data if hasattr(request, "data") else request.POST  # the API's body, or the admin's form
        username = data.get("username") if isinstance(data, dict) else None
        return username.casefold() if isinstance(username, str) else None


class LoginAddressThrottle(RedisRateThrottle):
    """Sign-in attempts per client address."""

    scope = "login_address"

    def identity(self, request: Request, view: APIView) -> str | None:
        return self.get_ident(request)


class RegisterAddressThrottle(RedisRateThrottle):
    """Registrations per client address."""

    scope = "register_address"

    def identity(self, request: Request, view: APIView) -> str | None:
        return self.get_ident(request) if request.method == "POST" else None


class WriteUserThrottle(RedisRateThrottle):
    """Every write (POST, PUT, PATCH, DELETE) of an authenticated user, per user."""

    scope = "write_user"

    def identity(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if request.method not in WRITE_METHODS or user is None or not user.is_authenticated:
            return None
        return str(user.pk)


class AnonReadThrottle(RedisRateThrottle):
    """Anonymous reads (GET, HEAD) per client address."""

    scope = "anon_read"

    def identity(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if request.method not in ("GET", "HEAD") or (user is not None and user.is_authenticated):
            return None
        return self.get_ident(request)


def sign_in_throttled(login: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`login`, a Django sign-in view (the admin's), behind the API sign-in's throttles: same scopes, same counters.

    A refused POST answers 429 with `Retry-After` before the form is read or a password hashed; GETs pass.
    """

    @functools.wraps(login)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            throttles = (LoginUsernameThrottle(), LoginAddressThrottle())
            waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, None)]  # type: ignore[arg-type]
            if waits:
                retry_after = math.ceil(max(waits))
                response = HttpResponse(
                    f"Too many sign-in attempts: try again in {retry_after} s.\n", status=429, content_type="text/plain"
                )
                response["Retry-After"] = str(retry_after)
                return response
        return login(request, *args, **kwargs)

    return throttled
