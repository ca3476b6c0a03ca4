"""List and search latency of the query service (OpenSearch) vs its two fair peers: the same `_search` sent straight
to OpenSearch, and the same list by the Django ORM on PostgreSQL with the indices it needs.

Needs the local services (`make services`). Run: `make bench-query` (or `uv run python -m infra exec -- python -m
bench.query_read --posts 100000`). On a scratch PostgreSQL database it writes a data set with bulk_create (see
`bench.read_data`, in batches, so `--posts 1000000` fits), adds the ORM peer's indices (`bench.orm_list.add_indexes`:
a keyset B-tree and a full-text GIN index; the plans' index names are printed), builds the read models from the same
rows with the projector's own expected documents into indices behind a private PROJECTOR_INDEX_PREFIX, then serves
the query service (uvicorn, 2 workers, with the TCP_NODELAY fix of `query_service.serve`; with `--stock` two cases
also on plain uvicorn, to show what its missing TCP_NODELAY costs) and the ORM list (gunicorn gthread, 3 x 4), and
loads each case at a fixed concurrency with keep-alive connections, then with one client ("alone"). The peers:

- raw: for every query-service case, the very `_search` body the service sends for it (`bench.search_bodies`, built
  from the service's own query, sorts, fields, highlight and cursor decoding), POSTed to `/<alias>/_search`;
- ORM: newest page 1, a deep page (the ORM follows `next` links as many pages as the query side follows
  `next_cursor`), a tag filter and a text search, by DRF CursorPagination (no COUNT, no OFFSET) on
  `(status, published_at DESC, id)`, the comment count a correlated subquery, and PostgreSQL full-text search on a
  GIN index (`bench.orm_list`).

Deep pages are reached at setup by following cursors: page `--deep-pages` + 1 and page `--far-page` (1000, or the
last full page of a smaller data set). `--samples` rounds over every case (a case and its peers one after the other),
then the median and spread of each figure per case, the issue's ratios sample round by round (query / raw, query /
ORM, far page / page 1), and the failed requests. It prints numbers only; every database, index and process it
created is deleted or stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from opensearchpy import OpenSearch

from bench.read_data import DataSet, common_word, load_read_models, popular_tag, populate, rare_word
from bench.search_bodies import list_filter, post_search_body
from bench.stats import Failures, Spread, machine_line, spread
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
from query_service.search.posts import tag_facets_body
from read_models.indices import alias_of
from read_models.models import MODELS_BY_NAME
from runtime.settings import opensearch_url

POSTS = "/api/v1/posts/"
TAG_FACETS = "/api/v1/posts/tags/"
ORM_POSTS = "/bench/orm/posts/"
ORM_SEARCH = "/bench/orm/posts/search/"
PAGE = 20  # the query service's default page size, and the ORM list's
LOCAL = "127.0.0.1"
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class ListCase:
    """A request of the query service's posts list (or its tag facets): its query string, and what it searches."""

    key: str  # what it lists: shared by a case and its peers
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    facets: bool = False

    def path(self) -> str:
        """The query service's path with the query string."""
        base = TAG_FACETS if self.facets else POSTS
        return f"{base}?{urlencode(self.params, doseq=True)}" if self.params else base

    def body(self) -> dict[str, Any]:
        """The `_search` body the query service sends for this request."""
        post_filter = list_filter(self.params)
        if self.facets:
            return tag_facets_body(post_filter)
        return post_search_body(post_filter, self.params.get("sort", "newest"), self.params.get("cursor"), PAGE)


