"""Where the backing services are and which deployment this is: environment variables with local defaults.

The one place that reads them. Every process (command service, relay, projector, query service, tests) calls these
functions at start-up, never at import time. The defaults are the loopback ports that `make services` starts the
local stack on; each port has its own variable for when it is taken.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """An environment variable holds a value the system cannot use; the message names it."""


@dataclass(frozen=True)
class PortSetting:
    """A loopback port a local service listens on, and the environment variable that changes it."""

    env_var: str
    default: int

    @property
    def value(self) -> int:
        """The port in force: the environment variable's value, else the default."""
        raw = os.environ.get(self.env_var, str(self.default))
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingError(f"{self.env_var}={raw!r} is not a port number") from exc


POSTGRES_PORT = PortSetting("POSTGRES_PORT", 54320)
REDIS_PORT = PortSetting("REDIS_PORT", 63790)
KAFKA_PORT = PortSetting("KAFKA_PORT", 19092)
KAFKA_CONTROLLER_PORT = PortSetting("KAFKA_CONTROLLER_PORT", 19093)
OPENSEARCH_PORT = PortSetting("OPENSEARCH_PORT", 19200)
OPENSEARCH_TRANSPORT_PORT = PortSetting("OPENSEARCH_TRANSPORT_PORT", 19300)

# Redis evicts only keys with a TTL, soonest to expire first: the system gives TTLs exactly to what it re-creates
# (channel-layer queues, throttle windows, stream connection leases, heartbeats, freshness); see read_models.keys.
REDIS_MAXMEMORY_POLICY = "volatile-ttl"


def state_root() -> Path:
    """The one git-ignored folder holding local data, logs and pid files (`SERVICES_DIR` overrides)."""
    return Path(os.environ.get("SERVICES_DIR", REPO_ROOT / ".services")).resolve()


def database_url() -> str:
    """The command database: `DATABASE_URL`, else an embedded SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{state_root() / 'command-service' / 'db.sqlite3'}"


def kafka_bootstrap_servers() -> str:
    """Kafka brokers, comma-separated host:port: `KAFKA_BOOTSTRAP_SERVERS`, else the local node."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{KAFKA_PORT.value}"


def opensearch_url() -> str:
    """The OpenSearch HTTP endpoint: `OPENSEARCH_URL`, else the local node."""
    return os.environ.get("OPENSEARCH_URL") or f"http://127.0.0.1:{OPENSEARCH_PORT.value}"


def redis_url() -> str:
    """Redis: `REDIS_URL`, else the local server's database 0."""
    return os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{REDIS_PORT.value}/0"


def index_prefix() -> str:
    """`PROJECTOR_INDEX_PREFIX`: the deployment's namespace, so several (or test runs) share one cluster and Redis.

    It prefixes the read models' aliases and indices and every Redis key of the read side (notices, freshness,
    heartbeats, the fan-out's position).
    """
    return os.environ.get("PROJECTOR_INDEX_PREFIX", "")


def projector_group() -> str:
    """`PROJECTOR_GROUP`: the live projector's Kafka consumer group, whose progress readers report."""
    return os.environ.get("PROJECTOR_GROUP", "projector")


def env_flag(env_var: str, default: bool) -> bool:
    """A yes/no variable (1/0, true/false, yes/no, on/off); unset or empty is `default`.

    Raises:
        SettingError: any other value.
    """
    raw = os.environ.get(env_var, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE + _FALSE:
        raise SettingError(f"{env_var}={raw!r} must be 1 or 0")
    return raw in _TRUE


def env_choice(env_var: str, choices: tuple[str, ...], default: str) -> str:
    """A variable that takes one of `choices`; unset or empty is `default`.

    Raises:
        SettingError: any other value.
    """
    value = os.environ.get(env_var, "").strip().lower() or default
    if value not in choices:
        raise SettingError(f"{env_var}={value!r} must be one of {', '.join(choices)}")
    return value


def env_list(env_var: str, default: str = "") -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(env_var, default).split(",") if item.strip()]


def whole_number(env_var: str, default: int) -> int:
    """A whole-number variable of 0 or more; unset or empty is `default` (raises SettingError naming it otherwise)."""
    raw = os.environ.get(env_var, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingError(f"{env_var}={raw!r} must be a whole number (0 or more)")
    return int(raw)


def positive_int(env_var: str, default: int) -> int:
    """A whole-number variable above 0; unset or empty is `default` (raises SettingError naming it otherwise)."""
    raw = os.environ.get(env_var, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingError(f"{env_var}={raw!r} is not a whole number") from exc
    if value <= 0:
        raise SettingError(f"{env_var}={raw!r} must be positive")
    return value


def notice_retention() -> int:
    """`NOTICE_RETENTION`: at most this many notices are kept in the stream (default 100,000)."""
    return positive_int("NOTICE_RETENTION", 100_000)


def notice_max_age_seconds() -> int:
    """`NOTICE_MAX_AGE_SECONDS`: notices older than this are trimmed, and forgotten by redelivery's dedupe (1 day)."""
    return positive_int("NOTICE_MAX_AGE_SECONDS", 86_400)


def notice_max_bytes() -> int:
    """`NOTICE_MAX_BYTES`: about how many bytes of encoded notices the stream keeps (default 256 MiB)."""
    return positive_int("NOTICE_MAX_BYTES", 256 * 1024 * 1024)


def notice_max_document_bytes() -> int:
    """`NOTICE_MAX_DOCUMENT_BYTES`: a notice's document encoding to more than this many bytes goes out without its
    large text fields (`read_models.notices.bounded_document`; default 32 KiB)."""
    return positive_int("NOTICE_MAX_DOCUMENT_BYTES", 32 * 1024)


def redis_maxmemory() -> str:
    """`REDIS_MAXMEMORY`: the local Redis' `maxmemory` (redis-server's syntax: `1gb`, `512mb`, bytes; default 1gb).

    Above NOTICE_MAX_BYTES with room for the channel layer and caches: only keys with a TTL are evicted
    (REDIS_MAXMEMORY_POLICY), so the notice stream must fit beside them.
    """
    raw = os.environ.get("REDIS_MAXMEMORY", "") or "1gb"
    if not re.fullmatch(r"[1-9][0-9]*(b|k|kb|m|mb|g|gb)?", raw.strip().lower()):
        raise SettingError(f"REDIS_MAXMEMORY={raw!r} is not a size such as 1gb, 512mb or 1073741824")
    return raw.strip().lower()
