"""The Kafka topics of the contract, defined once: one topic per aggregate type, keyed by aggregate id.

Kafka orders messages within a partition only, and the partition is chosen from the key, so keying by aggregate id
gives every aggregate its events in `aggregate_version` order: the order the projector relies on.

Partition counts bound how many consumers of one group work in parallel. Adding partitions later re-maps keys
(an aggregate's new events may overtake its old ones during the switch), so the counts carry headroom now:
posts and comments 12 (most of the traffic; 12 splits evenly over 1, 2, 3, 4, 6 or 12 consumers), users 6 (few
writes). Names carry no version suffix: event shapes are versioned in the envelope, and a topic would only be
replaced to re-partition, which would be a migration with its own new names.

Subject keys (`SUBJECT_KEYS`, `events.personal_data`): one compacted topic, keyed by user id, holding each person's
key or the marker that they were erased. It is compacted, not kept whole: an erased person's key record must leave
it within a stated bound, `SUBJECT_KEYS_COMPACTION_LAG_SECONDS` (default 3,600): Kafka rolls a segment at most that
long after its first record, on the next append (the command service appends a tick to every partition every
`SUBJECT_KEYS_TICK_SECONDS`, see `command_service.relay.key_ticks`), its log cleaner compacts a segment past the lag
within `log.cleaner.backoff.ms` (15 s), and deletes the old files `file.delete.delay.ms` (1 s here) later.

Dead letters: one topic per consumer group, `<group>.dlq`, with 1 partition: messages are rare and an operator
replays them in arrival order. Messages keep their original key and bytes.

`ensure_topics` creates the missing topics and checks the existing ones; it is idempotent, safe to run on every
start-up, and `python -m events.topics [--dead-letters GROUP ...]` runs it against `KAFKA_BOOTSTRAP_SERVERS`
(default 127.0.0.1:19092). An existing topic with fewer partitions than defined is an error (parallelism and
key placement would silently differ from the contract); more is accepted, because partitions can only grow
and growing them is a deliberate operator decision.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from events.envelope import EventEnvelope
from events.errors import TopicSetupError

TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")


# Events are kept forever: the topics are the log a read model is rebuilt from (projector rebuild reads them from
# the start), and dead letters wait for an operator however long that takes.
RETENTION: Mapping[str, str] = MappingProxyType({"retention.ms": "-1"})


@dataclass(frozen=True)
class TopicSpec:
    """A topic's name, the partitions it must have at least, and the configs it is created with."""

    name: str
    partitions: int
    configs: Mapping[str, str] = field(default=RETENTION, compare=False)

    def __post_init__(self) -> None:
        if not TOPIC_NAME.fullmatch(self.name) or self.name in {".", ".."} or self.partitions < 1:
            raise ValueError(f"invalid topic {self.name!r} with {self.partitions} partitions")


EVENT_TOPICS: dict[str, TopicSpec] = {
    "user": TopicSpec("content.users", 6),
    "post": TopicSpec("content.posts", 12),
    "comment": TopicSpec("content.comments", 12),
}
SUBJECT_KEYS = TopicSpec("content.subject-keys", 6)
DEAD_LETTER_SUFFIX = ".dlq"
DEAD_LETTER_PARTITIONS = 1


def topic_prefix() -> str:
    """`EVENTS_TOPIC_PREFIX`, read at each call: lets test runs and side-by-side deployments share one cluster.

    Empty in production; the contract's topic names (and the AsyncAPI document) are the unprefixed ones.
    """
    return os.environ.get("EVENTS_TOPIC_PREFIX", "")


def event_topics() -> dict[str, TopicSpec]:
    """{aggregate type: its topic}, with the prefix in force."""
    prefix = topic_prefix()
    return {kind: TopicSpec(prefix + spec.name, spec.partitions) for kind, spec in EVENT_TOPICS.items()}


def topic_for(aggregate_type: str) -> str:
    """The topic that events of `aggregate_type` are written to (raises KeyError for an unknown type)."""
    return topic_prefix() + EVENT_TOPICS[aggregate_type].name