@dataclass(frozen=True)
class Case:
    """One loaded request: its peer (query, raw, orm, stock), what it lists (`key`), where, and how."""

    peer: str
    key: str
    label: str
    port: int
    path: str
    body: bytes | None = None  # POSTed as JSON (a raw `_search`); else a GET
    host: str = LOCAL

    @property
    def title(self) -> str:
        """`peer  label`, as the output lines start."""
        return f"{self.peer:<5}  {self.label}"

    def send(self, conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
        """Send the request on the connection; its response."""
        if self.body is None:
            conn.request("GET", self.path)
        else:
            conn.request("POST", self.path, body=self.body, headers=JSON_HEADERS)
        return conn.getresponse()

    def connection(self) -> http.client.HTTPConnection:
        """A new (keep-alive) connection to the case's server."""
        return http.client.HTTPConnection(self.host, self.port, timeout=60)


def say(text: str) -> None:
    """Print a line at once (the run takes minutes)."""
    print(text, flush=True)


def build_rows(env: dict[str, str], posts: int, users: int) -> tuple[DataSet, float, dict[str, list[str]]]:
    """Set Django up in this process on the scratch database, write the data set, add the ORM peer's indices, and
    ANALYZE; (the data set, seconds the indices took, {ORM case: the indices its plan scans})."""
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "LOG_LEVEL"):
        os.environ[name] = env[name]
    import django

    django.setup()
    from django.db import connection, connections

    data = populate(posts=posts, users=users)
    from bench import orm_list  # after the rows: it adds the ORM peer's stored document to `Post`

    started = time.monotonic()
    orm_list.add_indexes()
    indexing = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done on a database that grew over a year
    ordering, page = orm_list.NewestPage.ordering, slice(0, PAGE + 1)  # a page as CursorPagination asks for it
    lists = {
        "newest": orm_list.published().order_by(*ordering),
        "tag": orm_list.published(popular_tag()).order_by(*ordering),
        "q": orm_list.text_search(common_word()),
        f"q={rare_word()} (rare, not loaded)": orm_list.text_search(rare_word()),
    }
    plans = {key: plan_scans(orm_list.with_live_comment_count(posts)[page].explain()) for key, posts in lists.items()}
    connections.close_all()
    return data, indexing, plans


def plan_scans(plan: str) -> list[str]:
    """What a plan (EXPLAIN's text) scans, in plan order: index names, and `seq scan of <table>` for full scans."""
    scans = []
    for line in plan.splitlines():
        _, seq, table = f" {line.strip()}".partition(" Seq Scan on ")
        if seq and table.split():
            scans.append(f"seq scan of {table.split()[0]}")
            continue
        if "Index" not in line:
            continue
        _, using, rest = line.partition(" using ")  # Index Scan using <index> on <table>
        if not using:
            _, _, rest = line.partition("Index Scan on ")  # Bitmap Index Scan on <index>
        if rest.split():
            scans.append(rest.split()[0])
    return scans


def fetch_json(case: Case) -> dict:
    """The case's answer on a fresh connection; raises on anything but 200."""
    conn = case.connection()
    response = case.send(conn)
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{case.title}: {case.path} answered {response.status}: {body[:300]!r}")
    return json.loads(body)


def walk_cursors(port: int, pages: Iterable[int]) -> dict[int, str]:
    """{n: the cursor of page n of the newest list} for each n > 1, by following `next_cursor` from page 1."""
    wanted, found, cursor = set(pages), {}, None
    for page in range(2, max(wanted) + 1):
        path = f"{POSTS}?{urlencode({'cursor': cursor})}" if cursor else POSTS
        cursor = fetch_json(Case("query", "walk", "walk", port, path))["next_cursor"]
        if not cursor:
            raise RuntimeError(f"the newest list ends before page {page}")
        if page in wanted:
            found[page] = cursor
    return found


def walk_links(port: int, path: str, page: int) -> str:
    """The path of page `page` of an ORM list, by following its `next` links from page 1."""
    for _ in range(page - 1):
        link = fetch_json(Case("orm", "walk", "walk", port, path))["next"]
        if not link:
            raise RuntimeError(f"the ORM list ends before page {page}")
        parts = urlsplit(link)
        path = f"{parts.path}?{parts.query}"
    return path


def answer_ids(body: dict) -> list[Any]:
    """The ids on an answer's page (tag names for facets), whichever peer answered."""
    if "hits" in body:
        if "aggregations" in body:
            return [bucket["key"] for bucket in body["aggregations"]["tags"]["buckets"]]
        return [int(hit["_source"]["id"]) for hit in body["hits"]["hits"]]
    return [int(row["id"]) if "id" in row else row["tag"] for row in body["results"]]


