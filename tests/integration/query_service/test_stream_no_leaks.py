"""Notices that cannot leak (real services): delivery judges every notice against what is public now, redelivery
writes no second entry, and the stream's retention is bounded by count, age and bytes (counted exactly).

Subscribers resume from `0-0` through the ASGI application (in process); what they received is read back up to the
answer to a frame sent after the subscription, so every frame the catch-up sent is there. The replay runs the
projector's own loop (consumer group, writer, notices) on Kafka topics of the test's own.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
import redis
from kafka import KafkaAdminClient, KafkaProducer

from command_service.services import comments, posts
from command_service.services.unit_of_work import EventContext
from events.envelope import EventEnvelope, encode
from events.stream import EventFrame, frame_from_json
from events.topics import dead_letter_spec, ensure_topics, message_key, topic_for
from events.types import PostEdited
from projector.consumer.app import group_consumer
from projector.consumer.dead_letters import DeadLetterWriter
from projector.consumer.holds import Holds
from projector.consumer.loop import LoopSettings, ProjectorLoop
from projector.consumer.notices import Notices
from projector.consumer.writer import Applied
from query_service.adapters import redis_client
from read_models.keys import notice_bytes_key, notice_seen_key, notice_stream
from read_models.notices import Retention, entry_size, notice_encode, notice_parse, seen_member
from tests.integration.query_service.conftest import GROUP, Story
from tests.integration.query_service.stream_support import (
    connect,
    fanout_thread,
    frames_until,
    kinds,
    run,
    subscribe,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)


def resumed_from_start(**frame: Any) -> list[dict[str, Any]]:
    """Every frame a subscriber resuming from `0-0` receives from the stream as it stands (the whole catch-up)."""
    box: dict[str, list[dict[str, Any]]] = {}

    async def scenario() -> None:
        client = await connect()
        box["frames"] = await subscribe(client, resume_from="0-0", **frame)
        await client.disconnect()

    run(scenario)
    return box["frames"]


def stream_entries() -> list[tuple[bytes, dict[bytes, bytes]]]:
    return redis_client().xrange(notice_stream())


# (a) A draft's secret, edited away before it was published, never goes out, even after a replay from the start.


@pytest.fixture
def kafka(kafka_bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Event topics of the test's own (a fresh EVENTS_TOPIC_PREFIX), deleted at the end."""
    prefix = f"qleak-{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("EVENTS_TOPIC_PREFIX", prefix)
    ensure_topics(kafka_bootstrap_servers)
    yield kafka_bootstrap_servers
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    admin.delete_topics([topic for topic in admin.list_topics() if topic.startswith(prefix)])
    admin.close()


class Relay:
    """Sends the story's new events to Kafka as the outbox relay does (topic by aggregate type, keyed by id)."""

    def __init__(self, story: Story, servers: str) -> None:
        self.story = story
        self.producer = KafkaProducer(bootstrap_servers=servers, acks="all")
        self.sent: list[EventEnvelope] = []

    def send(self) -> None:
        pending = list(self.story.uow.outbox)
        self.story.uow.outbox.clear()
        self.sent += pending
        for event in pending:
            self.producer.send(topic_for(event.aggregate_type), key=message_key(event), value=encode(event))
        self.producer.flush(30)


def projector_loop(story: Story, servers: str, group: str) -> ProjectorLoop:
    """The projector's loop as a consumer group of its own, into the story's read models, writing its notices."""
    ensure_topics(servers, extra=[dead_letter_spec(group)])
    holds = Holds(story.writer.client, group)
    holds.ensure_index()
    connect_group = partial(group_consumer, group, 100)
    settings = LoopSettings(batch_size=100, batch_timeout=0.2)
    return ProjectorLoop(connect_group, story.writer, DeadLetterWriter(servers, group), holds, story.notices, settings)


