"""Rebuilding the read models with zero downtime, from the event topics read from the start; and moving the aliases
back (rollback) the same way.

Why the topics and not a database snapshot: the topics keep every event forever (`events.topics.RETENTION`), and
replaying them runs exactly the code the live projector runs, so a rebuilt document cannot differ from a live one
for reasons of its own; a snapshot loader would be a second projection to keep in step. The cost is time
proportional to the history, paid once per mapping change, off the request path.

Steps of a rebuild: create fresh indices beside the live ones with bulk-load settings (no periodic refresh, no
replicas: `projector.operations.indices.BULK_SETTINGS`; the Writer still refreshes once per batch, which its cross-
document reads need); the history up to the topics' end offsets is folded in memory into its final documents and
bulk-loaded (`fold_into`, `projector.operations.fold`: the same handlers, at bulk speed); a consumer group of the
build's own (`CatchUp`), seeded at those offsets, reads the rest into them (all of it, from the beginning, when the
fold gave up) while the live projector keeps the aliases up to date; when the build has caught up, the indices get
their model's normal settings back, and `verify` compares them with the command database (catching up and re-
checking while writes continue); then the aliases move (`switch_aliases`): the build catches up with at least what
the live projector has committed (so the swap does not step back), the live group's committed offsets are recorded
in the indices being left behind (where they stop receiving writes), every alias moves to the new indices in one
atomic request, and the build catches up once more to everything published before the swap (the live projector wrote
those to the old indices), and stops. Queries through the aliases see the old indices, complete, until the swap,
then the new ones, complete. The old indices stay for rollback until an operator deletes them.

A rollback (`python -m projector indices use <index> ...`, `use`) is as current as a swap: a consumer group of its
own, seeded at the position recorded in the indices it returns to, catches them up with the same loop and Writer,
then the aliases move by the same `switch_aliases`. Indices with no recorded position (made before positions were
recorded, or built with `--no-swap` and never live) are caught up from the start of the topics, which is only
slower: every write is idempotent and version-guarded.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Self

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from opensearchpy import OpenSearch
from tqdm import tqdm

from events.topics import dead_letter_spec, ensure_topics, event_topics
from projector.consumer.app import ProjectorConfig, group_consumer, prepare
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.holds import Holds
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.subject_keys import KafkaKeyRing
from projector.consumer.writer import Writer
from projector.operations.fold import POLL_RECORDS, fold_history, load
from projector.operations.indices import (
    create_indices,
    indices_behind,
    record_stop,
    recorded_stop,
    restore_settings,
    swap_aliases,
    wanted_indices,
)
from projector.operations.source import CommandSource
from projector.operations.verify import Report, verify
from runtime.settings import kafka_bootstrap_servers

log = logging.getLogger(__name__)
CATCH_UP_TIMEOUT = 6 * 3600.0  # seconds one catch-up may take before it gives up (a long history takes a while)
BATCH_SIZE = 1000  # records per batch of a build or rollback (the live projector's default is 500)


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    new: dict[str, str]
    previous: dict[str, str]
    swapped: bool
    report: Report
    seconds: float
    events: int


def event_partitions(consumer: KafkaConsumer) -> list[TopicPartition]:
    """Every partition of every event topic (prefix in force), as the consumer's metadata knows them."""
    return [
        TopicPartition(spec.name, p)
        for spec in event_topics().values()
        for p in sorted(consumer.partitions_for_topic(spec.name) or ())
    ]


def _committed(group: str) -> dict[TopicPartition, int]:
    """The offsets a consumer group (the live projector) has committed on the event topics."""
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers(), group_id=group, enable_auto_commit=False)
    try:
        return {tp: offset for tp in event_partitions(consumer) if (offset := consumer.committed(tp))}
    finally:
        consumer.close()