def message_key(envelope: EventEnvelope) -> bytes:
    """The Kafka key of an event: its aggregate id, so each aggregate's events stay in order in one partition."""
    return envelope.aggregate_id.encode("utf-8")


def subject_keys_compaction_lag_seconds() -> int:
    """`SUBJECT_KEYS_COMPACTION_LAG_SECONDS` (default 3,600): how long an erased person's key may stay on the topic
    before Kafka must compact it away, at most (plus a tick interval, the cleaner's back-off and the file delay)."""
    raw = os.environ.get("SUBJECT_KEYS_COMPACTION_LAG_SECONDS", "3600")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"SUBJECT_KEYS_COMPACTION_LAG_SECONDS must be a whole number of seconds >= 1, got {raw!r}")
    return int(raw)


def subject_keys_tick_seconds() -> float:
    """`SUBJECT_KEYS_TICK_SECONDS` (default 60): how often the relay appends a tick to every key-topic partition."""
    raw = os.environ.get("SUBJECT_KEYS_TICK_SECONDS", "60")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 86_400:
        raise ValueError(f"SUBJECT_KEYS_TICK_SECONDS must be between 0.1 and 86400 seconds, got {raw!r}")
    return seconds


LOG_CLEANER_BACKOFF_SECONDS = 15  # Kafka's log.cleaner.backoff.ms default: the cleaner's sleep when idle
FILE_DELETE_DELAY_SECONDS = 1  # the key topic's file.delete.delay.ms


def subject_keys_erasure_bound_seconds() -> float:
    """How long after an erasure the person's key may still be read from the key topic, at most: the compaction lag
    (the active segment rolls on the first append after it), a tick interval (that append), the cleaner's back-off,
    and the file delay."""
    return (
        subject_keys_compaction_lag_seconds() + subject_keys_tick_seconds() + LOG_CLEANER_BACKOFF_SECONDS
        + FILE_DELETE_DELAY_SECONDS
    )  # fmt: skip


def subject_keys_spec() -> TopicSpec:
    """The key topic, prefixed, with its compaction configs (`SUBJECT_KEYS_COMPACTION_LAG_SECONDS`)."""
    lag_ms = str(subject_keys_compaction_lag_seconds() * 1000)
    configs = {
        "cleanup.policy": "compact",
        "max.compaction.lag.ms": lag_ms,  # a record may stay uncompacted this long at most
        "segment.ms": lag_ms,  # and so the active segment rolls (on an append) after this long
        "min.compaction.lag.ms": "0",
        "file.delete.delay.ms": str(FILE_DELETE_DELAY_SECONDS * 1000),  # a cleaned segment's old file: 1 s, not 60
    }
    return TopicSpec(topic_prefix() + SUBJECT_KEYS.name, SUBJECT_KEYS.partitions, MappingProxyType(configs))


def dead_letter_topic(consumer_group: str) -> str:
    """The dead-letter topic of a consumer group (raises ValueError when the group makes no valid topic name)."""
    return dead_letter_spec(consumer_group).name


def dead_letter_spec(consumer_group: str) -> TopicSpec:
    """The dead-letter topic of a consumer group, with its partition count."""
    return TopicSpec(f"{topic_prefix()}{consumer_group}{DEAD_LETTER_SUFFIX}", DEAD_LETTER_PARTITIONS)


