"""List and search latency of the query service (OpenSearch) vs the same list by the Django ORM (PostgreSQL).

Needs the local services (`make services`). Run: `make bench-query` (or `uv run python -m infra exec -- python -m
bench.query_read --posts 100000`). On a scratch PostgreSQL database it writes a data set with bulk_create (see
`bench.read_data`), builds the read models from the same rows with the projector's own expected documents into
indices behind a private PROJECTOR_INDEX_PREFIX, then serves the query service (uvicorn, 2 workers, with the
TCP_NODELAY fix of `query_service.serve`; two cases also on plain uvicorn, to show what its missing TCP_NODELAY
costs) and, for comparison, an ORM list of the same posts (gunicorn gthread, 3 x 4, see `bench.orm_list`), and loads
each case at a fixed concurrency with keep-alive connections, then with one client; `--samples` rounds over every
case, then the median and spread of each figure per case, and the failed requests. It prints numbers only; every
database, index and process it created is deleted or stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from opensearchpy import OpenSearch

from bench.read_data import DataSet, common_word, load_read_models, popular_tag, populate
from bench.stats import Failures, machine_line, spread
from bench.support import (
    base_env,
    free_port,
    manage,
    percentile,
    process,
    run_load,
    scratch_database,
    wait_for_http,
)
from runtime.settings import opensearch_url

POSTS = "/api/v1/posts/"
TAG_FACETS = "/api/v1/posts/tags/"
ORM_POSTS = "/bench/orm/posts/"  # comment count by annotate(Count): a join and GROUP BY over every post
ORM_POSTS_SUBQUERY = "/bench/orm/posts-subquery/"  # comment count by a correlated subquery: the page's posts only


@dataclass(frozen=True)
class Case:
    """One loaded request: a label, the server's port and the path with its query string."""

    label: str
    port: int
    path: str


def say(text: str) -> None:
    """Print a line at once (the run takes minutes)."""
    print(text, flush=True)


def build_rows(env: dict[str, str], posts: int, users: int) -> DataSet:
    """Set Django up in this process on the scratch database, write the data set, and ANALYZE it."""
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "LOG_LEVEL"):
        os.environ[name] = env[name]
    import django

    django.setup()
    from django.db import connection, connections

    data = populate(posts=posts, users=users)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done on a database that grew over a year
    connections.close_all()
    return data


def get_json(port: int, path: str) -> dict:
    """One GET on a fresh connection; raises on anything but 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
    return json.loads(body)


def deep_cursor(port: int, pages: int, page_size: int) -> str:
    """The cursor of page `pages + 1` of the newest list, reached by following `next_cursor` from page 1."""
    cursor = None
    for _ in range(pages):
        query = {"page_size": page_size, **({"cursor": cursor} if cursor else {})}
        cursor = get_json(port, f"{POSTS}?{urlencode(query)}")["next_cursor"]
    assert cursor
    return cursor


def describe(case: Case) -> str:
    """What the case's answer holds: how many hits in all, and on this page."""
    body = get_json(case.port, case.path)
    if "count" in body:  # DRF PageNumberPagination
        return f"{body['count']} posts, {len(body['results'])} on the page"
    if "total" in body:
        exact = "" if body["total_is_exact"] else "at least "
        return f"{exact}{body['total']} posts, {len(body['results'])} on the page"
    return f"{len(body['results'])} buckets"


def getter(case: Case, conns: list[http.client.HTTPConnection]) -> tuple[Callable[[int], None], list[int]]:
    """A `run_load` request function for the case (worker n uses kept-alive connection n) and its error count.

    A connection the server closed while it sat idle (gunicorn keeps one alive for 2 s, and a worker thread may
    wait longer than that for the others at the end of the warm-up) is reopened and the request sent again once,
    as an HTTP client's connection pool does.
    """
    errors = [0]

    def one(worker: int) -> None:
        for attempt in (1, 2):
            try:
                conns[worker].request("GET", case.path)
                response = conns[worker].getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                return
            except (ConnectionError, http.client.RemoteDisconnected):
                conns[worker].close()  # reopened by the next request
                if attempt == 2:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                conns[worker].close()
                errors[0] += 1
                return

    return one, errors


def measure(case: Case, workers: int, seconds: float, warmup: float) -> tuple[list[float], float, int]:
    """Warm up, then load the case for `seconds` on the same connections; (latencies, elapsed s, failed requests)."""
    conns = [http.client.HTTPConnection("127.0.0.1", case.port, timeout=60) for _ in range(workers)]
    one, errors = getter(case, conns)
    run_load(workers, warmup, one)
    errors[0] = 0
    latencies, elapsed = run_load(workers, seconds, one)
    for conn in conns:
        conn.close()
    return latencies, elapsed, errors[0]


