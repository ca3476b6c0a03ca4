"""Commit -> searchable under a steady write rate through the command API on PostgreSQL (issue 13's last figure).

Needs the local services (`make services`). Run: `make bench-searchable` (SECONDS=30 SAMPLES=3 RATE=50), or
`uv run python -m infra exec -- python -m bench.commit_to_searchable --seconds 30 --samples 3 --rate 50`.

Starts the write-to-search path on private names (a scratch PostgreSQL database, EVENTS_TOPIC_PREFIX,
PROJECTOR_INDEX_PREFIX, PROJECTOR_GROUP), as `bench.read_your_writes` does: the command service (gunicorn gthread
3 x 4, as in `infra.procfile`), the outbox relay and one projector. It registers `--authors` users through the API;
each author is a thread with a kept-alive connection that writes on an absolute schedule: write i of a sample is due
at start + i / rate and belongs to author i mod authors, so the authors interleave into one steady stream (a late
write does not push the later ones back: the next is due when it is due). Each author repeats create, publish,
comment, edit, comment: creates and publishes of its own posts, edits of one of its published posts, comments on a
recent published post of anyone's. Per write the bench records when the API answered (the commit) and the version
its X-Consistency-Token names; `--pollers` threads search the aliases (`ids` queries, what a list sees, not a
realtime get) every `--poll-interval` seconds for the pending documents and mark a write searchable when its
document shows that version or a later one (the time is that of the answer that first showed it, so the
resolution is about one poll interval plus a search round trip, both printed). A write not searchable
`--timeout` seconds after its commit counts as never searchable. It prints each sample's line and the medians
across samples; everything it created is deleted at the end. Bounded: rate x seconds writes per sample, each
waited for at most `--timeout`; traffic goes to loopback services only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch

from bench.stats import Failures, machine_line, median, spread
from bench.support import (
    base_env,
    delete_namespace,
    free_port,
    manage,
    percentile,
    process,
    scratch_database,
    wait_for_http,
)
from events.consistency import TOKEN_HEADER, token_parse
from events.topics import dead_letter_spec, ensure_topics
from projector.consumer.app import ProjectorConfig
from read_models.documents import VERSION_FIELDS
from read_models.indices import alias_of
from read_models.models import READ_MODELS
from runtime.settings import kafka_bootstrap_servers, opensearch_url

# What each author does, step after step (a cycle): 1 in 5 writes a create, a publish, an edit; 2 in 5 a comment.
MIX = ("create", "publish", "comment", "edit", "comment")
IDS_PER_SEARCH = 500  # pending documents asked for in one search
RECENT_POSTS = 50  # comments go to one of the most recently published posts
CONTENT = "A post written at a steady rate and searched for until it shows. " * 12


@dataclass
class Write:
    """One API call that committed, and when its change became searchable (None: not yet, or never)."""

    kind: str
    aggregate_type: str
    aggregate_id: str
    version: int
    scheduled: float  # time.monotonic() the write was due
    started: float  # ... the request was sent
    committed: float  # ... the API's answer was read
    searchable: float | None = None  # ... the answer of the first search showing the version arrived
    seq: int = -1  # given by `Tracker.add`


@dataclass(frozen=True)
class SampleResult:
    """One sample's figures; latencies in milliseconds (NaN when there are none)."""

    writes: int
    errors: int
    achieved_rate: float
    max_lag_ms: float
    api_p50_ms: float
    api_p99_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    never: int


def schedule(total: int, authors: int, rate: float) -> list[list[float]]:
    """Each author's due times, in seconds from the start: write i is due at i / rate and is author i mod authors's."""
    due: list[list[float]] = [[] for _ in range(authors)]
    for i in range(total):
        due[i % authors].append(i / rate)
    return due


def kind_of(step: int) -> str:
    """What an author's `step`-th write is (`MIX`, cycled)."""
    return MIX[step % len(MIX)]


