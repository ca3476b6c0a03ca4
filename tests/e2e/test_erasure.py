"""Erasing a person end to end: after DELETE /users/{id}/, no readable trace of them anywhere the system keeps data.

A person registers, writes, comments, renames themself; a subscriber watches. Then they erase their account, and
every place is searched raw for their strings: every Kafka topic of the run read with a plain consumer from the
start (keys and values), every OpenSearch index of the run (sources and an indexed-text query), every Redis key of
the run (whatever its type), the query API and the WebSocket stream's replay. A rebuild follows, and the search is
run again. The key topic must lose the person's key within the stated bound (`subject_keys_erasure_bound_seconds`).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from kafka import KafkaConsumer, TopicPartition
from opensearchpy import OpenSearch
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import REPO_ROOT, System, eventually

PASSWORD = "correct-horse-battery"


@contextmanager
def _env(system: System) -> Iterator[None]:
    """This run's settings (topic prefix, index prefix, compaction bound) in this process, for the contract's names."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in system.env.items() if k.startswith(("EVENTS_", "PROJECTOR_", "SUBJECT_"))})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _kafka_records(system: System) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of every record of every topic of this run, read from the start to the current end."""
    prefix = system.env["EVENTS_TOPIC_PREFIX"]
    consumer = KafkaConsumer(bootstrap_servers=system.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
                             enable_auto_commit=False, consumer_timeout_ms=1000)  # fmt: skip
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in consumer.topics() if topic.startswith(prefix)  # the event, key and dead-letter topics
            for partition in consumer.partitions_for_topic(topic) or ()
        ]  # fmt: skip
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[tuple[str, bytes, bytes]] = []
        for _ in range(600):  # bounded: a few thousand records of one test run
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
            for tp, batch in consumer.poll(timeout_ms=500).items():
                records += [(tp.topic, record.key or b"", record.value or b"") for record in batch]
        else:
            raise AssertionError("the topics were not read to their end")
        return records
    finally:
        consumer.close()


def _opensearch_texts(system: System, needles: list[str]) -> list[str]:
    """Every document of this run's indices whose source holds a needle, and every needle an indexed query finds."""
    client = OpenSearch(system.env.get("OPENSEARCH_URL", "http://127.0.0.1:19200"))
    pattern = f"{system.env['PROJECTOR_INDEX_PREFIX']}*"
    client.indices.refresh(index=pattern)
    found = []
    hits = client.search(index=pattern, body={"query": {"match_all": {}}, "size": 10_000})["hits"]["hits"]
    for hit in hits:
        text = json.dumps(hit["_source"], ensure_ascii=False).lower()
        found += [f"{hit['_index']}/{hit['_id']}: {needle}" for needle in needles if needle.lower() in text]
    for needle in needles:
        query = {"query_string": {"query": json.dumps(needle), "fields": ["*"], "lenient": True}}
        matched = client.search(index=pattern, body={"query": query, "size": 5})["hits"]["hits"]
        found += [f"{hit['_index']}/{hit['_id']} (indexed): {needle}" for hit in matched]
    return found


def _redis_texts(system: System, needles: list[str]) -> list[str]:
    """Every Redis key of this run whose contents (any type) hold a needle."""
    client = redis.Redis.from_url(system.env.get("REDIS_URL", "redis://127.0.0.1:63790/0"))
    found = []
    for key in client.scan_iter(match=f"{system.env['PROJECTOR_INDEX_PREFIX']}*", count=500):
        kind = client.type(key).decode()
        if kind == "string":
            parts = [client.get(key) or b""]
        elif kind == "hash":
            parts = [b"%s=%s" % item for item in client.hgetall(key).items()]
        elif kind == "stream":
            parts = [b"%s=%s" % item for _, fields in client.xrange(key) for item in fields.items()]
        elif kind == "zset":
            parts = client.zrange(key, 0, -1)
        elif kind == "list":
            parts = client.lrange(key, 0, -1)
        else:
            parts = list(client.smembers(key))
        text = b"\n".join(parts).decode(errors="replace").lower()
        found += [f"{key.decode()}: {needle}" for needle in needles if needle.lower() in text]
    return found


def _kafka_texts(records: list[tuple[str, bytes, bytes]], needles: list[str]) -> list[str]:
    found = []
    for topic, key, value in records:
        text = (key + b"\n" + value).decode(errors="replace").lower()
        found += [f"{topic}: {needle}" for needle in needles if needle.lower() in text]
    return found


def _traces(system: System, needles: list[str]) -> dict[str, list[str]]:
    return {
        "kafka": _kafka_texts(_kafka_records(system), needles),
        "opensearch": _opensearch_texts(system, needles),
        "redis": _redis_texts(system, needles),
    }


def _frames(socket: ClientConnection) -> list[dict[str, Any]]:
    """The event frames a subscription caught up on (confirmed by the error frame answering a bad frame)."""
    socket.send(json.dumps({"type": "confirm"}))
    frames = []
    while (reply := json.loads(socket.recv(timeout=30)))["type"] != "error":
        frames.append(reply)
    return frames


