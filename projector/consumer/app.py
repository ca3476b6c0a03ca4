"""Wiring: the one place where the projector's real adapters are built from the environment (nothing at import)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import partial

from kafka import KafkaConsumer
from opensearchpy import OpenSearch

from events.topics import dead_letter_spec, ensure_topics, event_topics
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.erasure import Erasure
from projector.consumer.holds import Holds
from projector.consumer.live_indices import ensure_live_indices
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.notices import Notices
from projector.consumer.scripts import install_scripts
from projector.consumer.subject_keys import KafkaKeyRing
from projector.consumer.writer import Writer
from runtime.redis_clients import redis_client
from runtime.settings import kafka_bootstrap_servers, opensearch_url, projector_group

# Records a batch takes at most. A batch costs a fixed number of requests (`projector.consumer.writer`), so a larger
# one drains a backlog faster (bench-projector, 2,000 posts: 1,673 events/s at 500, 2,322 at 2,000); under a steady
# load a poll returns what has arrived, so batches stay small and latency does not grow.
BATCH_SIZE_DEFAULT = 2000


@dataclass(frozen=True)
class ProjectorConfig:
    """The projector's settings, from the environment."""

    group: str
    batch_size: int
    batch_timeout: float
    metrics_port: int

    @classmethod
    def from_env(cls) -> ProjectorConfig:
        """PROJECTOR_GROUP, PROJECTOR_BATCH_SIZE, PROJECTOR_BATCH_TIMEOUT (s), PROJECTOR_METRICS_PORT (0: none)."""
        return cls(
            group=projector_group(),
            batch_size=int(os.environ.get("PROJECTOR_BATCH_SIZE", str(BATCH_SIZE_DEFAULT))),
            batch_timeout=float(os.environ.get("PROJECTOR_BATCH_TIMEOUT", "0.5")),
            metrics_port=int(os.environ.get("PROJECTOR_METRICS_PORT", "9108")),
        )


def opensearch_client() -> OpenSearch:
    """The OpenSearch client for OPENSEARCH_URL."""
    return OpenSearch(opensearch_url(), timeout=60)


def prepare(client: OpenSearch, config: ProjectorConfig) -> dict[str, str]:
    """Idempotent start-up: topics, the live indices behind their aliases, the script, the holds index."""
    ensure_topics(kafka_bootstrap_servers(), extra=[dead_letter_spec(config.group)])
    targets = ensure_live_indices(client)
    install_scripts(client)
    Holds(client, config.group).ensure_index()
    return targets


def wait_for_partitions(consumer: KafkaConsumer, topics: list[str], timeout: float = 60) -> None:
    """Block until a fresh metadata answer reports every topic's partitions.

    Called after `subscribe`, so that the group coordinator has read the partitions before the first join. A member
    that joined before knowing them would be assigned nothing for topics created a moment ago, and its leader would
    redo the join as soon as the metadata arrived; kafka-python 3.0 can lose the end of such a second join (see
    `ProjectorLoop`), which left the member unable to commit.
    """
    deadline = time.monotonic() + timeout
    while True:
        consumer.topics()  # always a metadata request: the coordinator's listener reads the same answer
        if all(consumer.partitions_for_topic(topic) for topic in topics):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kafka did not report the partitions of {', '.join(topics)} within {timeout:.0f} s")
        time.sleep(0.2)


def group_consumer(group: str, batch_size: int) -> KafkaConsumer:
    """A consumer in `group`, subscribed to every event topic, whose metadata already holds their partitions."""
    topics = [spec.name for spec in event_topics().values()]
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers(),
        group_id=group,
        client_id=f"{group}-{os.getpid()}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_size,
        max_poll_interval_ms=600_000,  # an OpenSearch outage may hold a batch this long before the group gives up
        metadata_max_age_ms=30_000,  # a partition added later is noticed within this
    )
    consumer.subscribe(topics)
    wait_for_partitions(consumer, topics)
    return consumer


def bootstrap(config: ProjectorConfig) -> ProjectorLoop:
    """A ready loop over the live read models, subscribed to every event topic in the consumer group, its key ring
    loaded from the whole key topic."""
    client = opensearch_client()
    targets = prepare(client, config)
    redis = redis_client()  # timeouts: a hung Redis costs a batch its notices (or a purge its turn), not the batch
    keys = KafkaKeyRing(kafka_bootstrap_servers()).load()
    return ProjectorLoop(
        partial(group_consumer, config.group, config.batch_size),
        Writer(client, targets),
        DeadLetterWriter(kafka_bootstrap_servers(), config.group),
        Holds(client, config.group),
        Notices(redis, config.group),
        LoopSettings(batch_size=config.batch_size, batch_timeout=config.batch_timeout),
        keys=keys,
        erasure=Erasure(client, targets, redis, keys),
    )
