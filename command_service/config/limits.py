"""The command service's rate limits and token lifetime, from environment variables (see README, Configuration).

Read by config/settings.py at start-up; pure Python, so that a bad value fails the start naming its variable.
"""

from __future__ import annotations

import os
import re
from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry

from runtime.redis_clients import redis_timeouts
from runtime.settings import SettingError, index_prefix, positive_int, redis_url, whole_number

# scope (api/throttles.py) -> (variable, default rate); a rate is N/s, N/min, N/hour or N/day, or "off".
THROTTLE_RATES = {
    "login_username": ("THROTTLE_LOGIN_USERNAME_RATE", "10/min"),
    "login_address": ("THROTTLE_LOGIN_ADDRESS_RATE", "30/min"),
    "register_address": ("THROTTLE_REGISTER_ADDRESS_RATE", "60/hour"),
    "write_user": ("THROTTLE_WRITE_USER_RATE", "120/min"),
    "anon_read": ("THROTTLE_ANON_READ_RATE", "300/min"),
}
# A throttle's Redis call waits at most this long: a hung Redis delays a request by about this, per throttle.
THROTTLE_SOCKET_TIMEOUT_SECONDS = 0.5
_RATE = re.compile(r"([1-9][0-9]*)/(s|sec|m|min|h|hour|d|day)")
_OFF = ("off", "none", "0")


def throttle_rates() -> dict[str, str | None]:
    """DRF's DEFAULT_THROTTLE_RATES: each scope's rate, None where its variable says `off`.

    Raises:
        SettingError: a value that is neither a rate nor `off`.
    """
    rates: dict[str, str | None] = {}
    for scope, (env_var, default) in THROTTLE_RATES.items():
        raw = os.environ.get(env_var, "").strip().lower() or default
        if raw in _OFF:
            rates[scope] = None
        elif _RATE.fullmatch(raw):
            rates[scope] = raw
        else:
            raise SettingError(f"{env_var}={raw!r} must be a rate such as 10/min (s, min, hour, day) or off")
    return rates


def num_proxies() -> int:
    """`NUM_PROXIES`: how many reverse proxies stand before the service (DRF's NUM_PROXIES); unset: 0, so the client
    address is REMOTE_ADDR and an X-Forwarded-For sent by the client itself is ignored (never trusted by default).

    Raises:
        SettingError: a value that is not a whole number of 0 or more.
    """
    return whole_number("NUM_PROXIES", 0)


def throttle_cache() -> dict[str, Any]:
    """The `throttle` cache: Redis at REDIS_URL, keys under the deployment's namespace (`<PROJECTOR_INDEX_PREFIX>
    throttle:`), short socket timeouts and no retries, so that an unreachable or hung Redis fails a throttle fast."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url(),
        "KEY_PREFIX": f"{index_prefix()}throttle",
        "OPTIONS": {**redis_timeouts(THROTTLE_SOCKET_TIMEOUT_SECONDS), "retry": Retry(NoBackoff(), 0)},
    }


def token_ttl_seconds() -> int:
    """`AUTH_TOKEN_TTL_SECONDS`: how long an API token is valid after sign-in (default 1 day)."""
    return positive_int("AUTH_TOKEN_TTL_SECONDS", 86_400)
