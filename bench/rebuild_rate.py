"""P7: a full rebuild of a realistic history vs a raw bulk of the same final documents.

Needs the local services (`make services`). Run: `make bench-rebuild` (POSTS=2000, SAMPLES=3; the issue's target
is POSTS=100000), or `uv run python -m infra exec -- python -m bench.rebuild_rate --posts 2000 --samples 3`.

The history is `bench.history.history` (see `bench.projector_rate`). Each sample, in a fresh private namespace
(`bench.projection.Namespace`): the topics and the live read models are prepared (`projector.consumer.app.prepare`,
not timed), the history is produced to the topics, and then the clock runs over a rebuild's build phase, the
code `python -m projector rebuild` runs (`projector.operations.rebuild`): fresh indices created with bulk-load
settings, the history folded in memory and bulk-loaded (`fold_into`; skipped with `--replay`), a consumer group of
the build's own catching up from where the fold ended (from the start of the topics with `--replay`; `CatchUp`:
joining the group included) with the live projector's loop and Writer, and the model's normal settings restored
(with a refresh). Not timed, and not run: the rebuild's `verify` against the command database (this history is
written to Kafka only, so there is no database holding the same data) and the alias swap, whose costs do not grow
with the work measured here beyond verify's own scan. The built documents are read back, checked against the history's
expected final state and for dead letters, and bulk-loaded into fresh indices with the same mappings: the peer
(`bench.projection.raw_bulk`). Reported per sample: the rebuild's wall time, documents/s (final documents ÷ build
seconds) and events/s; the raw bulk's documents/s; the ratio rebuild documents/s ÷ raw documents/s (= bulk seconds
÷ build seconds), P7's number (target >= 0.6). Medians of the samples are printed last. Bounded in count (the
history) and in time: a build that runs past `--budget` seconds stops, and its sample is reported as out of time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass

from opensearchpy import OpenSearch

from bench.history import Recipe, expected_documents, history, mismatches
from bench.projection import Namespace, dead_letters, produce, raw_bulk, read_documents
from bench.stats import Failures, machine_line, spread
from projector.consumer.app import ProjectorConfig, prepare
from projector.operations.indices import create_indices, swap_aliases
from projector.operations.rebuild import CatchUp, fill, fold_into
from runtime.settings import opensearch_url

TARGET = 0.6


@dataclass(frozen=True)
class Figures:
    """One sample's numbers: the build's and the raw bulk's, over the same final documents."""

    events: int
    documents: int
    build_seconds: float
    bulk_seconds: float

    @property
    def build_docs_rate(self) -> float:
        """Final documents per second of the rebuild."""
        return self.documents / self.build_seconds

    @property
    def build_events_rate(self) -> float:
        """Events per second of the rebuild."""
        return self.events / self.build_seconds

    @property
    def bulk_docs_rate(self) -> float:
        """Documents per second of the raw bulk."""
        return self.documents / self.bulk_seconds

    @property
    def ratio(self) -> float:
        """Rebuild documents/s ÷ raw bulk documents/s."""
        return self.build_docs_rate / self.bulk_docs_rate

    def line(self) -> str:
        """The figures as one line."""
        return (
            f"rebuild {self.events} events -> {self.documents} documents in {self.build_seconds:.1f} s = "
            f"{self.build_docs_rate:.0f} documents/s ({self.build_events_rate:.0f} events/s) | raw bulk "
            f"{self.documents} documents in {self.bulk_seconds:.2f} s = {self.bulk_docs_rate:.0f} documents/s | "
            f"ratio {self.ratio:.3f}"
        )


def medians(samples: list[Figures]) -> str:
    """The closing line: medians (with min-max spread) of the samples' figures and whether P7's target is met."""
    ratio = spread(s.ratio for s in samples)
    return (
        f"median of {len(samples)} samples (min-max): rebuild wall time "
        f"{spread(s.build_seconds for s in samples).text('.1f', 's')}, "
        f"{spread(s.build_docs_rate for s in samples).text('.0f', 'documents/s')} "
        f"({spread(s.build_events_rate for s in samples).text('.0f', 'events/s')}); raw bulk "
        f"{spread(s.bulk_docs_rate for s in samples).text('.0f', 'documents/s')}; ratio {ratio.text('.3f')} "
        f"(P7 target >= {TARGET}: {'met' if ratio.median >= TARGET else 'not met'})"
    )


