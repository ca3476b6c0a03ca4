"""The projector's command line (see `python -m projector --help`)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Sequence

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from prometheus_client import start_http_server
from tqdm import tqdm

from events.consumer import Accepted, Erased, EventReader, Skipped
from events.topics import dead_letter_topic, event_topics
from projector.consumer.app import ProjectorConfig, bootstrap, opensearch_client, prepare
from projector.consumer.dead_letters import DeadLetterRecord, record_of
from projector.consumer.erasure import Erasure
from projector.consumer.holds import Holds
from projector.consumer.notices import Notices
from projector.consumer.subject_keys import KafkaKeyRing, erased_by
from projector.consumer.writer import Writer
from projector.operations.indices import delete_indices, list_indices
from projector.operations.rebuild import rebuild_command, use
from projector.operations.source import CommandSource
from projector.operations.verify import verify
from read_models.indices import alias_of
from read_models.models import READ_MODELS
from runtime.heartbeats import Heartbeat
from runtime.redis_clients import redis_client
from runtime.settings import kafka_bootstrap_servers
from runtime.shutdown import StopRequested

log = logging.getLogger("projector")
VERIFY_LIMIT = 20  # mismatches listed per read model and kind unless --limit says otherwise
CHARTED = ("lag", "events_per_second", "searchable_age_seconds")  # per topic, in the status page's charts


def lag_by_topic(lag: dict[TopicPartition, int]) -> dict[str, int]:
    """Per-partition lag summed per topic."""
    totals: dict[str, int] = {}
    for tp, behind in lag.items():
        totals[tp.topic] = totals.get(tp.topic, 0) + behind
    return totals


def run(config: ProjectorConfig) -> int:
    """Consume until SIGTERM or Ctrl-C; a batch in flight is finished and committed first."""
    loop = bootstrap(config)
    if config.metrics_port:
        start_http_server(config.metrics_port, addr="127.0.0.1")
    stopping = StopRequested()
    print(f"projector group {config.group} running", flush=True)
    failures = 0
    heartbeat = Heartbeat(loop.notices.client, f"projector {config.group} {os.getpid()}", charted=CHARTED)
    try:
        while not stopping:
            try:
                loop.run_once()
                failures = 0
                if heartbeat.due():  # lag is measured as often as it is reported
                    loop.notices.settle()  # an idle projector still marks notices it lost (a no-op otherwise)
                    lag = lag_by_topic(loop.update_lag())
                    tally = loop.tally.take(lag)
                    heartbeat.beat({"kafka": True, "opensearch": True}, lag=lag, **tally, **loop.holds.stats())
            except Exception as error:  # an outage of OpenSearch, Redis or Kafka: the batch is read again after a pause
                failures += 1
                log.exception("batch failed (attempt %d); retrying", failures)
                heartbeat.beat({}, failing_batches=failures, error=f"{type(error).__name__}: {error}"[:300])
                time.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
    finally:
        loop.notices.settle()
        loop.close()
    return 0


def _dlq_consumer(config: ProjectorConfig, *, group: str | None) -> tuple[KafkaConsumer, TopicPartition]:
    tp = TopicPartition(dead_letter_topic(config.group), 0)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers(), group_id=group, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    consumer.assign([tp])
    committed = consumer.committed(tp) if group else None
    consumer.seek(tp, committed or 0)
    return consumer, tp


def _replay_group(config: ProjectorConfig) -> str:
    return f"{config.group}.dlq-replay"


def dead_letters_list(config: ProjectorConfig, offset: int | None = None) -> int:
    """Print every dead letter (or one, in full)."""
    consumer, _ = _dlq_consumer(config, group=None)
    for message in consumer:
        record = record_of(message)
        if offset is None:
            origin = f"{record.origin.topic}[{record.origin.partition}]@{record.origin.offset}"
            where = f"{record.offset:>6}  {record.failed_at}  {origin:<28}"
            print(f"{where} {record.kind:<26} key={record.key}  {record.reason[:100]}")
        elif record.offset == offset:
            print(json.dumps(_describe(record), indent=2))
            return 0
    consumer.close()
    if offset is not None:
        print(f"no dead letter at offset {offset}", file=sys.stderr)
        return 1
    return 0


def _describe(record: DeadLetterRecord) -> dict:
    try:
        value: object = json.loads(record.value)
    except ValueError:
        value = record.value.decode(errors="replace")
    return {
        "offset": record.offset, "key": record.key, "kind": record.kind, "reason": record.reason,
        "failed_at": record.failed_at, "origin": vars(record.origin), "message": value,
    }  # fmt: skip


def dead_letters_replay(config: ProjectorConfig, *, skip_one: bool = False) -> int:
    """Apply unreplayed dead letters in order, releasing holds as they catch up; stop at the first failure."""
    client = opensearch_client()
    targets = prepare(client, config)
    writer, holds = Writer(client, targets), Holds(client, config.group)
    redis = redis_client()
    keys = KafkaKeyRing(kafka_bootstrap_servers()).load()  # a late key has arrived since: its dead letters open now
    notices, erasure = Notices(redis, config.group), Erasure(client, targets, redis, keys)
    reader = EventReader(keys=keys)
    consumer, tp = _dlq_consumer(config, group=_replay_group(config))
    end = consumer.end_offsets([tp])[tp]
    start = consumer.position(tp)
    replayed = 0
    with tqdm(total=end - start, desc="replaying dead letters", unit="msg", file=sys.stderr) as progress:
        for message in consumer:
            record = record_of(message)
            if not skip_one:
                outcome = reader.read(record.value)
                if isinstance(outcome, Accepted):
                    applied, failed = writer.apply([outcome.envelope])
                    if failed:
                        print(f"stopped at offset {record.offset}: {failed[0].reason}", file=sys.stderr)
                        return 1
                    notices.publish(erasure.announced(applied))
                    erasure.erase(erased_by(keys, (item.event for item in applied)))
                elif not isinstance(outcome, Skipped | Erased):
                    print(f"stopped at offset {record.offset}: {outcome.reason} (`dead-letters skip` passes it)",
                          file=sys.stderr)  # fmt: skip
                    return 1
            holds.release(record.origin.topic, record.key, record.origin.partition, record.origin.offset)
            consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
            replayed += 1
            progress.update(1)
            if skip_one:
                print(f"skipped offset {record.offset}")
                break
    consumer.close()
    keys.close()
    notices.settle()
    print(f"replayed {replayed} dead letters")
    return 0


def verify_command(limit: int) -> int:
    """Compare the live read models with the command database; 1 on any mismatch (see `projector.operations.verify`)."""
    client = opensearch_client()
    targets = {model.name: alias_of(model) for model in READ_MODELS}
    absent = [alias for alias in targets.values() if not client.indices.exists_alias(name=alias)]
    if absent:
        print(f"no read model behind {', '.join(absent)}: nothing to verify", file=sys.stderr)
        return 2
    keys = KafkaKeyRing(kafka_bootstrap_servers()).load()
    try:
        with CommandSource() as source:
            report = verify(client, targets, source, limit=limit, progress=True, erased=keys.erased)
    finally:
        keys.close()
    print(report.text())
    return 0 if report.ok else 1


def status(config: ProjectorConfig) -> int:
    """Print lag per partition, freshness, holds and unreplayed dead letters."""
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers(), group_id=config.group, enable_auto_commit=False
    )
    partitions = [
        TopicPartition(spec.name, p)
        for spec in event_topics().values()
        for p in sorted(consumer.partitions_for_topic(spec.name) or ())
    ]
    ends = consumer.end_offsets(partitions)
    total = 0
    print(f"consumer group {config.group}")
    for tp in partitions:
        committed = consumer.committed(tp) or 0
        lag = ends[tp] - committed
        total += lag
        print(f"  {tp.topic}[{tp.partition}]  committed {committed}  end {ends[tp]}  lag {lag}")
    print(f"  total lag {total}")
    consumer.close()
    freshness = Notices(redis_client(), config.group).freshness()
    print(f"freshness: {json.dumps(freshness.as_dict()) if freshness else 'nothing projected yet'}")
    client = opensearch_client()
    holds = Holds(client, config.group)
    if client.indices.exists(index=holds.index):
        print(f"holds: {json.dumps(holds.stats())}")
    dlq, _ = _dlq_consumer(config, group=_replay_group(config))
    tp = TopicPartition(dead_letter_topic(config.group), 0)
    written = dlq.end_offsets([tp])[tp]
    print(f"dead letters: {written} written, {written - dlq.position(tp)} not replayed")
    dlq.close()
    return 0


def main(argv: Sequence[str], usage: str) -> int:
    """Dispatch a command line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("kafka", "opensearch"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = ProjectorConfig.from_env()
    args = list(argv)
    match args:
        case ["run"]:
            return run(config)
        case ["status"]:
            return status(config)
        case ["verify"]:
            return verify_command(VERIFY_LIMIT)
        case ["verify", "--limit", limit] if limit.isdigit():
            return verify_command(int(limit))
        case ["dead-letters", "list"]:
            return dead_letters_list(config)
        case ["dead-letters", "show", offset] if offset.isdigit():
            return dead_letters_list(config, int(offset))
        case ["dead-letters", "replay"]:
            return dead_letters_replay(config)
        case ["dead-letters", "skip"]:
            return dead_letters_replay(config, skip_one=True)
        case ["rebuild"] | ["rebuild", "--no-swap"]:
            return rebuild_command(config, swap=args[-1] != "--no-swap")
        case ["indices", "list"]:
            for model, index, docs, live in list_indices(opensearch_client()):
                print(f"{model:<9} {index:<50} {docs:>9} docs{'  (live)' if live else ''}")
            return 0
        case ["indices", "use", *names] if names:
            try:
                previous = use(opensearch_client(), config, names)  # caught up first: see `rebuild.use`
            except ValueError as error:  # a foreign or unknown index
                print(error, file=sys.stderr)
                return 2
            print(f"aliases moved; they pointed at {' '.join(previous.values())}")
            return 0
        case ["indices", "delete", *names] if names:
            delete_indices(opensearch_client(), names)
            print(f"deleted {' '.join(names)}")
            return 0
        case [] | ["help"] | ["-h"] | ["--help"]:
            print(usage)
            return 0
        case _:
            print(usage, file=sys.stderr)
            return 2
