"""The backfill's rules without a database: which events bring a read model to a row's state, at which versions.

The rows here are brought to each state by the services themselves (on the fake unit of work), so the events the
backfill would write for them are compared with what those rows really are.
"""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import InvalidTransition
from command_service.domain.posts import PostStatus
from command_service.services.backfill import (
    backfill_versions,
    comment_history_events,
    history_of,
    post_history_events,
)
from command_service.services.comments import comment_add, comment_delete
from command_service.services.posts import post_unpublish
from events.types import PostPublished, spec_of
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import post_in


def types(events: tuple[object, ...]) -> list[str]:
    return [spec_of(event).event_type for event in events]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", ["post.created"]),
        ("published", ["post.created", "post.published"]),
        ("archived", ["post.created", "post.published", "post.archived"]),
        ("deleted", ["post.created", "post.published", "post.deleted"]),
    ],
)
def test_a_post_gets_its_creation_then_what_its_status_needs(
    uow: FakeUnitOfWork, alice: Actor, status: str, expected: list[str]
) -> None:
    post_id = post_in(uow, alice, status)

    state = history_of("post", post_id, uow)

    assert types(state.events) == expected
    post = uow.posts.get(post_id)
    assert (state.row_version, state.occurred_at) == (post.version, post.updated_at)
    created = state.events[0]
    assert (created.title, created.tags, created.author.user_version) == ("Hello", ("python",), 1)


def test_a_hidden_post_is_published_then_unpublished_and_keeps_its_publication_time(
    uow: FakeUnitOfWork, alice: Actor
) -> None:
    post_id = post_in(uow, alice, "published")
    published_at = uow.posts.get(post_id).published_at
    uow.advance(hours=1)
    post_unpublish(post_id=post_id, actor=alice, uow=uow)

    events = history_of("post", post_id, uow).events

    assert types(events) == ["post.created", "post.published", "post.unpublished"]
    assert isinstance(events[1], PostPublished)
    assert events[1].published_at == published_at


def test_a_published_post_without_a_publication_time_has_no_history(uow: FakeUnitOfWork, alice: Actor) -> None:
    post = uow.posts.get(post_in(uow, alice, "published"))
    post.published_at = None

    with pytest.raises(InvalidTransition, match="published without a publication time"):
        post_history_events(post, object())
    post.status = PostStatus.ARCHIVED  # archived without ever being published: a state the services give too
    assert types(post_history_events(post, post.created_event(uow.users.get(alice.user_id)))) == [
        "post.created", "post.archived"
    ]  # fmt: skip


def test_a_comment_gets_its_addition_and_its_deletion(uow: FakeUnitOfWork, alice: Actor, bob: Actor) -> None:
    post_id = post_in(uow, alice, "published")
    kept = comment_add(post_id=post_id, actor=bob, body="Nice", uow=uow).aggregate_id
    gone = comment_add(post_id=post_id, actor=bob, body="Oops", uow=uow).aggregate_id
    comment_delete(comment_id=gone, actor=bob, uow=uow)

    assert types(history_of("comment", kept, uow).events) == ["comment.added"]
    assert types(history_of("comment", gone, uow).events) == ["comment.added", "comment.deleted"]
    comment = uow.comments.get(gone)
    assert types(comment_history_events(comment, comment.added_event(uow.users.get(bob.user_id)))) == [
        "comment.added", "comment.deleted"
    ]  # fmt: skip


def test_a_user_gets_its_registration_at_its_version(uow: FakeUnitOfWork, alice: Actor) -> None:
    state = history_of("user", alice.user_id, uow)

    assert types(state.events) == ["user.registered"]
    assert (state.row_version, state.occurred_at) == (1, None)  # no time of its own: the event occurs now


@pytest.mark.parametrize(
    ("row_version", "last_event_version", "count", "expected"),
    [
        (1, 0, 1, [1]),  # an old row: at its version
        (7, 0, 3, [5, 6, 7]),  # room below the row's version: the row keeps it
        (1, 0, 3, [1, 2, 3]),  # no room: from 1, and the row moves to 3
        (2, 2, 1, [3]),  # a later event is there (version 2): after it
        (6, 3, 2, [5, 6]),  # room between the events there and the row's version
        (4, 4, 2, [5, 6]),
    ],
)
def test_versions_end_at_the_row_and_never_meet_an_event_already_written(
    row_version: int, last_event_version: int, count: int, expected: list[int]
) -> None:
    versions = list(backfill_versions(row_version=row_version, last_event_version=last_event_version, count=count))

    assert versions == expected
    assert versions[0] > last_event_version
    assert versions[-1] >= row_version