def _seed_group(group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit `offsets` for a consumer group nobody has joined yet, so that its first member starts there.

    Committing (rather than seeking the loop's consumer) keeps the position across the loop's rejoins: a
    replacement consumer resumes from the group's committed offsets. Partitions left out start at the beginning.
    """
    if not offsets:
        return
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers(), group_id=group, enable_auto_commit=False)
    try:
        consumer.assign(list(offsets))
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    finally:
        consumer.close(autocommit=False)


def _forget_group(group: str) -> None:
    """A catch-up's consumer group is single-use: delete it and its committed offsets (a failure is only logged)."""
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers())
    try:
        for name, outcome in admin.delete_groups([group]).items():  # outcome: "OK" or the error's name
            if outcome != "OK":
                log.warning("could not delete the consumer group %s: %s", name, outcome)
    except KafkaError as error:
        log.warning("could not delete the consumer group %s: %s", group, error)
    finally:
        admin.close()


class CatchUp:
    """A consumer group of its own reading the event topics into `targets` with the live projector's loop and Writer.

    The group starts at `start` (partitions left out: at the beginning) and is deleted on `close`. Its progress bar
    (stderr) has a total: the records between the start and the topics' end offsets, re-measured before and after
    every `run` (it grows while writes continue), so tqdm shows an ETA. Use as a context manager.
    """

    def __init__(
        self,
        client: OpenSearch,
        targets: dict[str, str],
        group: str,
        *,
        batch_size: int = BATCH_SIZE,
        start: dict[TopicPartition, int] | None = None,
        desc: str = "catching up",
        progress: bool = True,
        timeout: float = CATCH_UP_TIMEOUT,
    ) -> None:
        servers = kafka_bootstrap_servers()
        ensure_topics(servers, extra=[dead_letter_spec(group)])
        holds = Holds(client, group)
        holds.ensure_index()
        self.group = group
        self.timeout = timeout
        self._start = dict(start or {})
        _seed_group(group, self._start)
        try:
            self._offsets = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)  # for end offsets
            connect = partial(group_consumer, group, batch_size)
            settings = LoopSettings(batch_size=batch_size, batch_timeout=0.5)
            self.keys = KafkaKeyRing(servers).load()
            self.loop = ProjectorLoop(
                connect, Writer(client, targets), DeadLetterWriter(servers, group), holds, None, settings,
                keys=self.keys,
            )  # fmt: skip
        except BaseException:
            _forget_group(group)
            raise
        self.progress = tqdm(desc=desc, unit="event", file=sys.stderr, disable=not progress)
        self.events = 0  # records read (each once, even when a refused commit made the loop read it again)
        self._joined = False

    def backlog(self) -> int:
        """Records from the start to the event topics' end offsets now."""
        partitions = event_partitions(self._offsets)
        ends = self._offsets.end_offsets(partitions)
        missing = [tp for tp in partitions if tp not in self._start]
        begins = self._offsets.beginning_offsets(missing) if missing else {}
        return sum(max(0, ends[tp] - self._start.get(tp, begins.get(tp, 0))) for tp in partitions)

    def _extend(self) -> None:
        total = self.backlog()
        if self.progress.total is None or total > self.progress.total:
            self.progress.total = total
            self.progress.refresh()

    def run(self, at_least: dict[TopicPartition, int] | None = None) -> None:
        """Read until every partition reaches the end it had when called, or `at_least` (`ProjectorLoop.catch_up`).

        Until there is something past the start to read, the group is not even joined (a join costs seconds): after
        a fold, a build under no writes has nothing left to replay.
        """
        self._extend()
        if not self._joined and self._nothing_past_start(at_least or {}):
            return
        self._joined = True
        self.loop.catch_up(timeout=self.timeout, progress=self, at_least=at_least)
        self._extend()

    def _nothing_past_start(self, at_least: dict[TopicPartition, int]) -> bool:
        partitions = event_partitions(self._offsets)
        begins = self._offsets.beginning_offsets(partitions)
        start = {tp: self._start.get(tp, begins[tp]) for tp in partitions}
        ends = self._offsets.end_offsets(partitions)
        return all(ends[tp] <= start[tp] and at_least.get(tp, 0) <= start[tp] for tp in partitions)

    def update(self, records: int) -> None:
        """`ProjectorLoop.catch_up`'s progress callback."""
        self.events += records
        self.progress.update(records)

    def close(self) -> None:
        """Stop the loop, delete the group, close the bar."""
        try:
            self.loop.close()
            self._offsets.close()
        finally:
            self.progress.close()
            _forget_group(self.group)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def fold_into(
    client: OpenSearch, new: dict[str, str], *, progress: bool = True, timeout: float = CATCH_UP_TIMEOUT
) -> tuple[dict[TopicPartition, int] | None, int]:
    """A build's fast path (`projector.operations.fold`): fold the history in memory and bulk-load it into `new`.

    Returns:
        Where the build's catch-up starts (None: at the beginning, when the fold gave up or OpenSearch refused a
        folded document; replaying over what was loaded is harmless, every write being version-guarded), and how
        many events were folded.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap_servers(), enable_auto_commit=False, max_poll_records=POLL_RECORDS
    )
    keys = KafkaKeyRing(kafka_bootstrap_servers())
    try:
        keys.load()
        partitions = event_partitions(consumer)
        ends, begins = consumer.end_offsets(partitions), consumer.beginning_offsets(partitions)
        total = sum(ends[tp] - begins[tp] for tp in partitions)
        with tqdm(desc="folding", unit="event", total=total, file=sys.stderr, disable=not progress) as bar:
            folded = fold_history(client, consumer, partitions, keys=keys, timeout=timeout, progress=bar)
    finally:
        consumer.close()
        keys.close()
    if folded is None:
        return None, 0
    if refused := load(client, new, folded.models):
        log.warning("%d folded documents were refused: replaying the history instead", refused)
        return None, 0
    documents = sum(len(docs) for docs in folded.models.documents.values())
    log.info("folded %d events into %d documents; the rest is replayed from there", folded.events, documents)
    return folded.offsets, folded.events


def fill(client: OpenSearch, build: CatchUp, new: dict[str, str]) -> None:
    """The build phase: catch fresh indices (created with `create_indices(bulk=True)`) up with the topics, then give
    them their model's normal settings (also when the catch-up fails: no index is left without periodic refresh)."""
    try:
        build.run()
    finally:
        restore_settings(client, new)