def test_a_secret_edited_out_of_a_draft_never_goes_out_even_after_the_topic_is_replayed_from_the_start(
    story: Story, kafka: str
) -> None:
    relay = Relay(story, kafka)
    live = projector_loop(story, kafka, f"live-{uuid.uuid4().hex[:6]}")
    ann = story.register("ann")
    post_id = story.post(ann, "Plans", "SECRET launch date", tags=("news",), publish=False)
    relay.send()
    live.catch_up(timeout=60)  # the draft, announced with its document as of then
    posts.post_edit(post_id=post_id, actor=ann, title="Plans", content="Nothing to see.", uow=story.uow)
    relay.send()
    live.catch_up(timeout=60)
    story.uow.advance(minutes=1)
    posts.post_publish(post_id=post_id, actor=ann, uow=story.uow)
    relay.send()
    live.catch_up(timeout=60)
    live.close()
    written = stream_entries()
    assert any(b"SECRET" in value for _, fields in written for value in fields.values())  # the stream holds it

    # The topic replayed from the start by a fresh group into the same read models: no notice is written twice.
    replay = projector_loop(story, kafka, f"replay-{uuid.uuid4().hex[:6]}")
    replay.catch_up(timeout=60)
    replay.close()
    assert stream_entries() == written
    # What a projector that judged notices on the present wrote for such a replay (an earlier release; no dedupe, no
    # superseding): every event again, each with the document as it is now. The draft's events beside a published
    # document: the stream must not be trusted to hold only what is public.
    now = story.writer.client.get(index=story.writer.targets["posts"], id=str(post_id))["_source"]
    for event in relay.sent:
        if event.aggregate_type == "post":
            redis_client().xadd(notice_stream(), notice_encode(event, now))
    marker = story.register("marker")  # announced after all of the above
    relay.send()
    tail = projector_loop(story, kafka, f"tail-{uuid.uuid4().hex[:6]}")
    tail.catch_up(timeout=60)
    tail.close()

    received = resumed_from_start()
    assert ("post.published", str(post_id)) in kinds(received)
    assert kinds(received)[-1] == ("user.registered", str(marker.user_id))  # the whole stream was read
    assert all(frame["type"] == "event" for frame in received)
    assert "SECRET" not in json.dumps(received)
    published = [frame for frame in received if kinds([frame]) == [("post.published", str(post_id))]]
    for frame in published:  # the first and the earlier release's copy: one (aggregate, version), dropped twice
        assert (frame["event"]["aggregate_version"], frame["document"]["content"]) == (3, "Nothing to see.")
    assert {frame["event"]["event_type"] for frame in received} == {"user.registered", "post.published"}


# (b) A deleted comment's body never goes out again; its deletion does.


def test_a_deleted_comment_resumed_from_the_start_goes_out_as_its_deletion_only(story: Story) -> None:
    ann, bob = story.register("ann"), story.register("bob")
    post_id = story.post(ann, "Public", tags=("x",))
    story.project()
    comment_id = story.comment(post_id, bob, "Regrettable words")
    story.project()
    comments.comment_delete(comment_id=comment_id, actor=bob, uow=story.uow)
    story.project()
    assert any(b"Regrettable words" in value for _, fields in stream_entries() for value in fields.values())

    received = resumed_from_start(aggregate_types=["comment"])
    assert kinds(received) == [("comment.deleted", str(comment_id))]
    assert received[0]["document"] is None
    assert "Regrettable" not in json.dumps(received)


def test_comments_stay_home_once_their_post_is_no_longer_public_and_return_with_it(story: Story) -> None:
    ann, bob = story.register("ann"), story.register("bob")
    post_id = story.post(ann, "Public", tags=("x",))
    comment_id = story.comment(post_id, bob, "Kept words")
    story.project()
    posts.post_unpublish(post_id=post_id, actor=ann, uow=story.uow)
    story.project()
    assert kinds(resumed_from_start(aggregate_types=["comment"])) == []  # proved by the confirm's answer after it
    posts.post_publish(post_id=post_id, actor=ann, uow=story.uow)
    story.project()
    received = resumed_from_start(aggregate_types=["comment"])
    assert kinds(received) == [("comment.added", str(comment_id))]
    assert received[0]["document"]["body"] == "Kept words"


def test_frames_name_neither_who_acted_nor_the_writers_idempotency_key_live_or_resumed(story: Story) -> None:
    # The stream has no authentication: every subscriber is anonymous, and gets the envelope without them.
    story.uow.context = EventContext(correlation_id="corr-1", causation_id="idem-key-of-ann", actor_id="4242")
    ann = story.register("ann")
    box: dict[str, list[dict[str, Any]]] = {}

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client)
            post_id = story.post(ann, "Public", tags=("x",))
            story.project()
            box["live"] = await frames_until(client, ("post.published", str(post_id)))
            await client.disconnect()

    run(scenario)
    box["resumed"] = resumed_from_start()
    assert all(b"idem-key-of-ann" in fields[b"event"] for _, fields in stream_entries())  # the stream holds them

    for how, received in box.items():
        events = [frame["event"] for frame in received if frame["type"] == "event"]
        assert events, how
        assert all((event["actor_id"], event["causation_id"]) == (None, None) for event in events), how
        assert all(event["correlation_id"] == "corr-1" for event in events), how
        assert "idem-key-of-ann" not in json.dumps(received), how
        assert all(isinstance(frame_from_json(frame), EventFrame) for frame in received if frame["type"] == "event")
    assert kinds(box["live"])[-1] in kinds(box["resumed"])


# (c) Redelivery writes no second entry, so no subscriber gets a second frame.