def ms_percentiles(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p99 (nearest rank, `bench.support.percentile`) and max of durations in seconds, in milliseconds."""
    if not seconds:
        return float("nan"), float("nan"), float("nan")
    ms = [value * 1000 for value in seconds]
    return percentile(ms, 50), percentile(ms, 99), max(ms)


def achieved_rate(commits: list[float]) -> float:
    """Writes per second from the spacing of the commits: (n - 1) intervals over first to last (0 under two)."""
    if len(commits) < 2 or max(commits) == min(commits):
        return 0.0
    return (len(commits) - 1) / (max(commits) - min(commits))


def summarise(writes: list[Write], errors: int) -> SampleResult:
    """A sample's figures from its writes: commit -> searchable of those that became searchable, the others counted."""
    p50, p99, worst = ms_percentiles([w.searchable - w.committed for w in writes if w.searchable is not None])
    api_p50, api_p99, _ = ms_percentiles([w.committed - w.started for w in writes])
    lags = [max(0.0, w.started - w.scheduled) * 1000 for w in writes]
    return SampleResult(
        writes=len(writes),
        errors=errors,
        achieved_rate=achieved_rate([w.committed for w in writes]),
        max_lag_ms=max(lags, default=float("nan")),
        api_p50_ms=api_p50,
        api_p99_ms=api_p99,
        p50_ms=p50,
        p99_ms=p99,
        max_ms=worst,
        never=sum(w.searchable is None for w in writes),
    )


def p50_by_part(writes: list[Write], parts: int = 3) -> list[float]:
    """Commit -> searchable p50 (ms) of each consecutive part of the writes by commit time: a rise is a backlog."""
    ordered = sorted(writes, key=lambda w: w.committed)
    size = len(ordered) / parts
    chunks = [ordered[round(n * size) : round((n + 1) * size)] for n in range(parts)]
    return [
        ms_percentiles([w.searchable - w.committed for w in chunk if w.searchable is not None])[0] for chunk in chunks
    ]


def medians(results: list[SampleResult]) -> dict[str, float]:
    """The median (nearest rank, `bench.stats.median`) of each figure across samples."""
    return {f.name: median(getattr(r, f.name) for r in results) for f in fields(SampleResult)}


class Author:
    """A registered user writing through a kept-alive connection to the command API."""

    def __init__(self, port: int, name: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        user = {"username": name, "password": "bench-password", "display_name": name}
        status, _, body = self._call("POST", "/api/v1/users/", user)
        if status != 201:
            raise RuntimeError(f"register answered {status}: {body}")
        status, _, body = self._call("POST", "/api/v1/auth/token/", {k: user[k] for k in ("username", "password")})
        if status != 200:
            raise RuntimeError(f"token answered {status}: {body}")
        self.auth = {"Authorization": f"Token {body['token']}"}
        self.draft: int | None = None
        self.published: list[int] = []

    def _call(self, method: str, path: str, body: object = None,
              headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, dict]:  # fmt: skip
        """One JSON request; a kept-alive connection the server closed meanwhile is reopened once."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, response.headers, json.loads(data) if data else {}
            except (ConnectionError, http.client.RemoteDisconnected):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def write(self, kind: str, board: list[int], rng: random.Random) -> tuple[str, str, int]:
        """Do one write of `kind`; (aggregate type, id, version) from its consistency token.

        Raises:
            RuntimeError: the API refused the write, or its precondition (a draft, a published post) is missing.
        """
        n = len(self.published)
        if kind == "create":
            post = {"title": f"Steady post {n}", "content": CONTENT, "tags": ["bench", "searchable"]}
            status, headers, body = self._call("POST", "/api/v1/posts/", post, self.auth)
            expected = 201
        elif kind == "publish":
            if self.draft is None:
                raise RuntimeError("no draft to publish")
            status, headers, body = self._call("POST", f"/api/v1/posts/{self.draft}/publish/", None, self.auth)
            expected = 200
        elif kind == "edit":
            if not self.published:
                raise RuntimeError("no post to edit")
            edit = {"title": f"Steady post {n}, edited", "content": CONTENT + f" Edit {rng.random():.6f}."}
            post_id = rng.choice(self.published)
            status, headers, body = self._call("PATCH", f"/api/v1/posts/{post_id}/", edit, self.auth)
            expected = 200
        elif kind == "comment":
            if not board:
                raise RuntimeError("no published post to comment on")
            post_id = rng.choice(board[-RECENT_POSTS:])
            comment = {"body": f"A comment at a steady rate, {rng.random():.6f}."}
            status, headers, body = self._call("POST", f"/api/v1/posts/{post_id}/comments/", comment, self.auth)
            expected = 201
        else:
            raise ValueError(kind)
        if status != expected:
            raise RuntimeError(f"{kind} answered {status}: {str(body)[:200]}")
        if kind == "create":
            self.draft = body["id"]
        elif kind == "publish":
            self.published.append(self.draft)
            board.append(self.draft)  # list.append is atomic: other authors' threads read the board
            self.draft = None
        token = token_parse(headers[TOKEN_HEADER])
        return token.aggregate_type, token.aggregate_id, token.version

    def close(self) -> None:
        self.conn.close()


class Tracker:
    """A sample's writes, and `pollers` threads searching the aliases until each shows its version or times out."""

    def __init__(self, pollers: int, interval: float, timeout: float) -> None:
        self.interval, self.timeout = interval, timeout
        self.writes: list[Write] = []
        self.pending: list[dict[int, Write]] = [{} for _ in range(pollers)]  # one shard per poller, by seq
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.round_trips: list[float] = []  # seconds per search
        self.poll_errors: list[str] = []
        self.aliases = {kind: alias_of_model(model) for kind, (model, _) in VERSION_FIELDS.items()}
        self.threads = [threading.Thread(target=self._poll, args=(n,), daemon=True) for n in range(pollers)]
        for thread in self.threads:
            thread.start()

    def add(self, write: Write) -> None:
        """Track a committed write."""
        with self.lock:
            write.seq = len(self.writes)
            self.writes.append(write)
            self.pending[write.seq % len(self.pending)][write.seq] = write

    def close(self) -> list[Write]:
        """No more writes: wait until every pending one was seen or timed out (bounded); every write, in order."""
        self.closed.set()
        for thread in self.threads:
            thread.join(self.timeout + 30)
        with self.lock:
            return list(self.writes)

    def _poll(self, n: int) -> None:
        client = OpenSearch(opensearch_url(), timeout=10)
        shard = self.pending[n]
        while True:
            with self.lock:
                waiting = list(shard.values())
            if not waiting and self.closed.is_set():
                return
            if waiting:
                seen = self._versions(client, waiting)
                now = time.monotonic()
                with self.lock:
                    for write in waiting:
                        if seen.get((write.aggregate_type, write.aggregate_id), 0) >= write.version:
                            write.searchable = now
                            del shard[write.seq]
                        elif now - write.committed > self.timeout:
                            del shard[write.seq]  # never searchable: counted by `summarise`
            time.sleep(self.interval)

    def _versions(self, client: OpenSearch, waiting: list[Write]) -> dict[tuple[str, str], int]:
        """{(aggregate type, id): the version search shows} for the waiting writes' documents."""
        wanted: dict[str, set[str]] = {}
        for write in waiting:
            wanted.setdefault(write.aggregate_type, set()).add(write.aggregate_id)
        seen: dict[tuple[str, str], int] = {}
        for kind, ids in wanted.items():
            field = VERSION_FIELDS[kind][1]
            ordered = sorted(ids)
            for start in range(0, len(ordered), IDS_PER_SEARCH):
                chunk = ordered[start : start + IDS_PER_SEARCH]
                body = {"query": {"ids": {"values": chunk}}, "_source": [field], "size": len(chunk)}
                began = time.monotonic()
                try:
                    hits = client.search(index=self.aliases[kind], body=body)["hits"]["hits"]
                except Exception as error:  # not created yet, or a hiccup: not seen this round
                    self.poll_errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                    continue
                self.round_trips.append(time.monotonic() - began)
                for hit in hits:
                    seen[(kind, hit["_id"])] = hit["_source"].get(field) or 0
        return seen


def alias_of_model(name: str) -> str:
    """The alias of the read model called `name`, with the prefix in force."""
    return alias_of(next(model for model in READ_MODELS if model.name == name))


def author_loop(author: Author, due: list[float], began: float, board: list[int], tracker: Tracker,
                errors: list[str], rng: random.Random) -> None:  # fmt: skip
    """Write at the due times (absolute: a late write does not move the next one's due time)."""
    for step, offset in enumerate(due):
        scheduled = began + offset
        pause = scheduled - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        kind = kind_of(step)
        started = time.monotonic()
        try:
            aggregate_type, aggregate_id, version = author.write(kind, board, rng)
        except Exception as error:  # keep to the schedule; the count is printed
            errors.append(f"{kind}: {error}")
            continue
        tracker.add(Write(kind, aggregate_type, aggregate_id, version, scheduled, started, time.monotonic()))


@dataclass
class Sample:
    """What one sample produced."""

    result: SampleResult
    writes: list[Write]
    errors: list[str]
    round_trips: list[float]
    poll_errors: list[str]


def run_sample(authors: list[Author], board: list[int], args: argparse.Namespace, seed: int) -> Sample:
    """One sample: rate x seconds writes on the schedule, then a bounded wait for each to become searchable."""
    due = schedule(round(args.rate * args.seconds), len(authors), args.rate)
    tracker = Tracker(args.pollers, args.poll_interval, args.timeout)
    errors: list[str] = []
    began = time.monotonic() + 0.5  # every thread is up before the first write is due
    threads = [
        threading.Thread(
            target=author_loop, args=(author, due[k], began, board, tracker, errors, random.Random(seed + k))
        )
        for k, author in enumerate(authors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writes = tracker.close()
    return Sample(summarise(writes, len(errors)), writes, errors, tracker.round_trips, tracker.poll_errors)


def wait_until_projecting(author: Author, board: list[int], timeout: float = 90) -> float:
    """Create and publish one post, wait until search shows it published (the projector is in its group); seconds."""
    started = time.monotonic()
    tracker = Tracker(1, 0.05, timeout)
    rng = random.Random(0)
    for kind in ("create", "publish"):
        begun = time.monotonic()
        aggregate_type, aggregate_id, version = author.write(kind, board, rng)
        tracker.add(Write(kind, aggregate_type, aggregate_id, version, begun, begun, time.monotonic()))
    writes = tracker.close()
    if any(write.searchable is None for write in writes):
        raise RuntimeError(f"the projector did not make a post searchable within {timeout:.0f} s")
    return time.monotonic() - started


@contextlib.contextmanager
def system(env: dict[str, str], logs: Path) -> Iterator[tuple[int, dict[str, subprocess.Popen]]]:
    """The command service, the relay and one projector on private names; yields (command port, processes)."""
    port = free_port()
    py = sys.executable
    gunicorn = [
        py, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", "3", "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip
    with (
        process(gunicorn, env, logs / "command.log") as command,
        process([py, "-m", "command_service", "outbox_relay"], env, logs / "relay.log") as relay,
        process([py, "-m", "projector", "run"], env, logs / "projector.log") as projector,
    ):
        wait_for_http(port)
        yield port, {"command": command, "relay": relay, "projector": projector}


def exited(processes: dict[str, subprocess.Popen]) -> list[str]:
    """`name (exit code)` of each process that is no longer running."""
    return [f"{name} (exit {proc.returncode})" for name, proc in processes.items() if proc.poll() is not None]


def fmt_ms(value: float) -> str:
    """Milliseconds to one decimal, `-` for NaN."""
    return "-" if value != value else f"{value:.1f} ms"


def sample_line(label: str, result: SampleResult) -> str:
    """One sample's (or the medians') figures on a line."""
    return (
        f"{label}: {result.writes:.0f} writes committed, achieved {result.achieved_rate:.1f} writes/s, "
        f"{result.errors:.0f} refused, max start lag {fmt_ms(result.max_lag_ms)} | commit -> searchable "
        f"p50 {fmt_ms(result.p50_ms)}  p99 {fmt_ms(result.p99_ms)}  max {fmt_ms(result.max_ms)} | never "
        f"searchable: {result.never:.0f} | API p50 {fmt_ms(result.api_p50_ms)} p99 {fmt_ms(result.api_p99_ms)}"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="length of each sample's steady load")
    parser.add_argument("--samples", type=int, default=3, help="samples (medians across them are printed last)")
    parser.add_argument("--rate", type=float, default=50, help="writes per second through the command API")
    parser.add_argument("--authors", type=int, default=25, help="writing users, one thread and connection each")
    parser.add_argument("--pollers", type=int, default=2, help="threads searching for the pending documents")
    parser.add_argument("--poll-interval", type=float, default=0.01, help="seconds between a poller's searches")
    parser.add_argument("--timeout", type=float, default=20, help="seconds after its commit a write is given up")
    args = parser.parse_args()
    if not (args.seconds > 0 and args.samples >= 1 and args.rate > 0 and args.authors >= 1 and args.pollers >= 1):
        parser.error("--seconds, --rate, --samples, --authors and --pollers must be positive")
    run = f"benchsrch-{uuid.uuid4().hex[:6]}"
    names = {"EVENTS_TOPIC_PREFIX": f"{run}.", "PROJECTOR_INDEX_PREFIX": f"{run}-", "PROJECTOR_GROUP": run}
    os.environ.update(names)  # for ensure_topics, the aliases searched here and the clean-up
    logs = Path(tempfile.mkdtemp(prefix="bench-searchable-"))
    config = ProjectorConfig.from_env()
    print(machine_line("before"), flush=True)
    print(f"commit -> searchable benchmark {run}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores "
          f"shared by every service, process and this load generator; load average {os.getloadavg()[0]:.2f}\n"
          f"system: command service (gunicorn gthread 3 x 4) on a scratch PostgreSQL database, outbox relay, 1 "
          f"projector (batch {config.batch_size}, batch timeout {config.batch_timeout:g} s)\n"
          f"load: {args.rate:g} writes/s for {args.seconds:g} s per sample, {args.samples} samples, {args.authors} "
          f"authors cycling {' / '.join(MIX)}; {args.pollers} pollers searching every {args.poll_interval * 1000:g} "
          f"ms; a write not searchable {args.timeout:g} s after its commit counts as never", flush=True)  # fmt: skip
    samples: list[Sample] = []
    try:
        ensure_topics(kafka_bootstrap_servers(), extra=[dead_letter_spec(run)])
        with scratch_database(run.replace("-", "_")) as db_url:
            env = base_env(DATABASE_URL=db_url, PROJECTOR_METRICS_PORT="0", **names)
            env.pop("DJANGO_SETTINGS_MODULE", None)  # each entry point names its own settings
            manage(env, "migrate", "-v0")
            with system(env, logs) as (port, processes):
                authors = [Author(port, f"steady_{n}") for n in range(args.authors)]
                board: list[int] = []
                print(f"first write searchable after {wait_until_projecting(authors[0], board):.1f} s "
                      "(projector start-up)", flush=True)  # fmt: skip
                for n in range(1, args.samples + 1):
                    sample = run_sample(authors, board, args, seed=1000 * n)
                    samples.append(sample)
                    print(sample_line(f"sample {n}", sample.result), flush=True)
                    by_kind = Counter(write.kind for write in sample.writes)
                    search_p50, search_p99, _ = ms_percentiles(sample.round_trips)
                    thirds = " / ".join(fmt_ms(value) for value in p50_by_part(sample.writes))
                    print(f"    kinds {dict(sorted(by_kind.items()))}; p50 by third of the sample {thirds}")
                    print(f"    search round trip p50 {fmt_ms(search_p50)} "
                          f"p99 {fmt_ms(search_p99)}; {len(sample.poll_errors)} failed searches; load average "
                          f"{os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
                    for error in sample.errors[:3] + sample.poll_errors[:3]:
                        print(f"    e.g. {error}")
                    if dead := exited(processes):
                        print(f"    stopped during the sample: {', '.join(dead)} (see {logs})")
                        break
                for author in authors:
                    author.close()
    finally:
        delete_namespace(run, run, names["PROJECTOR_INDEX_PREFIX"])
    if not samples:
        sys.exit("no sample ran")
    middle = medians([sample.result for sample in samples])
    print(sample_line(f"median of {len(samples)} samples", SampleResult(**middle)))
    results = [sample.result for sample in samples]
    print(f"    spread, median (min-max, n): commit -> searchable p50 "
          f"{spread(r.p50_ms for r in results).text(unit='ms')}  p99 "
          f"{spread(r.p99_ms for r in results).text(unit='ms')} | achieved "
          f"{spread(r.achieved_rate for r in results).text(unit='writes/s')}")  # fmt: skip
    failures = Failures()
    for sample in samples:
        failures.add("write refused", sample.errors[0] if sample.errors else "", count=len(sample.errors))
        failures.add("write never searchable", count=sample.result.never)
        first_poll_error = sample.poll_errors[0] if sample.poll_errors else ""
        failures.add("search failed", first_poll_error, count=len(sample.poll_errors))
    print(f"    {failures.text()}")
    if middle["achieved_rate"] < 0.95 * args.rate:
        print(f"    NOTE: the achieved rate is below the target {args.rate:g} writes/s: the command API (or the "
              "machine) did not keep up, so these are not the figures of a steady target rate")  # fmt: skip
    every = [write for sample in samples for write in sample.writes]
    for kind in sorted(set(MIX)):
        mine = [w for w in every if w.kind == kind]
        p50, p99, worst = ms_percentiles([w.searchable - w.committed for w in mine if w.searchable is not None])
        api_p50, api_p99, _ = ms_percentiles([w.committed - w.started for w in mine])
        print(f"    {kind:<8} (all samples) commit -> searchable p50 {fmt_ms(p50)}  p99 {fmt_ms(p99)}  "
              f"max {fmt_ms(worst)} | API p50 {fmt_ms(api_p50)} p99 {fmt_ms(api_p99)}")  # fmt: skip
    print(f"(logs in {logs}; topics {run}.*, indices {run}-*, group {run} and the scratch database deleted)")
    print(machine_line("after"))


if __name__ == "__main__":
    main()