def switch_aliases(
    client: OpenSearch, config: ProjectorConfig, new: dict[str, str], catch_up: CatchUp
) -> dict[str, str]:
    """Move the aliases to `new`, which `catch_up` writes to; the one way aliases move (rebuild swap and rollback).

    1. Catch up with at least what the live group has committed, so the swap does not step back.
    2. Record in the indices being left behind the live group's committed offsets, read just before the swap: every
       event before them is in those indices (`record_stop`), so a later rollback can resume from there.
    3. Move every alias in one atomic request.
    4. Catch up once more: the events the live projector wrote to the old indices before the swap.

    Returns:
        The indices the aliases pointed at before.
    """
    catch_up.run(at_least=_committed(config.group))
    stopped_at = _committed(config.group)
    current = indices_behind(client)
    record_stop(client, [index for model, index in current.items() if index != new[model]], config.group, stopped_at)
    previous = swap_aliases(client, new)
    catch_up.run()
    return previous


def _stamp() -> str:
    return f"{time.strftime('%Y%m%d%H%M%S')}{time.time_ns() % 1000:03d}"


def rebuild(
    client: OpenSearch,
    config: ProjectorConfig,
    *,
    database_url: str | None = None,
    swap: bool = True,
    verify_attempts: int = 5,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    fold: bool = True,
) -> RebuildResult:
    """Build fresh read models from the topics, verify them, and (if clean) swap the aliases to them.

    `fold`: fold the history in memory and bulk-load it first (`fold_into`), then replay only what came after; off,
    the whole history is replayed through the live Writer.
    """
    started = time.monotonic()
    prepare(client, config)  # the live read models exist (and stay live) throughout
    new = create_indices(client, bulk=True)
    group = f"{config.group}-rebuild-{next(iter(new.values())).rsplit('-', 1)[-1]}"
    start, folded = fold_into(client, new, progress=progress) if fold else (None, 0)
    with CatchUp(client, new, group, batch_size=batch_size, start=start, desc="rebuilding", progress=progress) as build:
        fill(client, build, new)
        report, settled = _verify_while_writes_continue(client, new, build, database_url, verify_attempts)
        previous = indices_behind(client)
        swapped = settled and swap
        if swapped:
            previous = switch_aliases(client, config, new, build)
    return RebuildResult(new, previous, swapped, report, time.monotonic() - started, folded + build.events)


def _verify_while_writes_continue(
    client: OpenSearch,
    targets: dict[str, str],
    build: CatchUp,
    database_url: str | None,
    attempts: int,
) -> tuple[Report, bool]:
    """Verify the build, catching up between attempts; settled when clean, or when no document differed every time.

    Under steady writes the database is always a little ahead of any consumer, so a document written a moment ago
    may differ once; a document that differs in the same way (same fields, same expected values) on every attempt
    is a real defect.
    """
    persistent: set[tuple[str, ...]] | None = None
    for _ in range(attempts):
        with CommandSource(database_url) as source:
            report = verify(client, targets, source, limit=None, progress=False, erased=build.keys.erased)
        if report.ok:
            return report, True
        differing = {
            (m.model, m.doc_id, m.kind, *sorted(f"{name}={expected!r}" for name, (expected, _) in m.fields.items()))
            for m in report.details
        }
        persistent = differing if persistent is None else persistent & differing
        build.run()
    return report, not persistent


def _start_of(client: OpenSearch, indices: list[str]) -> dict[TopicPartition, int] | None:
    """Where a catch-up of `indices` may start: per partition the lowest position recorded in any of them (a
    partition one of them has no entry for starts at the beginning); None when one has no position at all."""
    records = [recorded_stop(client, index) for index in indices]
    if any(record is None for record in records):
        return None
    shared = set.intersection(*(set(record) for record in records))
    return {tp: min(record[tp] for record in records) for tp in shared}


def use(
    client: OpenSearch,
    config: ProjectorConfig,
    names: list[str],
    *,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
) -> dict[str, str]:
    """Point the aliases of the given indices' models at them (a rollback), caught up first; returns what they left.

    The indices are caught up from the position recorded when a swap left them (`record_stop`) by a consumer group
    of their own, then the aliases move by `switch_aliases`, exactly as at the end of a rebuild.
    """
    wanted = wanted_indices(client, names)
    current = indices_behind(client)
    returning = [index for model, index in wanted.items() if index != current[model]]
    if not returning:
        log.info("the aliases already point at %s", " ".join(names))
        return current
    start = _start_of(client, returning)
    if start is None:
        log.warning("no position recorded in %s (indices from before positions were recorded, or never live): "
                    "catching them up from the start of the topics (writes are idempotent and version-guarded)",
                    " ".join(returning))  # fmt: skip
    else:
        log.info("catching %s up from the position recorded when they were left", " ".join(returning))
    group = f"{config.group}-rollback-{_stamp()}"
    with CatchUp(client, wanted, group, batch_size=batch_size, start=start, desc="catching up", progress=progress) as c:
        return switch_aliases(client, config, wanted, c)


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