def _key_of(records: list[tuple[str, bytes, bytes]], key_topic: str, subject_id: str) -> str | None:
    """The base64 key the key topic holds for the subject, None when it holds none (erased or compacted)."""
    mine = [value for topic, key, value in records if topic == key_topic and key == subject_id.encode()]
    held = [json.loads(value).get("key") for value in mine]
    return held[-1] if held and held[-1] else None


def test_an_erased_person_leaves_no_trace_anywhere(system: System) -> None:
    suffix = uuid.uuid4().hex[:6]
    me = {"username": f"marguerite_{suffix}", "first": f"Marguerite {suffix}", "renamed": f"Daisy {suffix}",
          "bio": f"Collects moths {suffix}", "avatar": f"https://img.example/moth-{suffix}.png",
          "title": f"Moth notes {suffix}", "content": f"Seen tonight {suffix}", "edited": f"Seen at dawn {suffix}",
          "comment": f"Lovely wings {suffix}", "reply": f"On your post {suffix}", "tag": f"moth{suffix}"}  # fmt: skip
    user_id, token = system.user(me["username"], me["first"])
    _, other_token = system.user(f"oscar_{suffix}", f"Oscar {suffix}")
    needles = list(me.values())

    # The subscriber connected all along: it hears the person's writes, then their erasure.
    with connect(f"ws://127.0.0.1:{system.query_port}/stream", open_timeout=10) as live:
        live.send(json.dumps({"type": "subscribe"}))
        _frames(live)
        profile = {"bio": me["bio"], "avatar_url": me["avatar"]}
        assert system.command("PATCH", f"users/{user_id}/", profile, token).status == 200
        draft = {"title": me["title"], "content": me["content"], "tags": [me["tag"]]}
        post = system.command("POST", "posts/", draft, token)
        post_id = str(post.body["id"])
        system.command("POST", f"posts/{post_id}/publish/", {}, token)
        system.command("PATCH", f"posts/{post_id}/", {"content": me["edited"]}, token)
        system.command("POST", f"posts/{post_id}/comments/", {"body": me["comment"]}, token)
        others = system.command(
            "POST", "posts/", {"title": f"Oscar {suffix}", "content": "Mine.", "tags": []}, other_token
        )
        system.command("POST", f"posts/{others.body['id']}/publish/", {}, other_token)
        reply = system.command("POST", f"posts/{others.body['id']}/comments/", {"body": me["reply"]}, token)
        renamed = system.command("PATCH", f"users/{user_id}/", {"display_name": me["renamed"]}, token)
        assert (reply.status, renamed.status) == (201, 200)
        consistency = renamed.headers.get("x-consistency-token")
        eventually(lambda: system.query("posts/", {"q": me["title"]}, consistency).body["results"], timeout=60)
        eventually(lambda: _traces(system, needles)["opensearch"], timeout=30)  # the search finds what is there
        with _env(system):
            from events.topics import subject_keys_erasure_bound_seconds, subject_keys_spec

            key_topic, bound = subject_keys_spec().name, subject_keys_erasure_bound_seconds()
        key = _key_of(_kafka_records(system), key_topic, user_id)
        assert key is not None
        assert len(base64.b64decode(key)) == 32

        erased = system.command("DELETE", f"users/{user_id}/", {"password": PASSWORD}, token)
        assert erased.status == 204, erased.body

        def heard_erasure() -> bool:
            frame = json.loads(live.recv(timeout=30))
            heard.append(frame)
            return frame.get("event", {}).get("event_type") == "user.erased"

        heard: list[dict[str, Any]] = []
        eventually(heard_erasure, timeout=60, pause=0)

    assert system.command("GET", f"users/{user_id}/").status == 404
    assert eventually(lambda: not system.query("posts/", {"q": me["title"]}).body["results"], timeout=30)
    for q in (me["username"], me["renamed"]):
        assert [a for a in system.query("authors/", {"q": q}).body["results"] if a["id"] == user_id] == []
    assert eventually(lambda: not any(_traces(system, needles).values()), timeout=60), _traces(system, needles)
    with connect(f"ws://127.0.0.1:{system.query_port}/stream", open_timeout=10) as replay:
        replay.send(json.dumps({"type": "subscribe", "resume_from": "0-0"}))
        replayed = json.dumps(_frames(replay)).lower()
    assert [needle for needle in needles if needle.lower() in replayed] == []
    assert [needle for needle in needles if needle.lower() in json.dumps(heard[-1]).lower()] == []

    # The key leaves the key topic within the bound; every sealed event about the person is ciphertext for good.
    def key_readable() -> list[str]:
        return [topic for topic, _, value in _kafka_records(system) if key.encode() in value]

    assert key_readable() == [key_topic]  # compaction has not run yet: the key record is still there
    started = time.monotonic()
    eventually(lambda: not key_readable(), timeout=bound + 15, pause=1)
    print(f"the key left the key topic {time.monotonic() - started:.1f} s after the check (bound {bound:.0f} s)")

    rebuilt = subprocess.run([sys.executable, "-m", "projector", "rebuild"], cwd=REPO_ROOT, env=system.env,
                             capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    assert _traces(system, needles) == {"kafka": [], "opensearch": [], "redis": []}
    checked = system.verify()
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
