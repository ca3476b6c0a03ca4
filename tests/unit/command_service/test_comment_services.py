"""comment_add, comment_edit and comment_delete: on published posts only, by whom, and their events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from command_service.domain.actors import Actor
from command_service.domain.comments import Comment
from command_service.domain.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from command_service.services.comments import comment_add, comment_delete, comment_edit
from command_service.services.posts import post_delete, post_unpublish
from command_service.services.unit_of_work import Written
from events.types import AuthorSnapshot, CommentAdded, CommentDeleted, CommentEdited
from tests.unit.command_service.fakes import START, FakeUnitOfWork
from tests.unit.command_service.scenario import comment_on, only_event, post_in, register


def refused(
    uow: FakeUnitOfWork, error: type[DomainError], command: Callable[..., Written], **arguments: object
) -> DomainError:
    """The error of a refused command, after checking that it wrote nothing."""
    before = uow.committed_state()
    with pytest.raises(error) as caught:
        command(**arguments, uow=uow)
    assert uow.committed_state() == before
    return caught.value


@pytest.fixture
def post_id(uow: FakeUnitOfWork, alice: Actor) -> int:
    """A published post by alice."""
    return post_in(uow, alice, "published")


@pytest.fixture
def comment_id(uow: FakeUnitOfWork, post_id: int, bob: Actor) -> int:
    """Bob's comment on alice's post."""
    return comment_on(uow, post_id, bob)


# Adding.


def test_add_stores_the_comment_and_emits_comment_added(uow: FakeUnitOfWork, post_id: int, bob: Actor) -> None:
    written = comment_add(post_id=post_id, actor=bob, body="  Nice post!\n", uow=uow)

    assert written == Written("comment", written.aggregate_id, 1)
    assert uow.comments.get(written.aggregate_id) == Comment(
        written.aggregate_id, post_id, bob.user_id, "Nice post!", START, START, False, 1
    )
    event = only_event(uow)
    assert (event.event_type, event.aggregate_type) == ("comment.added", "comment")
    assert (event.aggregate_id, event.aggregate_version) == (str(written.aggregate_id), 1)
    assert event.payload == CommentAdded(
        comment_id=str(written.aggregate_id),
        post_id=str(post_id),
        author=AuthorSnapshot(
            user_id=str(bob.user_id), username="bob", display_name="Bob", avatar_url=None, user_version=1
        ),
        body="Nice post!",
        created_at=START,
    )


def test_the_post_author_may_comment_too(uow: FakeUnitOfWork, post_id: int, alice: Actor) -> None:
    written = comment_add(post_id=post_id, actor=alice, body="Thanks for reading.", uow=uow)

    assert uow.comments.get(written.aggregate_id).author_id == alice.user_id


@pytest.mark.parametrize(
    ("start", "who", "error"),
    [
        ("draft", "alice", InvalidTransition),
        ("archived", "alice", InvalidTransition),
        ("deleted", "alice", NotFound),
        ("draft", "bob", NotFound),
        ("archived", "bob", NotFound),
        ("deleted", "bob", NotFound),
    ],
)
def test_comments_only_on_published_posts(
    uow: FakeUnitOfWork, alice: Actor, bob: Actor, start: str, who: str, error: type[DomainError]
) -> None:
    post_id = post_in(uow, alice, start)

    caught = refused(uow, error, comment_add, post_id=post_id, actor={"alice": alice, "bob": bob}[who], body="Hi")

    if error is InvalidTransition:
        assert caught.fields == {"post": [f"is {start}"]}


def test_a_comment_on_a_missing_post_is_not_found(uow: FakeUnitOfWork, bob: Actor) -> None:
    refused(uow, NotFound, comment_add, post_id=404, actor=bob, body="Hi")


def test_an_unknown_commenter_adds_nothing(uow: FakeUnitOfWork, post_id: int) -> None:
    refused(uow, NotFound, comment_add, post_id=post_id, actor=Actor(404), body="Hi")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "must not be blank"),
        (" \n\t", "must not be blank"),
        ("x" * 5001, "must be at most 5000 characters (got 5001)"),
    ],
)
def test_body_rules_on_add(uow: FakeUnitOfWork, post_id: int, bob: Actor, body: str, message: str) -> None:
    caught = refused(uow, ValidationFailed, comment_add, post_id=post_id, actor=bob, body=body)

    assert caught.fields == {"body": [message]}


def test_a_body_of_5000_characters_is_allowed(uow: FakeUnitOfWork, post_id: int, bob: Actor) -> None:
    written = comment_add(post_id=post_id, actor=bob, body="x" * 5000, uow=uow)

    assert uow.comments.get(written.aggregate_id).body == "x" * 5000


# Editing.


def test_the_author_edits_a_comment(uow: FakeUnitOfWork, post_id: int, comment_id: int, bob: Actor) -> None:
    later = uow.advance(minutes=3)

    written = comment_edit(comment_id=comment_id, actor=bob, body=" Better words. ", uow=uow)

    assert written == Written("comment", comment_id, 2)
    assert uow.comments.get(comment_id) == Comment(
        comment_id, post_id, bob.user_id, "Better words.", START, later, False, 2
    )
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == ("comment.edited", str(comment_id), 2)
    assert event.payload == CommentEdited(comment_id=str(comment_id), post_id=str(post_id), body="Better words.")


@pytest.mark.parametrize("body", ["", "x" * 5001])
def test_body_rules_on_edit(uow: FakeUnitOfWork, comment_id: int, bob: Actor, body: str) -> None:
    caught = refused(uow, ValidationFailed, comment_edit, comment_id=comment_id, actor=bob, body=body)

    assert list(caught.fields) == ["body"]


@pytest.mark.parametrize("who", ["alice", "staff", "carol"])
def test_only_the_comment_author_edits(
    uow: FakeUnitOfWork, comment_id: int, alice: Actor, staff: Actor, who: str
) -> None:
    actor = register(uow, "carol") if who == "carol" else {"alice": alice, "staff": staff}[who]

    refused(uow, PermissionDenied, comment_edit, comment_id=comment_id, actor=actor, body="Mine now")


def test_a_deleted_comment_is_not_found(uow: FakeUnitOfWork, comment_id: int, bob: Actor) -> None:
    comment_delete(comment_id=comment_id, actor=bob, uow=uow)
    uow.outbox.clear()

    refused(uow, NotFound, comment_edit, comment_id=comment_id, actor=bob, body="Again")
    refused(uow, NotFound, comment_delete, comment_id=comment_id, actor=bob)


def test_a_comment_is_hidden_with_its_post(
    uow: FakeUnitOfWork, post_id: int, comment_id: int, alice: Actor, bob: Actor
) -> None:
    post_unpublish(post_id=post_id, actor=alice, uow=uow)
    uow.outbox.clear()

    refused(uow, NotFound, comment_edit, comment_id=comment_id, actor=bob, body="Still here?")
    refused(uow, NotFound, comment_delete, comment_id=comment_id, actor=bob)


def test_comments_of_a_deleted_post_are_not_found_for_anyone(
    uow: FakeUnitOfWork, post_id: int, comment_id: int, alice: Actor, bob: Actor, staff: Actor
) -> None:
    post_delete(post_id=post_id, actor=alice, uow=uow)
    uow.outbox.clear()

    for actor in (alice, bob, staff):
        refused(uow, NotFound, comment_delete, comment_id=comment_id, actor=actor)
    refused(uow, NotFound, comment_edit, comment_id=comment_id, actor=bob, body="Hello?")


def test_a_missing_comment_is_not_found(uow: FakeUnitOfWork, bob: Actor) -> None:
    refused(uow, NotFound, comment_edit, comment_id=404, actor=bob, body="Hi")
    refused(uow, NotFound, comment_delete, comment_id=404, actor=bob)


# Deleting.


@pytest.mark.parametrize("who", ["bob", "alice", "staff"])
def test_comment_author_post_author_or_staff_delete(
    uow: FakeUnitOfWork, post_id: int, comment_id: int, alice: Actor, bob: Actor, staff: Actor, who: str
) -> None:
    written = comment_delete(comment_id=comment_id, actor={"alice": alice, "bob": bob, "staff": staff}[who], uow=uow)

    assert written == Written("comment", comment_id, 2)
    comment = uow.comments.get(comment_id)
    assert (comment.is_deleted, comment.version) == (True, 2)
    event = only_event(uow)
    assert (event.event_type, event.aggregate_id, event.aggregate_version) == ("comment.deleted", str(comment_id), 2)
    assert event.payload == CommentDeleted(comment_id=str(comment_id), post_id=str(post_id))


def test_another_user_may_not_delete_a_comment(uow: FakeUnitOfWork, comment_id: int) -> None:
    carol = register(uow, "carol")

    refused(uow, PermissionDenied, comment_delete, comment_id=comment_id, actor=carol)
