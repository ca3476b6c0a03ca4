"""Rebuilding the read models with zero downtime, from the event topics read from the start.

Why the topics and not a database snapshot: the topics keep every event forever (`events.topics.RETENTION`), and
replaying them runs exactly the code the live projector runs, so a rebuilt document cannot differ from a live one
for reasons of its own; a snapshot loader would be a second projection to keep in step. The cost is time
proportional to the history, paid once per mapping change, off the request path.

Steps: create fresh indices beside the live ones; a consumer group of the build's own reads every topic from the
beginning into them while the live projector keeps the aliases up to date; when the build has caught up, `verify`
compares it with the command database (catching up and re-checking while writes continue); then every alias
moves to the new indices in one atomic request, right after the build caught up with at least what the live
projector has committed (so the swap does not step back); the build catches up once more to everything published
before the swap (the live projector wrote those to the old indices), and stops. Queries through the aliases see the old
indices, complete, until the swap, then the new ones, complete. The old indices stay for rollback until an
operator deletes them (`python -m projector indices ...`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from functools import partial

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from opensearchpy import OpenSearch
from tqdm import tqdm

from events.topics import dead_letter_spec, ensure_topics, event_topics
from projector.consumer.app import ProjectorConfig, group_consumer, prepare
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.holds import Holds
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.writer import Writer
from projector.operations.indices import create_indices, indices_behind, swap_aliases
from projector.operations.source import CommandSource
from projector.operations.verify import Report, verify
from runtime.settings import kafka_bootstrap_servers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    new: dict[str, str]
    previous: dict[str, str]
    swapped: bool
    report: Report
    seconds: float
    events: int


def _build_loop(client: OpenSearch, targets: dict[str, str], group: str, batch_size: int) -> ProjectorLoop:
    servers = kafka_bootstrap_servers()
    ensure_topics(servers, extra=[dead_letter_spec(group)])
    holds = Holds(client, group)
    holds.ensure_index()
    connect = partial(group_consumer, group, batch_size)
    settings = LoopSettings(batch_size=batch_size, batch_timeout=0.5)
    return ProjectorLoop(connect, Writer(client, targets), DeadLetterWriter(servers, group), holds, None, settings)


def rebuild(
    client: OpenSearch,
    config: ProjectorConfig,
    *,
    database_url: str | None = None,
    swap: bool = True,
    verify_attempts: int = 5,
    batch_size: int = 1000,
) -> RebuildResult:
    """Build fresh read models from the topics, verify them, and (if clean) swap the aliases to them."""
    started = time.monotonic()
    prepare(client, config)  # the live read models exist (and stay live) throughout
    new = create_indices(client)
    group = f"{config.group}-rebuild-{next(iter(new.values())).rsplit('-', 1)[-1]}"
    loop = _build_loop(client, new, group, batch_size)
    events = 0
    try:
        with tqdm(desc="rebuilding", unit="event", file=sys.stderr) as progress:
            loop.catch_up(progress=progress)
            report, settled = _verify_while_writes_continue(client, new, loop, database_url, verify_attempts, progress)
            events = progress.n
            previous = indices_behind(client)
            if not (settled and swap):
                return RebuildResult(new, previous, False, report, time.monotonic() - started, events)
            loop.catch_up(progress=progress, at_least=_committed(config.group))  # at least as far as the live one
            swap_aliases(client, new)
            loop.catch_up(progress=progress)  # what the live projector wrote to the old indices before the swap
            events = progress.n
    finally:
        loop.close()
        _forget_group(group)
    return RebuildResult(new, previous, True, report, time.monotonic() - started, events)


def _verify_while_writes_continue(
    client: OpenSearch,
    targets: dict[str, str],
    loop: ProjectorLoop,
    database_url: str | None,
    attempts: int,
    progress: object,
) -> tuple[Report, bool]:
    """Verify the build, catching up between attempts; settled when clean, or when no document differed every time.

    Under steady writes the database is always a little ahead of any consumer, so a document written a moment ago
    may differ once; a document that differs in the same way (same fields, same expected values) on every attempt
    is a real defect.
    """
    persistent: set[tuple[str, ...]] | None = None
    for _ in range(attempts):
        with CommandSource(database_url) as source:
            report = verify(client, targets, source, limit=None, progress=False)
        if report.ok:
            return report, True
        differing = {
            (m.model, m.doc_id, m.kind, *sorted(f"{name}={expected!r}" for name, (expected, _) in m.fields.items()))
            for m in report.details
        }
        persistent = differing if persistent is None else persistent & differing
        loop.catch_up(progress=progress)
    return report, not persistent


def _committed(group: str) -> dict[TopicPartition, int]:
    """The offsets a consumer group (the live projector) has committed on the event topics."""
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers(), group_id=group, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(spec.name, p)
            for spec in event_topics().values()
            for p in sorted(consumer.partitions_for_topic(spec.name) or ())
        ]
        return {tp: offset for tp in partitions if (offset := consumer.committed(tp))}
    finally:
        consumer.close()


def _forget_group(group: str) -> None:
    """The build's consumer group is single-use: delete it and its committed offsets (a failure is only logged)."""
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers())
    try:
        for name, outcome in admin.delete_groups([group]).items():  # outcome: "OK" or the error's name
            if outcome != "OK":
                log.warning("could not delete the rebuild's consumer group %s: %s", name, outcome)
    except KafkaError as error:
        log.warning("could not delete the rebuild's consumer group %s: %s", group, error)
    finally:
        admin.close()


def rebuild_command(config: ProjectorConfig, *, swap: bool) -> int:
    """`python -m projector rebuild [--no-swap]`."""
    from projector.consumer.app import opensearch_client

    client = opensearch_client()
    result = rebuild(client, config, database_url=os.environ.get("DATABASE_URL"), swap=swap)
    print(result.report.text())
    rate = result.events / result.seconds if result.seconds else 0.0
    print(f"rebuilt {result.events} events into {', '.join(result.new.values())} in {result.seconds:.1f} s "
          f"({rate:.0f} events/s)")  # fmt: skip
    if result.swapped:
        print(f"aliases now point at the new indices; previous indices kept for rollback: "
              f"{' '.join(result.previous.values())}")  # fmt: skip
        print(
            "roll back with `python -m projector indices use <index> ...`, delete with `... indices delete <index> ...`"
        )
        return 0
    print("aliases unchanged" + ("" if result.report.ok else ": the new indices did not verify clean"))
    return 0 if result.report.ok else 1
