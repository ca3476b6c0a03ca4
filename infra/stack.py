"""The stack of local backing services, in start order."""

from __future__ import annotations

from pathlib import Path

from infra.kafka.service import Kafka
from infra.opensearch.service import OpenSearch
from infra.postgres.service import Postgres
from infra.redis.service import Redis
from infra.service import Service


def all_services(root: Path | None = None) -> list[Service]:
    """Every backing service the system needs, in the order they start (and the reverse of how they stop)."""
    return [Postgres(root), Redis(root), Kafka(root), OpenSearch(root)]