def describe(body: dict) -> str:
    """What an answer holds: how many hits in all (where the peer counts them), and on this page."""
    if "aggregations" in body:
        return f"{len(body['aggregations']['tags']['buckets'])} buckets"
    if "hits" in body:
        total = body["hits"]["total"]
        exact = "" if total["relation"] == "eq" else "at least "
        return f"{exact}{total['value']} posts, {len(body['hits']['hits'])} on the page"
    if "total" in body:
        exact = "" if body["total_is_exact"] else "at least "
        return f"{exact}{body['total']} posts, {len(body['results'])} on the page"
    if "next" in body:  # DRF CursorPagination: no count
        return f"{len(body['results'])} on the page (keyset, no count)"
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
                response = case.send(conns[worker])
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
    conns = [case.connection() for _ in range(workers)]
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


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; NaN when either is NaN or the denominator is 0."""
    if math.isnan(numerator) or math.isnan(denominator) or not denominator:
        return math.nan
    return numerator / denominator


def paired_ratio(top: list[Figures], bottom: list[Figures], figure: Callable[[Figures], float]) -> Spread:
    """The ratio of two cases' figure, sample round by round (both were measured in the same round), over rounds."""
    return spread(ratio(figure(a), figure(b)) for a, b in zip(top, bottom, strict=True))


@dataclass(frozen=True)
class Target:
    """One of the issue's ratios: its name, the figure it divides, and the target it is read against."""

    name: str
    figure: Callable[[Figures], float]
    target: str

    def text(self, top: list[Figures], bottom: list[Figures]) -> str:
        """`p50 alone 1.23 (1.10-1.40, n=3) [<= 1.5]`."""
        return f"{self.name} {paired_ratio(top, bottom, self.figure).text('.2f')} [{self.target}]"


def ratio_lines(results: list[tuple[Case, str, list[Figures]]], concurrency: int, far: str | None) -> list[str]:
    """The issue's ratios: query / raw `_search` per case, query / ORM per case, and the far page / page 1."""
    at = f"at {concurrency}"
    samples = {(case.peer, case.key): figures for case, _, figures in results}
    labels = {case.key: case.label for case, _, _ in results if case.peer == "query"}
    alone_p50, loaded_p50 = attrgetter("alone_p50_ms"), attrgetter("p50_ms")
    rate = attrgetter("rate")
    peers = [  # (peer, its title, the ratios against it)
        ("raw", "raw", (Target("p50 alone", alone_p50, "<= 1.5"), Target(f"p50 {at}", loaded_p50, "<= 1.5"),
                        Target(f"throughput {at}", rate, ">= 0.7"))),
        ("orm", "ORM", (Target(f"p99 {at}", attrgetter("p99_ms"), "<= 0.25"),
                        Target(f"throughput {at}", rate, ">= 2"))),
    ]  # fmt: skip
    deep = (Target("p50 alone", alone_p50, "<= 1.5"), Target(f"p50 {at}", loaded_p50, "<= 1.5"))
    lines = ["ratios, sample round by round: median (min-max, n); the issue's target in brackets"]
    for peer, title, targets in peers:
        lines.append(f"  query / {title}:")
        for key, label in labels.items():
            if (peer, key) in samples:
                top, bottom = samples["query", key], samples[peer, key]
                lines.append(f"    {label:<42} " + "  ".join(t.text(top, bottom) for t in targets))
    if far:
        lines.append(f"  {labels[far]} / page 1 (search_after):")
        for peer in ("query", "raw"):
            top, bottom = samples[peer, far], samples[peer, "newest"]
            lines.append(f"    {peer:<42} " + "  ".join(t.text(top, bottom) for t in deep))
    return lines


def list_cases(deep: str, deep_page: int, far: str | None, far_page: int) -> list[ListCase]:
    """The query service's cases (their raw peers send the same bodies)."""
    word, tag = common_word(), popular_tag()
    listed = [
        ListCase("newest", "newest, page 1"),
        ListCase("deep", f"newest, page {deep_page} (cursor)", {"cursor": deep}),
        ListCase("tag", f"tag={tag}, newest", {"tag": tag}),
        ListCase("q", f"q={word}, relevance", {"q": word, "sort": "relevance"}),
        ListCase("q+tag", f"q={word} + tag={tag}, relevance", {"q": word, "tag": tag, "sort": "relevance"}),
        ListCase("most_commented", "most_commented", {"sort": "most_commented"}),
        ListCase("facets", "tag facets (all posts)", facets=True),
    ]
    if far:
        listed.append(ListCase("far", f"newest, page {far_page} (cursor)", {"cursor": far}))
    return listed


