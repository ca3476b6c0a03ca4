"""Erasing a person (issue 18) on the real services: after the projector has applied the erasure, no index of the
cluster and no key of the read side's Redis holds a string of theirs, and rebuilds replaying the log bring none back.

The events are sealed under per-person keys published to the key topic, as the command service writes them; the
story leaves copies of the person's data everywhere the read side keeps any: the live read models (their author
document, their post and comment, someone else's comment on their post showing its title), the notice stream, the
indices a rebuild left for rollback, and the targets of a rebuild still running when the erasure arrives.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from kafka import KafkaProducer
from opensearchpy import OpenSearch, helpers

from events.envelope import EventEnvelope, encode
from events.personal_data import KeyRecord, new_key
from events.topics import message_key, subject_keys_spec, topic_for
from events.types import (
    AuthorSnapshot,
    CommentAdded,
    CommentDeleted,
    PostCreated,
    PostDeleted,
    PostPublished,
    UserErased,
    UserRegistered,
)
from projector.consumer.app import ProjectorConfig, bootstrap
from projector.consumer.live_indices import kept_indices
from projector.consumer.loop import ProjectorLoop
from projector.operations.indices import create_indices, indices_behind, restore_settings, swap_aliases
from projector.operations.rebuild import CatchUp, fill, fold_into
from projector.operations.verify import NOT_COMPARED, verify
from query_service.search.authors import author_list
from read_models.keys import notice_bytes_key, notice_stream
from read_models.notices import entry_size, notice_parse
from runtime.settings import index_prefix

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADA, BOB = "1", "2"


class Story:
    """Hand-written events of two people, sealed under their keys; Ada's strings all carry one random token."""

    def __init__(self, servers: str) -> None:
        self.token = uuid.uuid4().hex[:12]
        self.keys = {ADA: new_key(), BOB: new_key()}
        self.producer = KafkaProducer(bootstrap_servers=servers)
        t = self.token
        self.secrets = [f"ada{t}", f"Adaname{t}", f"Adabio{t}", f"adaavatar{t}", f"Adatitle{t}", f"Adacontent{t}",
                        f"adatag{t}", f"Adacomment{t}", f"Adalate{t}"]  # fmt: skip
        self.ada = AuthorSnapshot(ADA, f"ada{t}", f"Adaname{t}", f"https://img.example/adaavatar{t}.png", 1)
        self.bob = AuthorSnapshot(BOB, "bob", "Bob", None, 1)

    def send(self, payload: object, version: int) -> None:
        event = EventEnvelope.create(payload, aggregate_version=version, correlation_id="erasure", occurred_at=AT)
        key = self.keys[event.subject_id] if event.subject_id else None
        self.producer.send(topic_for(event.aggregate_type), key=message_key(event), value=encode(event, key))

    def send_key(self, record: KeyRecord) -> None:
        self.producer.send(subject_keys_spec().name, key=record.kafka_key(), value=record.encode())

    def flush(self) -> None:
        self.producer.flush()

    def before(self) -> None:
        """Keys first, then what the two people did: Ada's post (Bob commented on it), Ada's comment on Bob's."""
        t, ada, bob = self.token, self.ada, self.bob
        self.send_key(KeyRecord(ADA, self.keys[ADA]))
        self.send_key(KeyRecord(BOB, self.keys[BOB]))
        self.flush()
        self.send(UserRegistered(ADA, ada.username, ada.display_name, ada.avatar_url, f"Adabio{t}"), 1)
        self.send(UserRegistered(BOB, "bob", "Bob", None, "Gardener"), 1)
        self.send(PostCreated("11", ada, f"Adatitle{t}", f"Adacontent{t} " * 40, (f"adatag{t}",), AT), 1)
        self.send(PostPublished("11", AT), 2)
        self.send(PostCreated("12", bob, "Bob's garden", "Roses. " * 40, ("plants",), AT), 1)
        self.send(PostPublished("12", AT), 2)
        self.send(CommentAdded("21", "11", bob, "Bob's reply", AT), 1)
        self.send(CommentAdded("22", "12", ada, f"Adacomment{t}", AT), 1)
        self.flush()

    def erasure(self) -> None:
        """What the command service writes in the erasure's transaction (the key topic's marker comes later here)."""
        self.send(PostDeleted("11"), 3)
        self.send(CommentDeleted("22", "12"), 2)
        self.send(UserErased(ADA), 2)
        self.flush()


