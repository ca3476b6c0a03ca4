"""Erasure (issue 18): DELETE -> last trace gone, p50/p99 over `--erasures`; and what crypto-shredding costs projection.

Needs the local services (`make services`). Run: `make bench-erasure` (ERASURES=20 SAMPLES=3 POSTS=500), or
`uv run --frozen python -m infra exec -- python -m bench.erasure --samples 3`. What it costs a write is
`make bench-command`'s "sealed / unsealed outbox" line.

1. Projection cost. The P4 history (`bench.history`, `--posts` posts) is produced twice per sample, each time into a
   fresh namespace and projected by the live projector loop (`bench.projection`): in the clear, and sealed as the
   outbox writes it (each person's key record on the key topic first, every personal payload sealed under it). The
   two take turns first from sample to sample. Printed: events/s of each and sealed / plain.
2. Erasure latency. The command service (gunicorn), the outbox relay and one projector run on a scratch PostgreSQL
   database and private names, with the key topic's compaction lag at `--lag` s and relay ticks every `--tick` s
   (production: 3,600 and 60; the bound is their sum plus 16 s, `events.topics.subject_keys_erasure_bound_seconds`).
   Per sample, `--erasures` people each register, rename themself, and write a published post and a comment; once
   all are searchable, each is erased in turn (DELETE with their password). For each, from its DELETE's answer:
   - read channels clean: no document of the run's OpenSearch indices matches their username, display names,
     post title or comment (an indexed-text query), and no entry of the Redis notice stream holds one of them;
   - key gone: no record of the key topic, read raw from its start, still holds their key.
   The last trace is gone at the later of the two. Polled every `--poll` s, each person given up after `--timeout` s
   (counted as never). A person's key is read from the topic before the erasure, as an attacker with the topic would.
Every loop is bounded in count and time; everything the run created is deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
from kafka import KafkaConsumer, TopicPartition
from opensearchpy import OpenSearch

from bench.commit_to_searchable import system
from bench.history import Recipe, history
from bench.projection import Namespace, live_loop, produce, project, subject_keys_of
from bench.stats import machine_line, percentile, spread
from bench.support import base_env, delete_namespace, manage, request_json, scratch_database
from events.topics import (
    dead_letter_spec,
    ensure_topics,
    subject_keys_erasure_bound_seconds,
    subject_keys_spec,
)
from read_models.keys import notice_stream
from runtime.settings import kafka_bootstrap_servers, opensearch_url, redis_url

PASSWORD = "bench-erasure-password"


# Part 1: projection, sealed and in the clear.


def projection_rate(events: list, keys: dict[str, bytes] | None, budget: float) -> float:
    """Events/s of the live loop projecting `events` (sealed under `keys` when given) in a fresh namespace."""
    with Namespace().active() as namespace:
        loop = live_loop(namespace, 2000)
        try:
            produce(events, keys)
            progress, finished = project(loop, len(events), budget)
        finally:
            loop.close()
    if not finished:
        raise RuntimeError(f"projected {progress.n} of {len(events)} events within {budget:.0f} s")
    return progress.n / (progress.marks[-1][0] - progress.marks[0][0])


def projection_cost(posts: int, samples: int, budget: float) -> None:
    events = history(Recipe(posts=posts, users=max(20, posts // 10)))
    keys = subject_keys_of(events)
    personal = sum(event.personal for event in events)
    print(f"projection: P4 history of {posts} posts, {len(events)} events ({personal} personal, {len(keys)} people)")
    ratios = []
    for n in range(1, samples + 1):
        order = [("plain", None), ("sealed", keys)]
        rates = {name: projection_rate(events, ring, budget) for name, ring in (order if n % 2 else order[::-1])}
        ratios.append(rates["sealed"] / rates["plain"])
        print(f"  sample {n}: plain {rates['plain']:.0f} events/s, sealed {rates['sealed']:.0f} events/s, "
              f"sealed / plain {ratios[-1]:.3f}", flush=True)  # fmt: skip
    print(f"  sealed / plain events/s: {spread(ratios).text('.3f')}")


# Part 2: erasure latency.


@dataclass
class Person:
    """One person of a sample: what they wrote, their key, and when each trace went."""

    username: str
    token: str
    user_id: str
    needles: list[str]
    key: str = ""
    erased_at: float = 0.0
    clean_at: float | None = None
    key_gone_at: float | None = None


def _call(port: int, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return request_json(conn, method, path, body, token)
    finally:
        conn.close()


def person(port: int, n: int, tag: str) -> Person:
    """Register, rename, post (published) and comment, through the API."""
    name = f"erasee_{tag}_{n}"
    status, body = _call(port, "POST", "/api/v1/users/", {"username": name, "password": PASSWORD,
                                                          "display_name": f"First {tag} {n}"})  # fmt: skip
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body}")
    user_id = str(body["id"])
    _, login = _call(port, "POST", "/api/v1/auth/token/", {"username": name, "password": PASSWORD})
    token = login["token"]
    renamed, title, comment = f"Renamed {tag} {n}", f"Erasable title {tag} {n}", f"Erasable comment {tag} {n}"
    _call(port, "PATCH", f"/api/v1/users/{user_id}/", {"display_name": renamed}, token)
    _, post = _call(port, "POST", "/api/v1/posts/", {"title": title, "content": "Words.", "tags": []}, token)
    _call(port, "POST", f"/api/v1/posts/{post['id']}/publish/", {}, token)
    status, _ = _call(port, "POST", f"/api/v1/posts/{post['id']}/comments/", {"body": comment}, token)
    if status != 201:
        raise RuntimeError(f"comment answered {status}")
    return Person(name, token, user_id, [name, f"First {tag} {n}", renamed, title, comment])


class Traces:
    """Raw looks at OpenSearch, the Redis notice stream and the key topic of the run."""

    def __init__(self, index_prefix: str) -> None:
        self.search = OpenSearch(opensearch_url(), timeout=30)
        self.pattern = f"{index_prefix}*"
        self.redis = redis.Redis.from_url(redis_url())
        self.stream = notice_stream()
        self.keys = KafkaConsumer(bootstrap_servers=kafka_bootstrap_servers(), enable_auto_commit=False)
        topic = subject_keys_spec().name
        self.partitions = [TopicPartition(topic, p) for p in sorted(self.keys.partitions_for_topic(topic) or ())]
        self.keys.assign(self.partitions)

    def still_held(self, people: list[list[str]]) -> list[int]:
        """The positions in `people` (each a list of needles) of those an index document or a notice still holds:
        one refresh and one read of the stream for all, one search each."""
        self.search.indices.refresh(index=self.pattern)
        notices = [b" ".join(fields.values()).decode(errors="replace").lower() for _, fields in
                   self.redis.xrange(self.stream)]  # fmt: skip
        held = []
        for n, needles in enumerate(people):
            query = " OR ".join(json.dumps(needle) for needle in needles)
            body = {"query": {"query_string": {"query": query, "fields": ["*"], "lenient": True}}, "size": 0}
            lowered = [needle.lower() for needle in needles]
            if self.search.search(index=self.pattern, body=body)["hits"]["total"]["value"] or any(
                needle in text for text in notices for needle in lowered
            ):
                held.append(n)
        return held

    def held_keys(self) -> dict[str, str]:
        """subject id -> base64 key of every key record the topic holds now, read from its start."""
        self.keys.seek_to_beginning(*self.partitions)
        ends = self.keys.end_offsets(self.partitions)
        held: dict[str, str] = {}
        for _ in range(200):  # bounded: a sample's records take a few polls
            if all(self.keys.position(tp) >= ends[tp] for tp in self.partitions):
                return held
            for records in self.keys.poll(timeout_ms=300).values():
                for record in records:
                    value = json.loads(record.value or b"{}")
                    if value.get("key"):
                        held[value["subject_id"]] = value["key"]
        raise RuntimeError("the key topic was not read to its end")

    def close(self) -> None:
        self.keys.close()
        self.redis.close()


def erasure_sample(port: int, traces: Traces, args: argparse.Namespace, n: int) -> list[Person]:
    tag = uuid.uuid4().hex[:6]
    people = [person(port, i, tag) for i in range(args.erasures)]
    deadline = time.monotonic() + args.timeout
    while len(traces.still_held([[p.needles[3]] for p in people])) < len(people):  # every post searchable
        if time.monotonic() > deadline:
            raise RuntimeError("the people's posts were not searchable in time")
        time.sleep(args.poll)
    keys = traces.held_keys()
    for p in people:
        p.key = keys[p.user_id]
        status, body = _call(port, "DELETE", f"/api/v1/users/{p.user_id}/", {"password": PASSWORD}, p.token)
        if status != 204:
            raise RuntimeError(f"erase answered {status}: {body}")
        p.erased_at = time.monotonic()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and any(p.clean_at is None or p.key_gone_at is None for p in people):
        looked = [p for p in people if p.clean_at is None]
        holding = set(traces.still_held([p.needles for p in looked]))
        now = time.monotonic()
        for n, p in enumerate(looked):
            if n not in holding:
                p.clean_at = now
        keys = traces.held_keys()
        for p in people:
            if p.key_gone_at is None and keys.get(p.user_id) != p.key:
                p.key_gone_at = time.monotonic()
        time.sleep(args.poll)
    return people


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    return f"p50 {percentile(values, 50) * 1000:.0f} ms  p99 {percentile(values, 99) * 1000:.0f} ms  " \
           f"max {max(values) * 1000:.0f} ms"  # fmt: skip


def erasure_latency(args: argparse.Namespace) -> None:
    run = f"bencherase-{uuid.uuid4().hex[:6]}"
    names = {
        "EVENTS_TOPIC_PREFIX": f"{run}.",
        "PROJECTOR_INDEX_PREFIX": f"{run}-",
        "PROJECTOR_GROUP": run,
        "SUBJECT_KEYS_COMPACTION_LAG_SECONDS": str(args.lag),
        "SUBJECT_KEYS_TICK_SECONDS": str(args.tick),
    }
    os.environ.update(names)  # for the topics, the names looked at here and the clean-up
    logs = Path(tempfile.mkdtemp(prefix="bench-erasure-"))
    print(f"erasure latency {run}: lag {args.lag} s, ticks every {args.tick:g} s, bound "
          f"{subject_keys_erasure_bound_seconds():.0f} s; {args.erasures} erasures a sample, polled every "
          f"{args.poll:g} s", flush=True)  # fmt: skip
    totals: dict[str, list[float]] = {"clean": [], "key": [], "last": []}
    never = 0
    try:
        ensure_topics(kafka_bootstrap_servers(), extra=[dead_letter_spec(run)])
        with scratch_database(run.replace("-", "_")) as db_url:
            env = base_env(DATABASE_URL=db_url, PROJECTOR_METRICS_PORT="0", **names)
            env.pop("DJANGO_SETTINGS_MODULE", None)
            manage(env, "migrate", "-v0")
            with system(env, logs) as (port, _):
                traces = Traces(f"{run}-")
                try:
                    for n in range(1, args.samples + 1):
                        people = erasure_sample(port, traces, args, n)
                        done = [p for p in people if p.clean_at is not None and p.key_gone_at is not None]
                        never += len(people) - len(done)
                        figures = {
                            "clean": [p.clean_at - p.erased_at for p in done],
                            "key": [p.key_gone_at - p.erased_at for p in done],
                            "last": [max(p.clean_at, p.key_gone_at) - p.erased_at for p in done],
                        }
                        for name, values in figures.items():
                            totals[name] += values
                        print(f"  sample {n}: read channels clean {_ms(figures['clean'])} | key gone "
                              f"{_ms(figures['key'])} | last trace gone {_ms(figures['last'])} | never "
                              f"{len(people) - len(done)}", flush=True)  # fmt: skip
                finally:
                    traces.close()
    finally:
        delete_namespace(run, run, f"{run}-")
    print(f"  all samples: read channels clean {_ms(totals['clean'])} | key gone {_ms(totals['key'])} | last trace "
          f"gone {_ms(totals['last'])} | never {never} (logs in {logs})")  # fmt: skip
    if never:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--erasures", type=int, default=20, help="people erased per sample")
    parser.add_argument("--posts", type=int, default=500, help="posts of the projection cost's history")
    parser.add_argument("--budget", type=float, default=600, help="seconds a projection may take")
    parser.add_argument("--lag", type=int, default=20, help="the key topic's compaction lag, seconds")
    parser.add_argument("--tick", type=float, default=2, help="seconds between the relay's ticks")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between looks")
    parser.add_argument("--timeout", type=float, default=180, help="seconds a person's traces are waited for")
    parser.add_argument("--skip-projection", action="store_true", help="only the erasure latency")
    args = parser.parse_args()
    if min(args.samples, args.erasures, args.posts, args.lag) < 1 or args.tick <= 0 or args.poll <= 0:
        parser.error("--samples, --erasures, --posts, --lag, --tick and --poll must be positive")
    print(machine_line("before"), flush=True)
    if not args.skip_projection:
        projection_cost(args.posts, args.samples, args.budget)
    erasure_latency(args)
    print(machine_line("after"))


if __name__ == "__main__":
    main()