def cases(
    listed: list[ListCase], ports: dict[str, int], search: tuple[str, int, str], orm_deep: tuple[int, str]
) -> list[Case]:
    """Every loaded case, each query-service case followed by its peers.

    Args:
        listed: the query service's cases.
        ports: {"query": port, "orm": port, and "stock": port when the stock server runs}.
        search: (host, port, posts alias) of OpenSearch, for the raw peer.
        orm_deep: (page number, path) of the ORM list's deep page (reached by `next` links).
    """
    word, tag = common_word(), popular_tag()
    orm = {
        "newest": Case("orm", "newest", "newest, page 1", ports["orm"], ORM_POSTS),
        "deep": Case("orm", "deep", f"newest, page {orm_deep[0]} (cursor)", ports["orm"], orm_deep[1]),
        "tag": Case("orm", "tag", f"tag={tag}, newest", ports["orm"], f"{ORM_POSTS}?{urlencode({'tag': tag})}"),
        "q": Case("orm", "q", f"q={word}, SearchRank (full-text, GIN)", ports["orm"],
                  f"{ORM_SEARCH}?{urlencode({'q': word})}"),
    }  # fmt: skip
    host, port, posts_alias = search
    out = []
    for item in listed:
        out.append(Case("query", item.key, item.label, ports["query"], item.path()))
        if "stock" in ports and item.key in ("newest", "q"):
            out.append(Case("stock", item.key, item.label, ports["stock"], item.path()))
        body = json.dumps(item.body(), separators=(",", ":")).encode()
        out.append(Case("raw", item.key, item.label, port, f"/{posts_alias}/_search", body, host))
        if item.key in orm:
            out.append(orm[item.key])
    return out


def opensearch_address() -> tuple[str, int]:
    """(host, port) of the local OpenSearch node (plain HTTP, as the local services run it)."""
    parts = urlsplit(opensearch_url())
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit(f"the raw peer speaks plain HTTP only; OPENSEARCH_URL is {opensearch_url()}")
    return parts.hostname, parts.port or 9200