@pytest.fixture
def story(kafka_bootstrap_servers: str, private_projector: ProjectorConfig) -> Iterator[Story]:
    story = Story(kafka_bootstrap_servers)
    yield story
    story.producer.close()


@pytest.fixture
def live(private_projector: ProjectorConfig, redis_url: str) -> Iterator[ProjectorLoop]:
    loop = bootstrap(private_projector)
    yield loop
    loop.close()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{index_prefix()}*"))
    if keys:
        client.delete(*keys)


def opensearch_holding(client: OpenSearch, secrets: list[str], token: str) -> list[str]:
    """Where any secret is in the cluster: every document of every index (`*`, hidden ones too), read raw, and a
    search of every indexed field."""
    client.indices.refresh(index="*", expand_wildcards="all")
    found = []
    for hit in helpers.scan(client, index="*", query={"query": {"match_all": {}}}, expand_wildcards="all"):
        text = json.dumps(hit["_source"])
        found += [f"{hit['_index']}/{hit['_id']}: {s}" for s in secrets if s in text]
    query = {"query_string": {"query": f"*{token}*", "fields": ["*"], "lenient": True}}
    hits = client.search(index="*", body={"query": query}, expand_wildcards="all")["hits"]["hits"]
    return found + [f"searched {hit['_index']}/{hit['_id']}" for hit in hits]


def redis_holding(client: redis.Redis, secrets: list[str]) -> list[str]:
    """Where any secret is in the read side's Redis keys (the notice stream read whole with XRANGE, and the rest)."""
    found = []
    for key in client.scan_iter(match=f"{index_prefix()}*"):
        kind = client.type(key).decode()
        if kind == "stream":
            values = [v for _, fields in client.xrange(key, "-", "+") for v in fields.values()]
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        elif kind == "hash":
            values = list(client.hgetall(key).values())
        else:
            values = [client.get(key) or b""]
        text = b" ".join(values).decode(errors="replace")
        found += [f"{key.decode()}: {s}" for s in secrets if s in text]
    return found


def build(client: OpenSearch, *, fold: bool) -> tuple[dict[str, str], Any]:
    """Fresh indices of a rebuild, folded from the log (its catch-up's start) or left empty for a full replay."""
    new = create_indices(client, bulk=True)
    start = fold_into(client, new, progress=False)[0] if fold else None
    return new, start


def finish(client: OpenSearch, config: ProjectorConfig, new: dict[str, str], start: Any, name: str) -> None:
    """A rebuild's catch-up and swap, with the live projector's own loop and Writer."""
    with CatchUp(client, new, f"{config.group}-{name}", start=start, progress=False) as catch_up:
        fill(client, catch_up, new)
    swap_aliases(client, new)


def test_an_erased_person_leaves_no_string_in_opensearch_or_redis_and_rebuilds_bring_none_back(
    story: Story, live: ProjectorLoop, private_projector: ProjectorConfig, opensearch_url: str, redis_url: str
) -> None:
    client, r = OpenSearch(opensearch_url, timeout=60), redis.Redis.from_url(redis_url)
    story.before()
    live.catch_up(timeout=120)
    assert live.reader.counts.accepted == 8
    assert opensearch_holding(client, story.secrets, story.token)  # the story left copies: the test can see them
    assert redis_holding(r, story.secrets)

    # A rebuild that swapped (the indices it left are kept for rollback), and one still running during the erasure.
    left = indices_behind(client)
    swapped, _ = build(client, fold=True)
    restore_settings(client, swapped)
    swap_aliases(client, swapped)
    running, running_start = build(client, fold=True)
    assert sorted(kept_indices(client)["posts"]) == sorted([left["posts"], running["posts"]])

    story.erasure()
    live.catch_up(timeout=120)
    # A sealed event of Ada's the relay retried late: the key topic still holds her key, the loop knows better.
    story.send(CommentAdded("23", "12", story.ada, f"Adalate{story.token}", AT), 1)
    story.flush()
    live.catch_up(timeout=120)
    assert live.reader.counts.erased == 1
    story.send_key(KeyRecord(ADA, None))
    story.flush()

    assert opensearch_holding(client, story.secrets, story.token) == []
    assert redis_holding(r, story.secrets) == []
    authors = author_list(client=client, q=None, cursor=None, size=50)
    assert [author["id"] for author in authors["results"]] == [BOB]
    entries = r.xrange(notice_stream(), "-", "+")
    assert "user.erased" in [notice_parse(entry).event.get("event_type") for entry in entries]
    assert int(r.get(notice_bytes_key())) == sum(entry_size(fields) for _, fields in entries)

    finish(client, private_projector, running, running_start, "running")
    assert opensearch_holding(client, story.secrets, story.token) == []
    replayed, _ = build(client, fold=False)
    finish(client, private_projector, replayed, None, "replay")
    refolded, refolded_start = build(client, fold=True)
    finish(client, private_projector, refolded, refolded_start, "refold")

    assert opensearch_holding(client, story.secrets, story.token) == []
    for target in (replayed, refolded):
        ada = client.get(index=target["authors"], id=ADA)["_source"]
        assert (ada["erased"], ada["registered"], ada["user_version"]) == (True, False, 2)
        assert client.get(index=target["posts"], id="11")["_source"]["deleted"] is True
        assert not client.exists(index=target["comments"], id="23")
        assert client.get(index=target["comments"], id="21")["_source"]["body"] == "Bob's reply"


