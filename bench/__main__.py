"""`make bench`: every benchmark in turn at sizes this machine finishes in reasonable time, then one Markdown report.

Run: `make bench` (or `uv run --frozen python -m infra exec -- python -m bench [--only NAME ...] [--report PATH]`).
Each bench runs as its own process (`python -m bench.<module> ARGS`, the sizes in `SUITES`), its output shown as it
comes and captured; machine facts are taken before and after each bench and the whole run. A bench that exits
non-zero or outlives its time limit (interrupted, then terminated with everything it started) is reported as
failed, and the run goes on with the next; the exit status is 1 when any failed. The report (default
docs/benchmarks.md) holds the machine facts, a summary table and each bench's command and printed figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.report import BenchRun, render
from bench.stats import machine_facts, machine_line

REPO_ROOT = Path(__file__).resolve().parent.parent
REPORT = REPO_ROOT / "docs" / "benchmarks.md"
INTERRUPT_GRACE = 60  # seconds a bench past its limit has to clean up after SIGINT before it is terminated


@dataclass(frozen=True)
class Suite:
    """One bench of `make bench`: its name (`make bench-<name>`), module, arguments and time limit."""

    name: str
    module: str
    args: tuple[str, ...]
    limit: float  # seconds
    about: str

    def argv(self) -> list[str]:
        """The command line, with this interpreter."""
        return [sys.executable, "-m", f"bench.{self.module}", *self.args]

    def command(self) -> str:
        """The command line as a person runs it."""
        return shlex.join(["uv", "run", "--frozen", "python", "-m", "infra", "exec", "--", "python", "-m",
                           f"bench.{self.module}", *self.args])  # fmt: skip


# Smaller than each bench's own target (see the Makefile) so the whole run takes about an hour on 2 cores.
SUITES = (
    Suite("bounds", "bounds", ("--samples", "7"), 600,
          "How fast the command API refuses oversized input, in process on SQLite (min / median / max of 7)."),
    Suite("command", "command_write", (), 1200,
          "POST create with and without the outbox, and commit-to-Kafka latency (the bench's own sizes)."),
    Suite("projector", "projector_rate", ("--posts", "500", "--samples", "3", "--budget", "300"), 1200,
          "P4: live projector events/s on a realistic history vs a raw bulk of its final documents."),
    Suite("hot-author", "hot_author", ("--comments", "5000", "--samples", "3", "--budget", "60"), 900,
          "P9: events/s over the last vs the first 10 % of one author's comments."),
    Suite("rebuild", "rebuild_rate", ("--posts", "500", "--samples", "3", "--budget", "300", "--no-progress"), 1500,
          "P7: a full rebuild's build phase vs a raw bulk of its final documents."),
    Suite("query", "query_read",
          ("--posts", "10000", "--users", "200", "--seconds", "3", "--warmup", "1", "--alone-seconds", "1",
           "--deep-pages", "20", "--samples", "3"), 1800,
          "Issue 15: list/search of the query service vs its raw _search and a fair ORM list, at 16 and alone."),
    Suite("ryw", "read_your_writes", ("--seconds", "20", "--samples", "3"), 900,
          "Read-your-writes wait p50/p99 and stale count under a steady write load."),
    Suite("searchable", "commit_to_searchable", ("--seconds", "10", "--samples", "3", "--rate", "20"), 900,
          "Commit -> searchable p50/p99 at a steady write rate through the command API."),
    Suite("stream", "stream_delivery",
          ("--subscribers", "1000", "--rate", "5", "--notices", "50", "--samples", "3", "--window", "30"), 1200,
          "P8: WebSocket delivery p50/p99 to 1,000 subscribers, notice written -> frame received."),
    Suite("erasure", "erasure", ("--samples", "3", "--erasures", "20", "--posts", "300"), 1200,
          "Issue 18: DELETE -> last trace gone p50/p99 (20 s compaction lag), sealed vs plain projection."),
)  # fmt: skip


def _tee(stream: object, into: list[str]) -> None:
    """Copy lines from the child's stdout to ours as they come, keeping them."""
    for line in stream:  # type: ignore[attr-defined]
        sys.stdout.write(line)
        sys.stdout.flush()
        into.append(line)


def _stop(proc: subprocess.Popen) -> None:
    """A bench past its limit: SIGINT to it (its clean-up runs), then SIGTERM and SIGKILL to its process group (its
    own, by start_new_session: the servers it started), each after a grace period."""
    steps = ((proc.send_signal, signal.SIGINT, INTERRUPT_GRACE), (_signal_group(proc), signal.SIGTERM, 20),
             (_signal_group(proc), signal.SIGKILL, 20))  # fmt: skip
    for send, sig, grace in steps:
        with contextlib.suppress(ProcessLookupError):
            send(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
            break
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # what outlived the bench itself


def _signal_group(proc: subprocess.Popen) -> Callable[[int], None]:
    """A sender of signals to the bench's process group."""
    return lambda sig: os.killpg(proc.pid, sig)


def run_suite(suite: Suite, limit: float | None = None) -> BenchRun:
    """Run one bench to its end or its time limit; what it printed and how it ended."""
    limit = suite.limit if limit is None else limit
    before, started, began = machine_facts(), datetime.now(UTC), time.monotonic()
    print(f"\n=== bench-{suite.name}: {suite.command()} (limit {limit:.0f} s)", flush=True)
    print(machine_line("harness, before"), flush=True)
    lines: list[str] = []
    with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(suite.argv(), cwd=REPO_ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                                text=True, start_new_session=True)  # fmt: skip
        reader = threading.Thread(target=_tee, args=(proc.stdout, lines), daemon=True)
        reader.start()
        try:
            returncode: int | None = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _stop(proc)
            returncode = None
        reader.join(timeout=10)
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    run = BenchRun(suite.name, suite.about, suite.command(), started, time.monotonic() - began, returncode,
                   "".join(lines), errors, before, machine_facts())  # fmt: skip
    print(f"=== bench-{suite.name}: {run.status} after {run.seconds:.0f} s", flush=True)
    print(machine_line("harness, after"), flush=True)
    if not run.ok and errors.strip():
        print("\n".join(errors.rstrip().splitlines()[-20:]), file=sys.stderr)
    return run


def main(argv: list[str] | None = None, suites: tuple[Suite, ...] = SUITES) -> None:
    """Run the chosen benches of `suites` (arguments `argv`, else the command line's), write the report, exit 1 when
    any failed."""
    names = [suite.name for suite in suites]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"run only these: {', '.join(names)}")
    parser.add_argument("--report", type=Path, default=REPORT, help="where the Markdown report goes")
    parser.add_argument("--list", action="store_true", help="print each bench's command and limit, run nothing")
    args = parser.parse_args(argv)
    chosen = [suite for suite in suites if not args.only or suite.name in args.only]
    if args.list:
        for suite in chosen:
            print(f"bench-{suite.name:<11} limit {suite.limit:5.0f} s  {suite.command()}")
        return
    before, started = machine_facts(), datetime.now(UTC)
    print(machine_line("before the run"), flush=True)
    runs = [run_suite(suite) for suite in chosen]
    after, finished = machine_facts(), datetime.now(UTC)
    print(f"\n{machine_line('after the run')}")
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        render(runs, command=command, started=started, finished=finished, before=before, after=after)
    )
    failed = [run.name for run in runs if not run.ok]
    print(f"report: {args.report}; " + (f"FAILED: {', '.join(failed)}" if failed else f"all {len(runs)} ran"))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