def serve_and_load(
    db_url: str, prefix: str, args: argparse.Namespace, logs: Path, published: int
) -> tuple[list[tuple[Case, str, list[Figures]]], str | None]:
    """Start the servers (query service, stock uvicorn with `--stock`, ORM), walk to the deep pages, load every case
    in turn, `--samples` rounds (every case once a round, so drift hits every case alike); ([(case, answer, its
    samples' figures)], the far page's key or None)."""
    ports = {"query": free_port(), "orm": free_port()} | ({"stock": free_port()} if args.stock else {})
    query_env = base_env(PROJECTOR_INDEX_PREFIX=prefix)
    query_env.pop("DJANGO_SETTINGS_MODULE", None)
    orm_env = base_env(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.orm_settings")
    uvicorn = ["query_service.config.asgi:application", "--host", LOCAL, "--workers", "2", "--log-level",
               "warning", "--no-access-log"]  # fmt: skip
    gunicorn = [
        sys.executable, "-m", "gunicorn", "command_service.config.wsgi:application",
        "--bind", f"{LOCAL}:{ports['orm']}", "--worker-class", "gthread", "--workers", "3", "--threads", "4",
        "--log-level", "warning",
    ]  # fmt: skip
    servers = [
        ([sys.executable, "-m", "query_service.serve", *uvicorn, "--port", str(ports["query"])], query_env, "uvicorn"),
        (gunicorn, orm_env, "gunicorn"),
    ]
    if args.stock:
        servers.append(([sys.executable, "-m", "uvicorn", *uvicorn, "--port", str(ports["stock"])], query_env,
                        "uvicorn-stock"))  # fmt: skip
    host, port = opensearch_address()
    with contextlib.ExitStack() as stack:
        for argv, env, name in servers:
            stack.enter_context(process(argv, env, logs / f"{name}.log"))
        for server_port in ports.values():
            wait_for_http(server_port)
        deep_page = args.deep_pages + 1
        far_page = min(args.far_page, published // PAGE)
        far_page = far_page if far_page > deep_page else 0
        started = time.monotonic()
        cursors = walk_cursors(ports["query"], [deep_page, *([far_page] if far_page else [])])
        walked = time.monotonic() - started
        started = time.monotonic()
        orm_deep = walk_links(ports["orm"], ORM_POSTS, deep_page)
        say(f"cursor walks: query {max(deep_page, far_page) - 1} pages (next_cursor) in {walked:.1f} s; ORM "
            f"{deep_page - 1} pages (next links) in {time.monotonic() - started:.1f} s")  # fmt: skip
        listed = list_cases(cursors[deep_page], deep_page, cursors.get(far_page), far_page)
        loaded = cases(listed, ports, (host, port, alias_of(MODELS_BY_NAME["posts"], prefix)), (deep_page, orm_deep))
        answers = {(case.peer, case.key): fetch_json(case) for case in loaded}
        results = []
        for case in loaded:
            text = describe(answers[case.peer, case.key])
            if case.peer == "raw" or (case.peer == "orm" and case.key != "q"):  # the ORM ranks text its own way
                same = answer_ids(answers[case.peer, case.key]) == answer_ids(answers["query", case.key])
                text += "; same page as the query service's" if same else "; NOT THE SAME PAGE as the query service's"
            results.append((case, text, []))
        for n in range(1, args.samples + 1):
            say(f"sample {n} of {args.samples}:")
            for case, _, samples in results:
                samples.append(figures := measured(case, args))
                say(f"  {case.title:<52} {figures.line()}  (load average {os.getloadavg()[0]:.1f})")
    return results, "far" if far_page else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000, help="published posts (plus 2%% drafts, 1%% deleted)")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=10, help="measured length of each case")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured load before each case")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--alone-seconds", type=float, default=3, help="then the case with one client, this long")
    parser.add_argument("--deep-pages", type=int, default=50, help="pages followed (both sides) to reach a deep page")
    parser.add_argument(
        "--far-page", type=int, default=1000, help="the page compared with page 1 (the last full one if fewer)"
    )
    parser.add_argument("--stock", action="store_true", help="also newest and q on plain uvicorn (no TCP_NODELAY)")
    parser.add_argument("--samples", type=int, default=3, help="rounds over every case (medians across them last)")
    args = parser.parse_args()
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    if args.deep_pages < 1:
        parser.error("--deep-pages must be at least 1")
    print(machine_line("before"), flush=True)
    run = f"benchq-{uuid.uuid4().hex[:6]}"
    prefix = f"{run}-"
    logs = Path(tempfile.mkdtemp(prefix="bench-query-"))
    client = OpenSearch(opensearch_url(), timeout=300)
    began = datetime.now(UTC)
    say(
        f"read benchmark {run}, {began:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores shared by PostgreSQL, "
        f"OpenSearch, Kafka, Redis, the servers and this load generator; load average {os.getloadavg()[0]:.2f}"
    )
    with scratch_database(run.replace("-", "_")) as db_url:
        try:
            env = base_env(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="bench.orm_settings")
            manage(env, "migrate", "-v0")
            started = time.monotonic()
            data, indexing, plans = build_rows(env, args.posts, args.users)
            say(f"rows (bulk_create, ORM indices in {indexing:.0f} s, VACUUM ANALYZE) in "
                f"{time.monotonic() - started:.0f} s: {data.text()}")  # fmt: skip
            say("ORM plans (EXPLAIN), indices scanned: "
                + "; ".join(f"{key}: {', '.join(names) or 'none'}" for key, names in plans.items()))  # fmt: skip
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
                "workers with TCP_NODELAY (query_service.serve); raw = the query service's own _search body POSTed "
                "to OpenSearch; orm = gunicorn gthread 3 x 4, DRF CursorPagination on (status, published_at DESC, "
                "id), comment count by a correlated subquery, text by SearchQuery/SearchRank on a stored SearchVector "
                "with a GIN index"
                + ("; stock = plain `uvicorn --workers 2`, which loses TCP_NODELAY (uvicorn #3149)" if args.stock
                   else "")
            )  # fmt: skip
            results, far = serve_and_load(db_url, prefix, args, logs, data.published)
        finally:
            client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
    print(f"\nwhat each case answers ({client.info()['version']['number']} OpenSearch, {data.published} published):")
    for case, answer, _ in results:
        print(f"  {case.title:<52} {(('POST ' if case.body else '') + case.path)[:60]:<62} {answer}")
    print(f"\nmedian (min-max, n) of {args.samples} samples per case, latencies in ms:")
    failures = Failures()
    for case, _, samples in results:
        print(f"  {case.title:<52} {closing_line(samples)}")
        failures.add(case.title, "non-200 or dropped connection", count=sum(f.errors for f in samples))
    print()
    for line in ratio_lines(results, args.concurrency, far):
        print(line)
    print(f"{failures.text()} (failed requests by case)")
    print(f"(logs in {logs}; total run {(datetime.now(UTC) - began).total_seconds():.0f} s; scratch database and "
          f"indices {prefix}* deleted)")  # fmt: skip
    print(machine_line("after"))


if __name__ == "__main__":
    main()
