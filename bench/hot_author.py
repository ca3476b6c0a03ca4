"""P9: one author with many comments: does the projector keep its rate as the author's comment count grows?

Needs the local services (`make services`). Run: `make bench-hot-author` (COMMENTS=20000, SAMPLES=3,
BUDGET=120), or `uv run python -m infra exec -- python -m bench.hot_author --comments 100000` for the issue's size.

The history is `bench.history.hot_author_history`: two users, user 2's posts (created, published), then
`--comments` comments by user 1, 50 to a post, so only the author's own document grows with the count. Each sample,
in a fresh private namespace (`bench.projection.Namespace`), runs the live projector
(`projector.consumer.app.bootstrap`): it projects the setup first, then the clock runs while it consumes the
comments, produced beforehand as one backlog. Printed: events/s over the first and over the last window of
`--window` % of the comments (batch-granular: each window runs from the batch that reached its start to the one
that reached its end), last ÷ first (P9 target >= 0.8), and as a check the author's projected comment count.
Bounded in count (the history) and in time: a sample stops after `--budget` seconds of projecting, and then its last
window is the last one it reached, which is said.
"""

from __future__ import annotations

import argparse

from opensearchpy import OpenSearch

from bench.history import HOT_AUTHOR, hot_author_history
from bench.projection import Namespace, dead_letters, live_loop, produce, project
from bench.stats import Failures, machine_line, spread
from projector.consumer.app import BATCH_SIZE_DEFAULT
from read_models.indices import alias_of
from read_models.models import READ_MODELS
from runtime.settings import opensearch_url

READ_MODELS_BY_NAME = {model.name: model for model in READ_MODELS}

TARGET = 0.8


def sample(n: int, setup: list, comments: list, window: int, batch: int, budget: float) -> tuple[float, bool]:
    """One measurement in a fresh namespace; prints its line, returns (last ÷ first, all comments projected)."""
    with Namespace().active() as namespace:
        loop = live_loop(namespace, batch)
        try:
            produce(setup)
            ready, _ = project(loop, len(setup), 120)
            if ready.n < len(setup):
                raise RuntimeError(f"the setup did not project: {ready.n} of {len(setup)} events")
            produce(comments)
            progress, finished = project(loop, len(comments), budget)
        finally:
            loop.close()
        client = OpenSearch(opensearch_url(), timeout=60)
        held = dead_letters(client, namespace.run)
        authors = alias_of(READ_MODELS_BY_NAME["authors"], namespace.index_prefix)
        counted = client.get(index=authors, id=HOT_AUTHOR)["_source"].get("comment_count")
    reached = progress.n
    first_seconds, first_records = progress.seconds_between(0, window)
    last_seconds, last_records = progress.seconds_between(max(0, reached - window), reached)
    first, last = first_records / first_seconds, last_records / last_seconds
    total = progress.marks[-1][0] - progress.marks[0][0]
    state = "all" if finished else f"out of time after {budget:.0f} s: {reached} of {len(comments)}"
    print(f"sample {n}: {state} comments in {total:.1f} s | first {first_records} comments {first:.0f} events/s | "
          f"last {last_records} (up to #{reached}) {last:.0f} events/s | last / first {last / first:.3f} | "
          f"check: author's comment_count {counted} (expected {reached if finished else '<= ' + str(reached)}), "
          f"{held} held aggregates")  # fmt: skip
    return last / first, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--window", type=float, default=10, help="percent of the comments in each window")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument(
        "--batch", type=int, default=BATCH_SIZE_DEFAULT, help="the live projector's batch (PROJECTOR_BATCH_SIZE)"
    )
    parser.add_argument("--budget", type=float, default=120, help="seconds a sample may project comments for")
    args = parser.parse_args()
    print(machine_line("before"), flush=True)
    setup, comments = hot_author_history(args.comments)
    window = max(1, round(args.comments * args.window / 100))
    print(f"P9 history: {len(setup)} setup events (2 users, {len(setup) // 2 - 1} posts), then {len(comments)} "
          f"comments by one author; windows of {window} comments; batch {args.batch}; budget {args.budget:.0f} s "
          f"a sample")  # fmt: skip
    results = [sample(n, setup, comments, window, args.batch, args.budget) for n in range(1, args.samples + 1)]
    ratio = spread(r for r, _ in results)
    failures = Failures()
    failures.add("sample out of time before the last comment", count=sum(not finished for _, finished in results))
    met = ratio.median >= TARGET and not failures.total
    print(f"median of {len(results)} samples (min-max): last / first {ratio.text('.3f')} "
          f"(P9 target >= {TARGET}: {'met' if met else 'not met'})")  # fmt: skip
    print(failures.text())
    print(machine_line("after"))


if __name__ == "__main__":
    main()
