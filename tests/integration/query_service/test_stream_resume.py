"""Resuming from a position, beyond the retention window, and lost messages (in process, real services)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import redis
from channels.layers import get_channel_layer
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.support import free_port
from events.stream import CloseCode
from query_service.adapters import opensearch, redis_client
from query_service.stream import notices
from read_models.keys import channel_group, fanout_position_key, notice_stream
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import (
    WAIT,
    connect,
    fanout_thread,
    frames,
    frames_until,
    heartbeats,
    run,
    subscribe,
    tip,
)


def published(story: Story, count: int, tags: tuple[str, ...] = ()) -> list[str]:
    """Publish `count` posts of a fresh author and project them; returns the post ids (one visible event each)."""
    author = story.register(f"writer{len(story.users)}")
    post_ids = [str(story.post(author, f"Post {n}", tags=tags)) for n in range(count)]
    story.project()
    return post_ids


def post_ids_of(received: list[dict[str, Any]]) -> list[str]:
    return [frame["event"]["aggregate_id"] for frame in received if frame["event"]["event_type"] == "post.published"]


def in_order(received: list[dict[str, Any]]) -> bool:
    keys = [tuple(map(int, frame["position"].split("-"))) for frame in received]
    return keys == sorted(set(keys))


def test_a_subscriber_resuming_from_its_position_gets_exactly_what_it_missed_then_live_events(
    story: Story, settings: Any
) -> None:
    settings.STREAM_CATCH_UP_CHUNK = 7  # several chunks, and chunk ends that fall between visible entries

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client, aggregate_types=["post"])
            first = published(story, 3)
            seen = await frames_until(client, ("post.published", first[-1]))
            await client.disconnect()
            missed = published(story, 20, tags=("python",))  # 20 visible entries among 41
            again = await connect()
            caught_up = await subscribe(again, aggregate_types=["post"], resume_from=seen[-1]["position"])
            live = published(story, 2)
            after = await frames_until(again, ("post.published", live[-1]))  # nothing caught up twice before it
            await again.disconnect()
        assert post_ids_of(seen) == first
        assert post_ids_of(caught_up) == missed
        assert post_ids_of(after) == live
        assert in_order(seen + caught_up + after)

    run(scenario)


def test_a_resume_overlapping_live_writes_has_no_gap_and_no_duplicate(story: Story, settings: Any) -> None:
    settings.STREAM_CATCH_UP_CHUNK = 5

    async def scenario() -> None:
        with fanout_thread():
            start = tip()
            missed = published(story, 30)
            client = await connect()
            await client.send_json_to({"type": "subscribe", "aggregate_types": ["post"], "resume_from": start})
            during = await asyncio.to_thread(published, story, 30)  # while the catch-up is under way
            received = await frames_until(client, ("post.published", during[-1]))
            await client.disconnect()
        assert post_ids_of(received) == missed + during
        assert in_order(received)

    run(scenario)


def test_resuming_from_a_position_the_stream_no_longer_holds_asks_for_a_resync_then_goes_live(story: Story) -> None:
    published(story, 3)
    positions = [entry[0].decode() for entry in notices.entries_after(redis_client(), "0-0", 100)]
    redis_client().xtrim(notice_stream(), maxlen=2, approximate=False)  # what the projector's retention does

    async def scenario() -> None:
        with fanout_thread():
            trimmed = await connect()
            [resync] = await subscribe(trimmed, resume_from=positions[0])
            future = await connect()
            assert [frame["type"] for frame in await subscribe(future, resume_from="99999999999999-0")] == [
                "resync_required"
            ]
            kept = await connect()
            caught_up = await subscribe(kept, resume_from=positions[-2])  # retained: the entry after it is sent
            assert [frame["position"] for frame in caught_up] == positions[-1:]
            live = published(story, 1)
            for client in (trimmed, future, kept):
                got = await frames_until(client, ("post.published", live[0]))
                assert [frame["event"]["event_type"] for frame in got] == ["user.registered", "post.published"]
                await client.disconnect()
        assert resync["type"] == "resync_required"
        assert positions[0] in resync["reason"]

    run(scenario)


def test_messages_of_several_fanouts_are_deduplicated_and_a_skipped_one_closes_the_connection(story: Story) -> None:
    """Plays two fan-out replicas by hand: each message twice, interleaved; then one message goes missing."""
    published(story, 1)
    entries = notices.entries_after(redis_client(), "0-0", 100)
    template = notices.build_items(entries, "0-0", opensearch())[-1]  # the post.published one
    end = tip()
    chain = [end, *(f"{int(end.split('-')[0]) + n}-0" for n in range(1, 6))]  # after the end: live messages only
    items = [{**template, "position": chain[n], "previous": chain[n - 1]} for n in range(1, 6)]

    async def scenario() -> None:
        client = await connect()
        await subscribe(client, resume_from=end)
        layer, group = get_channel_layer(), channel_group()
        for batch in ([0], [0, 1], [0], [1, 2], [2], [1]):
            await layer.group_send(group, {"type": notices.BATCH_TYPE, "items": [items[n] for n in batch]})
        once_each = await frames(client, 3)
        await layer.group_send(group, {"type": notices.BATCH_TYPE, "items": [items[4]]})  # items[3] never arrives
        closed = await client.receive_output(timeout=WAIT)  # a duplicate frame would have come before the close
        await client.disconnect()
        assert [frame["position"] for frame in once_each] == chain[1:4]
        assert closed["type"] == "websocket.close", closed
        assert closed["code"] == CloseCode.RESUME_REQUIRED
        assert "resume_from" in closed["reason"]

    run(scenario)


def test_when_the_channel_layer_drops_messages_for_a_slow_connection_it_is_closed_and_resuming_recovers_all(
    story: Story, settings: Any
) -> None:
    settings.CHANNEL_LAYERS = {"default": {**settings.CHANNEL_LAYERS["default"]}}
    settings.CHANNEL_LAYERS["default"]["CONFIG"] = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "capacity": 3}

    async def scenario() -> None:
        with fanout_thread(batch=1) as fanout:  # one channel message per entry
            client = await connect()
            await subscribe(client, aggregate_types=["post"])
            published(story, 1)
            start = (await frames(client, 1))[0]["position"]  # the subscription is live
            sent_before = fanout.sent
            written = published(story, 20)
            # This loop is blocked: the connection takes nothing in while the fan-out sends all 41 items.
            deadline = time.monotonic() + WAIT
            while fanout.sent < sent_before + 41 and time.monotonic() < deadline:
                time.sleep(0.05)
            received = []
            while (output := await client.receive_output(timeout=WAIT))["type"] == "websocket.send":
                received.append(output)
            await client.disconnect()
            assert output["code"] == CloseCode.RESUME_REQUIRED
            got = [json.loads(frame["text"]) for frame in received]
            assert len(got) < 20
            again = await connect()
            rest = await subscribe(again, aggregate_types=["post"], resume_from=got[-1]["position"] if got else start)
            await again.disconnect()
        assert post_ids_of(got + rest) == written
        assert in_order(got + rest)

    run(scenario)


def test_the_fanout_resumes_after_a_restart_without_a_gap(story: Story) -> None:
    async def scenario() -> None:
        client = await connect()
        await subscribe(client, aggregate_types=["post"])
        with fanout_thread():
            first = published(story, 2)
            assert post_ids_of(await frames_until(client, ("post.published", first[-1]))) == first
        while_down = published(story, 3)
        with fanout_thread():
            after = published(story, 1)  # announced after the restart: nothing from before may follow it
            received = await frames_until(client, ("post.published", after[0]))
        await client.disconnect()
        assert post_ids_of(received) == while_down + after
        assert redis_client().get(fanout_position_key()).decode() == tip()

    run(scenario)


def test_two_fanout_replicas_deliver_each_event_once_in_order(story: Story) -> None:
    async def scenario() -> None:
        with fanout_thread(), fanout_thread(batch=3):
            client = await connect()
            await subscribe(client, aggregate_types=["post"])
            written = published(story, 12)
            received = await frames_until(client, ("post.published", written[-1]))
            # Both replicas idle at the end, saying where it is: a connection that had lost a message would close
            # now; the heartbeats reached it before the later event, which it must still get.
            await heartbeats(tip(), 2)
            after = published(story, 1)
            received += await frames_until(client, ("post.published", after[0]))
            await client.disconnect()
        assert post_ids_of(received) == written + after
        assert in_order(received)

    run(scenario)


def test_a_fanout_restarting_after_its_position_was_trimmed_makes_subscribers_resync(story: Story) -> None:
    async def scenario() -> None:
        client = await connect()
        await subscribe(client, aggregate_types=["post"])
        with fanout_thread():
            published(story, 1)
            last = (await frames(client, 1))[0]["position"]
        published(story, 3)
        redis_client().xtrim(notice_stream(), maxlen=1, approximate=False)  # while the fan-out is down
        with fanout_thread():
            published(story, 1)
            closed = await client.receive_output(timeout=WAIT)
            await client.disconnect()
            again = await connect()
            [resync] = await subscribe(again, aggregate_types=["post"], resume_from=last)
            await again.disconnect()
        assert closed["code"] == CloseCode.RESUME_REQUIRED
        assert resync["type"] == "resync_required"

    run(scenario)


def test_notices_the_projector_lost_make_a_live_subscriber_resume_and_the_resume_ask_for_a_resync(story: Story) -> None:
    async def scenario() -> None:
        with fanout_thread():
            live = await connect()
            await subscribe(live, aggregate_types=["post"])
            first = published(story, 1)
            seen = await frames_until(live, ("post.published", first[-1]))
            working = story.notices.client  # the projector's Notices, on a Redis that refuses it for one batch:
            story.notices.client = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))  # nothing listens
            published(story, 1)  # searchable, its notices lost
            story.notices.client = working
            after = published(story, 1)  # the first notices written again follow a gap marker
            closed = await live.receive_output(timeout=WAIT)
            await live.disconnect()
            again = await connect()
            received = await subscribe(again, aggregate_types=["post"], resume_from=seen[-1]["position"])
            await again.disconnect()
        assert closed["code"] == CloseCode.RESUME_REQUIRED
        resync, *caught_up = received
        assert resync["type"] == "resync_required"
        assert "were lost" in resync["reason"]
        assert post_ids_of(caught_up) == after  # and the stream goes on past the gap

    run(scenario)
