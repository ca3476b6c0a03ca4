"""Endpoints of the real backing services for the integration suite.

Each endpoint comes from its environment variable (`make test` sets them for the stack `make services` runs).
When one is not given and a Docker engine answers, a throwaway container from testcontainers stands in; otherwise
the test fails with one line saying how to start the services. It is never skipped silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from kafka import KafkaAdminClient

from events.topics import ensure_topics

HOW_TO_START = "start the services with `make services` (or run the whole suite with `make test`)"


def docker_answers() -> bool:
    """True when a Docker engine (not just the client) responds."""
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def containers() -> Iterator[ExitStack]:
    """Holds the testcontainers this session started, stopping them at its end."""
    with ExitStack() as stack:
        yield stack


def _endpoint(env_var: str, containers: ExitStack, from_container: Callable[[ExitStack], str]) -> str:
    value = os.environ.get(env_var)
    if value:
        return value
    if docker_answers():
        return from_container(containers)
    pytest.fail(f"{env_var} is not set and no Docker engine answers: {HOW_TO_START}", pytrace=False)


def _started(stack: ExitStack, container: Any) -> Any:
    return stack.enter_context(container)


@pytest.fixture(scope="session")
def postgres_url(containers: ExitStack) -> str:
    """A PostgreSQL URL (`DATABASE_URL` when it names PostgreSQL)."""

    def start(stack: ExitStack) -> str:
        from testcontainers.community.postgres import PostgresContainer

        pg = _started(stack, PostgresContainer("postgres:15", driver=None))
        return pg.get_connection_url()

    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith(("postgres://", "postgresql://")):
        pytest.fail(f"DATABASE_URL={url} is not a PostgreSQL URL: the integration suite needs one; {HOW_TO_START}")
    return _endpoint("DATABASE_URL", containers, start)


@pytest.fixture(scope="session")
def redis_url(containers: ExitStack) -> str:
    """A Redis URL (`REDIS_URL`)."""

    def start(stack: ExitStack) -> str:
        from testcontainers.community.redis import RedisContainer

        container = _started(stack, RedisContainer("redis:7"))
        return f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"

    return _endpoint("REDIS_URL", containers, start)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(containers: ExitStack) -> Iterator[str]:
    """Kafka bootstrap servers (`KAFKA_BOOTSTRAP_SERVERS`), with event topics of this run's own.

    Every test run writes and reads topics under a fresh EVENTS_TOPIC_PREFIX (inherited by the processes tests
    start), so runs never see each other's events, nor those of a `make run` on the same machine. They are
    deleted at the end of the run.
    """

    def start(stack: ExitStack) -> str:
        from testcontainers.community.kafka import KafkaContainer

        return _started(stack, KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft()).get_bootstrap_server()

    servers = _endpoint("KAFKA_BOOTSTRAP_SERVERS", containers, start)
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    os.environ["EVENTS_TOPIC_PREFIX"] = prefix
    ensure_topics(servers)
    yield servers
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.delete_topics([topic for topic in admin.list_topics() if topic.startswith(prefix)])
    admin.close()
    del os.environ["EVENTS_TOPIC_PREFIX"]


@pytest.fixture(scope="session")
def opensearch_url(containers: ExitStack) -> str:
    """An OpenSearch HTTP URL (`OPENSEARCH_URL`)."""

    def start(stack: ExitStack) -> str:
        from testcontainers.community.opensearch import OpenSearchContainer

        container = _started(stack, OpenSearchContainer("opensearchproject/opensearch:2.19.0"))
        return f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9200)}"

    return _endpoint("OPENSEARCH_URL", containers, start)


def run_database_url() -> str:
    """The URL of the PostgreSQL database pytest-django created for this run (for processes and DB-API readers)."""
    from django.db import connection

    s = connection.settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
