"""The stream's guard rails: bad frames get error frames, limits hold, foreign origins are refused (in process)."""

from __future__ import annotations

from typing import Any

import pytest

from events.stream import CloseCode
from query_service.stream.routing import websocket_application
from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import (
    WebsocketCommunicator,
    connect,
    fanout_thread,
    frames,
    frames_until,
    kinds,
    run,
    subscribe,
)


async def error_of(client: WebsocketCommunicator) -> str:
    frame = await client.receive_json_from(timeout=5)
    assert frame["type"] == "error", frame
    return frame["message"]


def test_malformed_frames_get_error_frames_and_the_connection_stays_usable(story: Story) -> None:
    ann = story.register("ann")

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client, aggregate_types=["user"])
            await client.send_to(text_data="{not json")
            assert "JSON" in await error_of(client)
            await client.send_to(text_data='["subscribe"]')
            assert "not a frame" in await error_of(client)
            await client.send_json_to({"type": "unsubscribe"})
            assert "not a frame" in await error_of(client)
            await client.send_json_to({"type": "subscribe", "aggregate_types": ["tag"]})
            assert "aggregate_types[0]: must be one of" in await error_of(client)
            await client.send_json_to({"type": "subscribe", "resume_from": "latest"})
            assert "resume_from: must be a Redis stream id" in await error_of(client)
            await client.send_json_to({"type": "error", "message": "hi"})
            assert "clients send subscribe frames" in await error_of(client)
            await client.send_to(bytes_data=b'{"type": "subscribe"}')
            assert "not binary" in await error_of(client)
            await client.send_to(text_data="[" * 3000)
            assert await error_of(client)
            # the subscription from before the bad frames is still the one in force
            story.post(ann, "Not a user event")
            users_event = story.register("bob")
            story.project()
            marker = story.register("marker")  # announced after the above
            story.project()
            registered = [("user.registered", str(ann.user_id)), ("user.registered", str(users_event.user_id))]
            assert kinds(await frames_until(client, ("user.registered", str(marker.user_id))))[:-1] == registered
            await client.disconnect()

    run(scenario)


def test_too_many_filter_values_get_an_error_frame(story: Story, settings: Any) -> None:
    settings.STREAM_MAX_FILTER_VALUES = 5

    async def scenario() -> None:
        client = await connect()
        await client.send_json_to({"type": "subscribe", "tags": ["a", "b", "c", "d"], "aggregate_types": ["post"]})
        await client.send_json_to({"type": "subscribe", "tags": ["a", "b", "c", "d", "e"], "author_id": "7"})
        assert "at most 5 filter values, this one has 6" in await error_of(client)
        await client.send_json_to({"type": "confirm"})  # answered once both frames before it were handled
        assert "not a frame" in await error_of(client)  # and answered next: the others sent nothing more
        await client.disconnect()

    run(scenario)


def test_an_oversized_frame_closes_the_connection_with_1009(story: Story) -> None:
    async def scenario() -> None:
        client = await connect()
        await client.send_json_to({"type": "subscribe", "tags": ["x" * 100] * 40})
        closed = await client.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": CloseCode.MESSAGE_TOO_BIG, "reason": closed["reason"]}
        assert "at most 4096 bytes" in closed["reason"]
        await client.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:8001", True),
        ("http://127.0.0.1", True),
        ("https://app.example.com", True),
        ("https://evil.example.com", False),
        ("http://localhost.evil.com", False),
        ("null", False),
        (None, True),  # not a browser: nothing to protect, and it could claim any origin
    ],
)
def test_browsers_on_foreign_origins_are_refused(
    story: Story, settings: Any, origin: str | None, allowed: bool
) -> None:
    settings.STREAM_ALLOWED_ORIGINS = ["https://app.example.com"]

    async def scenario() -> None:
        headers = [(b"origin", origin.encode())] if origin else []
        client = WebsocketCommunicator(websocket_application(), "/stream", headers=headers)
        connected, _ = await client.connect(timeout=5)
        assert connected is allowed
        await client.disconnect()

    run(scenario)


def test_a_new_subscribe_replaces_the_subscription_and_without_resume_from_starts_now(story: Story) -> None:
    ann = story.register("ann")
    story.project()

    async def scenario() -> None:
        with fanout_thread():
            client = await connect()
            await subscribe(client, aggregate_types=["user"], resume_from=None)
            bob = story.register("bob")
            story.project()
            assert kinds(await frames(client, 1)) == [("user.registered", str(bob.user_id))]  # not ann's, from before
            await subscribe(client, aggregate_types=["post"], resume_from=None)
            post_id = story.post(ann, "Now")
            story.register("cid")
            story.project()
            marker = story.post(ann, "Marker")  # announced after the above
            story.project()
            assert kinds(await frames_until(client, ("post.published", str(marker)))) == [
                ("post.published", str(post_id)), ("post.published", str(marker))
            ]  # fmt: skip
            await client.disconnect()

    run(scenario)