@dataclass(frozen=True)
class Figures:
    """One sample of a case: at the benchmark's concurrency, then alone; latencies in ms (NaN: no request done)."""

    requests: int
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    alone_p50_ms: float
    alone_p99_ms: float
    errors: int

    def line(self) -> str:
        """The sample's figures on a line."""
        errors = f"  ERRORS {self.errors}" if self.errors else ""
        return (
            f"{self.requests:6d} requests  {self.rate:7.1f}/s  p50 {self.p50_ms:6.1f} ms  p90 {self.p90_ms:6.1f} ms  "
            f"p99 {self.p99_ms:6.1f} ms  | alone: p50 {self.alone_p50_ms:5.1f} ms  p99 {self.alone_p99_ms:5.1f} ms"
            f"{errors}"
        )


def ms_percentile(seconds: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of durations in seconds, in ms; NaN for none."""
    return percentile([value * 1000 for value in seconds], p) if seconds else math.nan


def measured(case: Case, args: argparse.Namespace) -> Figures:
    """The case at the benchmark's concurrency, then alone (one client: the latency without queueing)."""
    latencies, elapsed, errors = measure(case, args.concurrency, args.seconds, args.warmup)
    alone, _, alone_errors = measure(case, 1, args.alone_seconds, 0.5)
    return Figures(
        requests=len(latencies),
        rate=len(latencies) / elapsed,
        p50_ms=ms_percentile(latencies, 50),
        p90_ms=ms_percentile(latencies, 90),
        p99_ms=ms_percentile(latencies, 99),
        alone_p50_ms=ms_percentile(alone, 50),
        alone_p99_ms=ms_percentile(alone, 99),
        errors=errors + alone_errors,
    )


def closing_line(samples: list[Figures]) -> str:
    """A case's figures over its samples: median (min-max, n) of each."""
    return (
        f"{spread(f.rate for f in samples).text('.0f', '/s')}  p50 {spread(f.p50_ms for f in samples).text()}  "
        f"p99 {spread(f.p99_ms for f in samples).text()}  | alone p50 {spread(f.alone_p50_ms for f in samples).text()}"
    )


def cases(query_port: int, stock_port: int, orm_port: int, deep: str, deep_pages: int) -> list[Case]:
    """Every loaded case, the query service's first."""
    word, tag = common_word(), popular_tag()
    return [
        Case("query  newest, page 1", query_port, POSTS),
        Case(f"query  newest, page {deep_pages + 1} (cursor)", query_port, f"{POSTS}?{urlencode({'cursor': deep})}"),
        Case(f"query  tag={tag}, newest", query_port, f"{POSTS}?tag={tag}"),
        Case(f"query  q={word}, relevance", query_port, f"{POSTS}?q={word}&sort=relevance"),
        Case(f"query  q={word} + tag={tag}, relevance", query_port, f"{POSTS}?q={word}&tag={tag}&sort=relevance"),
        Case("query  most_commented", query_port, f"{POSTS}?sort=most_commented"),
        Case("query  tag facets (all posts)", query_port, TAG_FACETS),
        Case("stock  newest, page 1", stock_port, POSTS),
        Case(f"stock  q={word}, relevance", stock_port, f"{POSTS}?q={word}&sort=relevance"),
    ] + [
        case
        for label, path in (("ORM    ", ORM_POSTS), ("ORM-sub", ORM_POSTS_SUBQUERY))
        for case in (
            Case(f"{label} newest, page 1", orm_port, path),
            Case(f"{label} newest, page {deep_pages + 1} (offset {deep_pages * 20})", orm_port,
                 f"{path}?page={deep_pages + 1}"),
            Case(f"{label} tag={tag}, newest", orm_port, f"{path}?tag={tag}"),
        )
    ]  # fmt: skip


def serve_and_load(
    db_url: str, prefix: str, args: argparse.Namespace, logs: Path
) -> list[tuple[Case, str, list[Figures]]]:
    """Start the servers (query service fixed and stock, ORM), load every case in turn, `--samples` rounds (every
    case once a round, so drift hits every case alike); [(case, answer, its samples' figures)]."""
    query_port, stock_port, orm_port = free_port(), free_port(), free_port()
    query_env = base_env(PROJECTOR_INDEX_PREFIX=prefix)
    query_env.pop("DJANGO_SETTINGS_MODULE", None)
    orm_env = base_env(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.orm_settings")
    uvicorn = ["query_service.config.asgi:application", "--host", "127.0.0.1", "--workers", "2", "--log-level",
               "warning", "--no-access-log"]  # fmt: skip
    gunicorn = [
        sys.executable, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", f"127.0.0.1:{orm_port}",
        "--worker-class", "gthread", "--workers", "3", "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip
    with (
        process([sys.executable, "-m", "query_service.serve", *uvicorn, "--port", str(query_port)], query_env,
                logs / "uvicorn.log"),
        process([sys.executable, "-m", "uvicorn", *uvicorn, "--port", str(stock_port)], query_env,
                logs / "uvicorn-stock.log"),
        process(gunicorn, orm_env, logs / "gunicorn.log"),
    ):  # fmt: skip
        for port in (query_port, stock_port, orm_port):
            wait_for_http(port)
        deep = deep_cursor(query_port, args.deep_pages, 20)
        loaded = cases(query_port, stock_port, orm_port, deep, args.deep_pages)
        results = [(case, describe(case), []) for case in loaded]
        for n in range(1, args.samples + 1):
            say(f"sample {n} of {args.samples}:")
            for case, _, samples in results:
                samples.append(figures := measured(case, args))
                say(f"  {case.label:<44} {figures.line()}  (load average {os.getloadavg()[0]:.1f})")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000, help="published posts (plus 2%% drafts, 1%% deleted)")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10, help="measured length of each case")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured load before each case")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--alone-seconds", type=float, default=3, help="then the case with one client, this long")
    parser.add_argument("--deep-pages", type=int, default=50, help="pages followed to reach the deep cursor")
    parser.add_argument("--samples", type=int, default=3, help="rounds over every case (medians across them last)")
    args = parser.parse_args()
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    print(machine_line("before"), flush=True)
    run = f"benchq-{uuid.uuid4().hex[:6]}"
    prefix = f"{run}-"
    logs = Path(tempfile.mkdtemp(prefix="bench-query-"))
    client = OpenSearch(opensearch_url(), timeout=300)
    began = datetime.now(UTC)
    say(
        f"read benchmark {run}, {began:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores shared by PostgreSQL, "
        f"OpenSearch, Kafka, Redis, both servers and this load generator; load average {os.getloadavg()[0]:.2f}"
    )
    with scratch_database(run.replace("-", "_")) as db_url:
        try:
            env = base_env(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.orm_settings")
            manage(env, "migrate", "-v0")
            started = time.monotonic()
            data = build_rows(env, args.posts, args.users)
            say(f"rows (bulk_create + VACUUM ANALYZE) in {time.monotonic() - started:.0f} s: {data.text()}")
            started = time.monotonic()
            documents = load_read_models(client, db_url, prefix)
            seconds = time.monotonic() - started
            sizes = client.cat.indices(index=f"{prefix}*", format="json", h="index,docs.count,store.size")
            say(f"read models (CommandSource documents, bulk, refresh) in {seconds:.0f} s: "
                + ", ".join(f"{model} {n}" for model, n in documents.items()) + " documents; "
                + ", ".join(f"{row['index']} {row['store.size']}" for row in sizes))  # fmt: skip
            say(
                f"load: concurrency {args.concurrency}, {args.warmup:.0f} s warm-up + {args.seconds:.0f} s per case, "
                f"then alone (1 client) for {args.alone_seconds:.0f} s; http.client keep-alive. query = uvicorn 2 "
                "workers with TCP_NODELAY (query_service.serve); stock = plain `uvicorn --workers 2`, which loses "
                "TCP_NODELAY (uvicorn #3149); ORM = gunicorn gthread 3 x 4, comment count by annotate(Count) (a join + "
                "GROUP BY); ORM-sub = the same with the count as a correlated Subquery"
            )
            results = serve_and_load(db_url, prefix, args, logs)
        finally:
            client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
    print(f"\nwhat each case answers ({client.info()['version']['number']} OpenSearch, {data.published} published):")
    for case, answer, _ in results:
        print(f"  {case.label:<44} {case.path[:60]:<62} {answer}")
    print(f"\nmedian (min-max, n) of {args.samples} samples per case, latencies in ms:")
    failures = Failures()
    for case, _, samples in results:
        print(f"  {case.label:<44} {closing_line(samples)}")
        failures.add(case.label.strip(), "non-200 or dropped connection", count=sum(f.errors for f in samples))
    print(f"{failures.text()} (failed requests by case)")
    print(f"(logs in {logs}; total run {(datetime.now(UTC) - began).total_seconds():.0f} s; scratch database and "
          f"indices {prefix}* deleted)")  # fmt: skip
    print(machine_line("after"))


if __name__ == "__main__":
    main()
