"""Redis from the Debian package, without persistence: it carries fan-out and caches, never the only copy of data.

Its memory is bounded (REDIS_MAXMEMORY) and only keys with a TTL may be evicted (REDIS_MAXMEMORY_POLICY): the
system gives TTLs exactly to what it re-creates, so a full Redis drops those and refuses writes of the rest (OOM).
"""

from __future__ import annotations

import redis

from infra.process import ServiceError
from infra.service import Service, apt_install, require_executable
from runtime.settings import REDIS_MAXMEMORY_POLICY, REDIS_PORT, redis_maxmemory


class Redis(Service):
    """A private redis-server on a loopback port."""

    name = "redis"
    ports = (REDIS_PORT,)
    start_timeout = 20.0

    @property
    def port(self) -> int:
        return self.ports[0].value

    def prepare(self) -> None:
        try:
            require_executable("redis-server", "the Debian package redis-server")
        except ServiceError:  # missing: install it, then look again
            apt_install("redis-server")
            require_executable("redis-server", "the Debian package redis-server")
        (self.dir / "data").mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [
            require_executable("redis-server", "the Debian package redis-server"),
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir / "data"),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
            "--maxmemory", redis_maxmemory(), "--maxmemory-policy", REDIS_MAXMEMORY_POLICY,
        ]  # fmt: skip

    def is_healthy(self) -> bool:
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2) as client:
            return bool(client.ping())

    def endpoint(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client_env(self) -> dict[str, str]:
        return {"REDIS_URL": self.endpoint()}