def ensure_topics(
    bootstrap_servers: str,
    *,
    specs: Iterable[TopicSpec] | None = None,
    extra: Iterable[TopicSpec] = (),
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> dict[str, str]:
    """Create the missing topics and check the existing ones; idempotent.

    Args:
        bootstrap_servers: comma-separated host:port of the brokers.
        specs: the topics to ensure, the event topics and the key topic when None.
        extra: more topics to ensure, e.g. `dead_letter_spec(group)`.
        replication_factor: for topics created now (1 on a dev node; a deployment passes its own).
        timeout: seconds for connecting and for each admin request.

    Returns:
        {topic name: "created" | "present"}.

    Raises:
        TopicSetupError: a topic could not be created, or exists with fewer partitions than its spec.
    """
    from kafka import KafkaAdminClient  # here, not at import: importing the contract needs no Kafka client

    wanted = [*([*event_topics().values(), subject_keys_spec()] if specs is None else specs), *extra]
    if len({spec.name for spec in wanted}) != len(wanted):
        raise ValueError("each topic may be given once")
    timeout_ms = int(timeout * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="events-ensure-topics",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )
    try:
        existing = set(admin.list_topics())
        created = _create(admin, [s for s in wanted if s.name not in existing], replication_factor, timeout_ms)
        _check(admin, [s for s in wanted if s.name not in created])
        _reconfigure(admin, [s for s in wanted if s.name not in created and s.configs is not RETENTION])
    finally:
        admin.close()
    return {spec.name: "created" if spec.name in created else "present" for spec in wanted}


def _create(admin: Any, missing: list[TopicSpec], replication_factor: int, timeout_ms: int) -> set[str]:
    if not missing:
        return set()
    request = {
        s.name: {"num_partitions": s.partitions, "replication_factor": replication_factor, "configs": dict(s.configs)}
        for s in missing
    }
    response = admin.create_topics(request, timeout_ms=timeout_ms, raise_errors=False)
    created, failed = set(), []
    for topic in response["topics"]:
        if topic["error_code"] == 0:
            created.add(topic["name"])
        elif topic["error_code"] != 36:  # 36 TOPIC_ALREADY_EXISTS: another process won the race; _check it
            failed.append(f"{topic['name']}: error {topic['error_code']} {topic.get('error_message') or ''}".strip())
    if failed:
        raise TopicSetupError("could not create topics: " + "; ".join(failed))
    admin.wait_for_topics(sorted(created), timeout_ms=timeout_ms)
    return created


def _check(admin: Any, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    described = {topic["name"]: topic for topic in admin.describe_topics([s.name for s in specs])}
    problems = []
    for spec in specs:
        topic = described.get(spec.name)
        if topic is None or topic["error_code"] != 0:
            problems.append(f"{spec.name} cannot be described (error {topic and topic['error_code']})")
        elif len(topic["partitions"]) < spec.partitions:
            problems.append(
                f"{spec.name} has {len(topic['partitions'])} partitions, the contract needs at least {spec.partitions};"
                " add partitions (kafka-topics --alter) or recreate the topic"
            )
    if problems:
        raise TopicSetupError("; ".join(problems))


def _reconfigure(admin: Any, specs: list[TopicSpec]) -> None:
    """Set an existing topic's configs to its spec's (the key topic's compaction bound follows its setting)."""
    if not specs:
        return
    from kafka.admin import ConfigResource, ConfigResourceType

    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name, configs=dict(s.configs)) for s in specs]
    response = admin.alter_configs(resources)  # incremental SET where the broker has it: other configs stay
    failed = [f"{name}: {result}" for name, result in response.get("topic", {}).items() if result != "OK"]
    if failed:
        raise TopicSetupError("could not configure topics: " + "; ".join(failed))


def main(argv: list[str] | None = None) -> int:
    """`python -m events.topics [--bootstrap-servers HOSTS] [--dead-letters GROUP ...] [--timeout SECONDS]`."""
    parser = argparse.ArgumentParser(prog="python -m events.topics", description="Create or check the event topics.")
    from runtime.settings import kafka_bootstrap_servers  # the command line's default only: not the contract's

    parser.add_argument("--bootstrap-servers", default=kafka_bootstrap_servers())
    parser.add_argument("--dead-letters", action="append", default=[], metavar="GROUP", help="also GROUP's DLQ")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the brokers (default 30)")
    args = parser.parse_args(argv)
    from kafka.errors import KafkaError

    try:
        extra = [dead_letter_spec(group) for group in args.dead_letters]
        result = ensure_topics(args.bootstrap_servers, extra=extra, timeout=args.timeout)
    except (TopicSetupError, ValueError, KafkaError) as exc:
        print(f"events.topics: {exc}", file=sys.stderr)
        return 1
    for name, state in result.items():
        print(f"{name:<32} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