def test_an_erasure_made_while_the_projector_is_down_leaves_nothing_once_it_starts(
    story: Story, private_projector: ProjectorConfig, opensearch_url: str, redis_url: str
) -> None:
    client, r = OpenSearch(opensearch_url, timeout=60), redis.Redis.from_url(redis_url)
    story.before()
    story.erasure()
    story.send_key(KeyRecord(ADA, None))
    story.flush()

    loop = bootstrap(private_projector)  # starts only now: the whole story, the erasure included, is waiting
    try:
        loop.catch_up(timeout=120)
        assert loop.reader.counts.erased == 3  # her registration, post and comment: the ring knew her as erased
    finally:
        loop.close()

    assert opensearch_holding(client, story.secrets, story.token) == []
    assert redis_holding(r, story.secrets) == []
    authors = author_list(client=client, q=None, cursor=None, size=50)
    assert [author["id"] for author in authors["results"]] == [BOB]
    for key in r.scan_iter(match=f"{index_prefix()}*"):
        r.delete(key)


class Rows:
    """The command database as `verify` reads it (its `Source` protocol), from the documents a test gives."""

    def __init__(self, documents: dict[str, list[dict[str, Any]]]) -> None:
        self.rows = documents

    def count(self, model: str) -> int:
        return len(self.rows[model])

    def documents(self, model: str) -> Iterator[list[dict[str, Any]]]:
        yield sorted(self.rows[model], key=lambda document: int(document["id"]))


def compared(client: OpenSearch, index: str, model: str) -> list[dict[str, Any]]:
    """The documents of a read model as rows would predict them (what verify compares)."""
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 100, "query": {"match_all": {}}})["hits"]["hits"]
    return [{k: v for k, v in hit["_source"].items() if k not in NOT_COMPARED[model]} for hit in hits]


def test_verify_expects_an_erased_persons_documents_tombstoned_or_absent_whatever_rows_remain(
    story: Story, live: ProjectorLoop
) -> None:
    story.before()
    story.erasure()
    live.catch_up(timeout=120)
    client, targets = live.writer.client, live.writer.targets
    others = {model: [d for d in compared(client, index, model) if d["id"] not in {ADA, "11", "22"}]
              for model, index in targets.items()}  # fmt: skip
    anonymised = {  # rows the command side may keep of Ada: scrubbed, deleted
        "authors": [{"id": ADA, "username": "erased-1", "display_name": "", "avatar_url": None, "bio": "",
                     "user_version": 2, "published_post_count": 0, "comment_count": 0}],
        "posts": [{"id": "11", "title": "", "content": "", "status": "deleted", "deleted": True, "post_version": 3,
                   "author": {"id": ADA, "username": "erased-1"}}],
        "comments": [{"id": "22", "post_id": "12", "body": "", "deleted": True, "comment_version": 2,
                      "author": {"id": ADA, "username": "erased-1"}}],
    }  # fmt: skip

    kept_rows = verify(client, targets, Rows({m: others[m] + anonymised[m] for m in others}), erased=live.keys.erased)
    no_rows = verify(client, targets, Rows(others), erased=live.keys.erased)

    assert kept_rows.ok, kept_rows.text()
    assert no_rows.ok, no_rows.text()
    for report in (kept_rows, no_rows):
        assert {model: counts.erased for model, counts in report.counts.items()} == {
            "posts": 1, "comments": 1, "authors": 1
        }, report.text()  # fmt: skip