def test_a_redelivered_batch_adds_no_entry_and_no_frame(story: Story) -> None:
    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client)
            ann = story.register("ann")
            post_id = story.post(ann, "Once", tags=("x",))
            applied = story.project()
            before = stream_entries()
            story.notices.publish(applied)  # the same batch again: a crash before the commit, a refused commit
            other = Notices(redis.Redis.from_url(os.environ["REDIS_URL"]), GROUP)
            other.publish(applied)  # or another replica, or a restarted projector
            assert stream_entries() == before
            assert (story.notices.written, other.written) == (0, 0)
            marker = story.register("marker")
            story.project()
            received = await frames_until(client, ("user.registered", str(marker.user_id)))
            await client.disconnect()
        members = [_member(notice_parse(entry)) for entry in before]
        assert len(members) == len(set(members))
        assert kinds(received).count(("post.published", str(post_id))) == 1
        assert kinds(received).count(("user.registered", str(ann.user_id))) == 1

    run(scenario)


def _member(notice: Any) -> tuple[str, str, int]:
    event = notice.event
    return event["aggregate_type"], event["aggregate_id"], event["aggregate_version"]


# (d) Retention: by age, by bytes, by count.


def edits(first: int, count: int, size: int = 100, post_id: str = "1") -> list[Applied]:
    """Notices of `count` successive edits of one post (versions from `first`), documents of about `size` bytes."""
    applied = []
    for version in range(first, first + count):
        content = f"edit {version} " + "x" * size
        event = EventEnvelope.create(
            PostEdited(post_id, "T", content), aggregate_version=version, correlation_id="t", subject_id="7"
        )
        document = {"id": post_id, "title": "T", "content": content, "status": "published", "deleted": False,
                    "post_version": version}  # fmt: skip
        applied.append(Applied(event, document))
    return applied


def versions() -> list[int]:
    return [json.loads(fields[b"event"])["aggregate_version"] for _, fields in stream_entries()]


def test_entries_older_than_the_age_bound_are_trimmed_and_forgotten_by_the_dedupe(story: Story) -> None:
    client = redis_client()
    seconds, micros = client.time()
    hour_ago = seconds * 1000 + micros // 1000 - 3_600_000
    for n, item in enumerate(edits(1, 3)):  # notices written an hour ago: their ids and dedupe scores of then
        client.xadd(notice_stream(), notice_encode(item.event, item.document), id=f"{hour_ago + n}-0")
        client.zadd(notice_seen_key(), {seen_member(item.event): hour_ago + n})
    notices = Notices(client, GROUP, Retention(count=1000, max_age_seconds=60, max_bytes=10**9))

    notices.publish(edits(4, 2))
    assert versions() == [4, 5]  # the hour-old ones are gone
    assert sorted(client.zrange(notice_seen_key(), 0, -1)) == [b"post:1:4", b"post:1:5"]
    notices.publish(edits(1, 1))  # a notice the dedupe forgot with its entry is new again
    assert versions() == [4, 5, 1]


def stream_bytes() -> int:
    """The encoded size of every entry the stream holds now (what the byte budget counts)."""
    return sum(entry_size({k.decode(): v for k, v in fields.items()}) for _, fields in stream_entries())


def test_the_byte_budget_keeps_the_newest_entries_whose_encoded_size_fits_whatever_their_sizes(story: Story) -> None:
    client = redis_client()
    notices = Notices(client, GROUP, Retention(count=1000, max_age_seconds=3600, max_bytes=40_000))
    notices.publish(edits(1, 50, size=2_000))  # about 4 kB each: the content twice, in the event and the document
    kept = versions()
    assert kept == list(range(51 - len(kept), 51))
    assert 5 <= len(kept) < 10
    older = edits(50 - len(kept), 1, size=2_000)[0]
    assert stream_bytes() <= 40_000 < stream_bytes() + entry_size(notice_encode(older.event, older.document))
    assert int(client.get(notice_bytes_key())) == stream_bytes()  # the count beside the stream is exact

    notices.publish(edits(51, 2, size=8_000))  # bigger entries after small ones: the budget still holds
    assert versions()[-2:] == [51, 52]
    assert stream_bytes() <= 40_000
    assert int(client.get(notice_bytes_key())) == stream_bytes()

    notices.publish(edits(1, 50, size=2_000))  # the dedupe set keeps what the stream keeps: nothing new
    assert versions()[-2:] == [51, 52]


def test_a_stream_without_its_byte_count_is_counted_once_then_kept_exact(story: Story) -> None:
    client = redis_client()
    for item in edits(1, 3):  # entries from before the count existed
        client.xadd(notice_stream(), notice_encode(item.event, item.document))
    notices = Notices(client, GROUP, Retention(count=1000, max_age_seconds=3600, max_bytes=10**9))
    notices.publish(edits(4, 1))
    assert versions() == [1, 2, 3, 4]
    assert int(client.get(notice_bytes_key())) == stream_bytes()


def test_the_count_bound_caps_the_stream_and_the_dedupe_set(story: Story) -> None:
    notices = Notices(redis_client(), GROUP, Retention(count=5, max_age_seconds=3600, max_bytes=10**9))
    notices.publish(edits(1, 8))
    assert versions() == [4, 5, 6, 7, 8]
    assert redis_client().zcard(notice_seen_key()) == 5
    notices.publish(edits(9, 1))
    assert versions() == [5, 6, 7, 8, 9]