def sample(
    n: int, events: list, expected: dict, batch: int, budget: float, progress: bool, fold: bool
) -> Figures | None:
    """One measurement in a fresh namespace; prints its line and returns its figures (None when out of time)."""
    client = OpenSearch(opensearch_url(), timeout=300)
    with Namespace().active() as namespace:
        config = ProjectorConfig(group=namespace.run, batch_size=batch, batch_timeout=0.5, metrics_port=0)
        prepare(client, config)  # the topics, the live read models (empty), the scripts
        produce_seconds = produce(events)
        group = f"{namespace.run}-rebuild"
        started = time.monotonic()
        new = create_indices(client, bulk=True)
        try:
            start, folded = fold_into(client, new, progress=progress, timeout=budget) if fold else (None, 0)
        except TimeoutError:
            print(f"sample {n}: out of time folding the history (no peer run)")
            return None
        with CatchUp(client, new, group, batch_size=batch, start=start, desc=f"sample {n}", progress=progress,
                     timeout=budget) as b:  # fmt: skip
            try:
                fill(client, b, new)
            except TimeoutError:
                seconds = time.monotonic() - started
                done = folded + b.events
                print(f"sample {n}: out of time: {done} of {len(events)} events in {seconds:.0f} s "
                      f"= {done / seconds:.0f} events/s (no peer run)")  # fmt: skip
                return None
        build_seconds = time.monotonic() - started
        swap_aliases(client, new)  # to read the build back through the aliases
        documents = read_documents(client, namespace.index_prefix)
        wrong = [f"{model}/{line}" for model in expected for line in mismatches(expected[model], documents[model])]
        held = dead_letters(client, group)
        count, bulk_seconds = raw_bulk(client, documents, namespace.index_prefix)
    figures = Figures(events=folded + b.events, documents=count, build_seconds=build_seconds, bulk_seconds=bulk_seconds)
    print(f"sample {n}: produced in {produce_seconds:.1f} s | {figures.line()} | check: {len(wrong)} wrong fields, "
          f"{held} held aggregates")  # fmt: skip
    for line in wrong[:5]:
        print(f"    {line}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000, help="posts in the history (the issue's target: 100000)")
    parser.add_argument("--users", type=int, default=0, help="default: posts / 10, at least 20")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="the build's batch (`rebuild`'s default)")
    parser.add_argument("--budget", type=float, default=900, help="seconds a sample's build may take")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--replay", action="store_true", help="replay the whole history (`rebuild(fold=False)`)")
    args = parser.parse_args()
    print(machine_line("before"), flush=True)
    recipe = Recipe(posts=args.posts, users=args.users or max(20, args.posts // 10), seed=args.seed)
    events = history(recipe)
    expected = expected_documents(events)
    types = ", ".join(f"{name} {n}" for name, n in sorted(Counter(e.event_type for e in events).items()))
    print(f"P7 history: {recipe.posts} posts, {recipe.users} users (user 1 writes 1 comment in {recipe.hot_every}): "
          f"{len(events)} events ({types}); final documents: "
          f"{', '.join(f'{m} {len(d)}' for m, d in expected.items())}")  # fmt: skip
    results, failures = [], Failures()
    for n in range(1, args.samples + 1):
        figures = sample(n, events, expected, args.batch, args.budget, not args.no_progress, not args.replay)
        if figures is None:
            failures.add("sample out of time", f"sample {n}")
        else:
            results.append(figures)
    print(medians(results) if results else f"no sample of {args.samples} finished within its budget")
    print(failures.text())
    print(machine_line("after"))
    if not results:
        sys.exit(1)


if __name__ == "__main__":
    main()
