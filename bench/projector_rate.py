"""P4: live projector throughput over a realistic history vs a raw bulk of the same final documents.

Needs the local services (`make services`). Run: `make bench-projector` (POSTS=2000, SAMPLES=3), or
`uv run python -m infra exec -- python -m bench.projector_rate --posts 2000 --samples 3`.

The history is `bench.history.history`: per post created, edited twice, retagged, published, 5 comments (one
edited, one deleted); one post in 20 unpublished or deleted; every user renamed once mid-history; one author
writing 10 % of the comments. Each sample, in a fresh private namespace (`bench.projection.Namespace`): the live
projector (`projector.consumer.app.bootstrap`: aliases, holds, dead letters, Redis notices) joins its group on the
empty topics, the history is produced, and the clock runs while the loop consumes all of it (events/s). The
projected documents are read back, checked against the history's expected final state (`expected_documents`) and
for dead letters, and their public fields bulk-loaded into fresh indices with the same mappings: the peer
(documents/s, and events-equivalent/s = the history's events / the bulk's seconds). The ratio projector events/s ÷
raw events-equivalent/s (= bulk seconds ÷ projection seconds) is P4's number (target >= 0.6). A third peer, the
floor, is a consumer of a fresh group that only polls and reads (decodes) the same records: what any projector on
kafka-python and this contract spends before writing anything, printed as a multiple of the bulk's time. Medians of the
samples are printed last. Every loop is bounded by count (the history) and time (`--budget` per sample); a sample
that runs out of time is reported as such and its rate is over what it reached. Traffic goes to loopback services.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from opensearchpy import OpenSearch

from bench.history import Recipe, expected_documents, history, mismatches
from bench.projection import (
    Namespace,
    dead_letters,
    live_loop,
    produce,
    project,
    raw_bulk,
    read_documents,
    read_floor,
)
from bench.stats import Failures, machine_line, spread
from projector.consumer.app import BATCH_SIZE_DEFAULT
from runtime.settings import opensearch_url

TARGET = 0.6


def sample(n: int, events: list, expected: dict, batch: int, budget: float) -> dict[str, float] | None:
    """One measurement in a fresh namespace; prints its line and returns its numbers (None when out of time)."""
    client = OpenSearch(opensearch_url(), timeout=300)
    with Namespace().active() as namespace:
        loop = live_loop(namespace, batch)
        try:
            produce_seconds = produce(events)
            progress, finished = project(loop, len(events), budget)
        finally:
            loop.close()
        seconds = progress.marks[-1][0] - progress.marks[0][0]
        if not finished:
            print(f"sample {n}: out of time: {progress.n} of {len(events)} events in {seconds:.0f} s "
                  f"= {progress.n / seconds:.0f} events/s (no peer run)")  # fmt: skip
            return None
        documents = read_documents(client, namespace.index_prefix)
        wrong = [f"{model}/{line}" for model in expected for line in mismatches(expected[model], documents[model])]
        held = dead_letters(client, namespace.run)
        count, bulk_seconds = raw_bulk(client, documents, namespace.index_prefix)
        floor_seconds = read_floor(namespace, len(events), batch, budget)
    rate, docs_rate, equivalent = progress.n / seconds, count / bulk_seconds, len(events) / bulk_seconds
    print(f"sample {n}: produced in {produce_seconds:.1f} s | projector {progress.n} events in {seconds:.1f} s = "
          f"{rate:.0f} events/s | raw bulk {count} documents in {bulk_seconds:.2f} s = {docs_rate:.0f} documents/s "
          f"= {equivalent:.0f} events-equivalent/s | ratio {rate / equivalent:.3f} | poll+read floor "
          f"{floor_seconds:.2f} s = {floor_seconds / bulk_seconds:.2f}x the bulk | check: {len(wrong)} wrong "
          f"fields, {held} held aggregates")  # fmt: skip
    for line in wrong[:5]:
        print(f"    {line}")
    return {"rate": rate, "docs_rate": docs_rate, "equivalent": equivalent, "ratio": rate / equivalent,
            "floor": floor_seconds / bulk_seconds, "valid": float(not wrong and not held)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--users", type=int, default=0, help="default: posts / 10, at least 20")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument(
        "--batch", type=int, default=BATCH_SIZE_DEFAULT, help="the live projector's batch (PROJECTOR_BATCH_SIZE)"
    )
    parser.add_argument("--budget", type=float, default=600, help="seconds a sample may project for")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(machine_line("before"), flush=True)
    recipe = Recipe(posts=args.posts, users=args.users or max(20, args.posts // 10), seed=args.seed)
    events = history(recipe)
    expected = expected_documents(events)
    types = ", ".join(f"{name} {n}" for name, n in sorted(Counter(e.event_type for e in events).items()))
    print(f"P4 history: {recipe.posts} posts, {recipe.users} users (user 1 writes 1 comment in {recipe.hot_every}): "
          f"{len(events)} events ({types}); final documents: "
          f"{', '.join(f'{m} {len(d)}' for m, d in expected.items())}")  # fmt: skip
    failures = Failures()
    results = []
    for n in range(1, args.samples + 1):
        if (result := sample(n, events, expected, args.batch, args.budget)) is None:
            failures.add("sample out of time", f"sample {n}")
            continue
        failures.add("sample with wrong documents or held aggregates", f"sample {n}", count=int(not result["valid"]))
        results.append(result)
    print(closing(results, args.samples))
    print(failures.text())
    print(machine_line("after"))
    if not results:
        sys.exit(1)


def closing(results: list[dict[str, float]], samples: int) -> str:
    """The medians (with min-max spread) of the finished samples' figures, and whether P4's target is met."""
    if not results:
        return f"no sample of {samples} finished within its budget"
    ratio = spread(r["ratio"] for r in results)
    return (
        f"median of {len(results)} of {samples} samples (min-max): projector "
        f"{spread(r['rate'] for r in results).text('.0f', 'events/s')}; raw bulk "
        f"{spread(r['docs_rate'] for r in results).text('.0f', 'documents/s')} = "
        f"{spread(r['equivalent'] for r in results).text('.0f', 'events-equivalent/s')}; ratio {ratio.text('.3f')} "
        f"(P4 target >= {TARGET}: {'met' if ratio.median >= TARGET else 'not met'}); polling and reading the events "
        f"alone takes {spread(r['floor'] for r in results).text('.2f', 'x')} the bulk's time (the target allows "
        f"{1 / TARGET:.2f}x for everything)"
        f"{'' if all(r['valid'] for r in results) else '; WARNING: a sample projected wrong documents'}"
    )


if __name__ == "__main__":
    main()
