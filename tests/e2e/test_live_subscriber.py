"""A live subscriber on the public WebSocket receives a user's story as it becomes searchable, in order, and
resumes after a disconnect with exactly what it missed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import System


def _order(position: str) -> tuple[int, int]:
    milliseconds, sequence = position.split("-")
    return int(milliseconds), int(sequence)


@contextmanager
def _subscribed(system: System, **frame: Any) -> Iterator[tuple[ClientConnection, list[dict[str, Any]]]]:
    """A connection whose subscription is in force, and the event frames its handling sent (what it caught up on).

    A subscription has no reply of its own: the server handles a client's frames in order, so the error frame
    answering a deliberately bad frame sent right after it confirms it.
    """
    with connect(f"ws://127.0.0.1:{system.query_port}/stream", open_timeout=10) as socket:
        socket.send(json.dumps({"type": "subscribe", **frame}))
        socket.send(json.dumps({"type": "confirm"}))
        caught_up = []
        while (reply := json.loads(socket.recv(timeout=30)))["type"] != "error":
            assert reply["type"] == "event", reply
            caught_up.append(reply)
        assert reply["message"].startswith("not a frame"), reply
        yield socket, caught_up


def _events_until(
    socket: ClientConnection, done: Any, timeout: float = 30, frames: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Event frames, after `frames` (already received), until `done(frames)`."""
    frames = list(frames or [])
    while not done(frames):
        frame = json.loads(socket.recv(timeout=timeout))
        assert frame["type"] == "event", frame
        frames.append(frame)
    return frames


def test_a_subscriber_sees_the_story_live_and_resumes_what_it_missed(system: System) -> None:
    author_id, token = system.user("live_author", "Live Writer")
    with _subscribed(system, author_id=author_id, aggregate_types=["post", "comment"]) as (socket, caught_up):
        assert caught_up == []  # live from now on: the writes below come after the subscription is in force
        created = system.command(
            "POST", "posts/", {"title": "Live one", "content": "Streamed.", "tags": ["live"]}, token
        )
        post_id = str(created.body["id"])
        system.command("POST", f"posts/{post_id}/publish/", {}, token)
        comment = system.command("POST", f"posts/{post_id}/comments/", {"body": "Self-reply"}, token)

        frames = _events_until(socket, lambda got: len(got) >= 2)

    # Order holds per aggregate; a post and its comment are two aggregates on two topics, so either may come first.
    by_type = {frame["event"]["event_type"]: frame for frame in frames}
    assert sorted((t, f["event"]["aggregate_id"]) for t, f in by_type.items()) == [
        ("comment.added", str(comment.body["id"])), ("post.published", post_id)
    ]  # fmt: skip  # the draft's post.created never goes out
    assert by_type["post.published"]["document"]["title"] == "Live one"
    assert by_type["post.published"]["document"]["author"]["display_name"] == "Live Writer"
    assert by_type["comment.added"]["document"]["post_id"] == post_id

    missed = system.command("DELETE", f"posts/{post_id}/", None, token)  # while disconnected
    assert missed.status == 204
    after = max((frame["position"] for frame in frames), key=_order)

    def deleted(got: list[dict[str, Any]]) -> bool:
        return any(f["event"]["event_type"] == "post.deleted" for f in got)

    resumed = _subscribed(system, author_id=author_id, aggregate_types=["post", "comment"], resume_from=after)
    with resumed as (socket, caught_up):
        more = _events_until(socket, deleted, frames=caught_up)

    assert more[-1]["event"]["aggregate_id"] == post_id
    assert more[-1]["document"] is None  # gone from the lists: no content goes out
    assert all(_order(f["position"]) > _order(after) for f in more)
