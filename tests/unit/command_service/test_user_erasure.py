"""user_erase against the fake unit of work: who may erase, what it deletes and records, and what is left."""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import NotFound, PermissionDenied, ValidationFailed
from command_service.domain.users import erased_username
from command_service.services.comments import comment_delete
from command_service.services.users import user_erase, user_register
from events.types import CommentDeleted, PostDeleted, UserErased
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import PASSWORD, comment_on, post_in


def test_a_user_erases_themself_with_their_password(uow: FakeUnitOfWork, alice: Actor, bob: Actor) -> None:
    draft, published = post_in(uow, alice, "draft"), post_in(uow, alice, "published")
    gone = post_in(uow, alice, "deleted")
    bobs_post = post_in(uow, bob, "published")
    on_bobs = comment_on(uow, bobs_post, alice)
    own_comment = comment_on(uow, published, alice)
    bobs_comment = comment_on(uow, published, bob)

    written = user_erase(user_id=alice.user_id, actor=alice, password=PASSWORD, uow=uow)

    assert [event.payload for event in uow.outbox] == [
        PostDeleted(post_id=str(draft)),
        PostDeleted(post_id=str(published)),
        CommentDeleted(comment_id=str(on_bobs), post_id=str(bobs_post)),
        CommentDeleted(comment_id=str(own_comment), post_id=str(published)),
        UserErased(user_id=str(alice.user_id)),
    ]  # the post deleted before gets no second event; Bob's comment is Bob's
    assert (written.aggregate_type, written.aggregate_id) == ("user", alice.user_id)
    assert uow.forgotten == [alice.user_id]
    assert uow.posts.get(gone).status == "deleted"
    assert not uow.comments.get(bobs_comment).is_deleted
    with pytest.raises(NotFound):
        uow.users.get(alice.user_id, include_inactive=True)
    stored = uow.users.committed[alice.user_id]
    assert (stored.username, stored.display_name, stored.avatar_url, stored.bio, stored.is_active) == (
        erased_username(alice.user_id), "", None, "", False,
    )  # fmt: skip


def test_an_erased_account_is_not_found_again_and_its_username_is_free(uow: FakeUnitOfWork, alice: Actor) -> None:
    user_erase(user_id=alice.user_id, actor=alice, password=PASSWORD, uow=uow)
    uow.outbox.clear()

    with pytest.raises(NotFound):
        user_erase(user_id=alice.user_id, actor=alice, password=PASSWORD, uow=uow)
    assert uow.outbox == []
    again = user_register(username="alice", password=PASSWORD, display_name="Another Alice", uow=uow)
    assert again.aggregate_id != alice.user_id


@pytest.mark.parametrize("password", [None, "", "wrong horse", PASSWORD + "x" * 5000])
def test_erasing_oneself_needs_the_current_password(uow: FakeUnitOfWork, alice: Actor, password: str | None) -> None:
    post_in(uow, alice, "published")
    before = uow.committed_state()

    with pytest.raises(ValidationFailed) as caught:
        user_erase(user_id=alice.user_id, actor=alice, password=password, uow=uow)

    assert caught.value.fields == {"password": ["is not the current password"]}
    assert uow.committed_state() == before
    assert uow.forgotten == []


def test_someone_else_may_not_erase_an_account(uow: FakeUnitOfWork, alice: Actor, bob: Actor) -> None:
    before = uow.committed_state()

    with pytest.raises(PermissionDenied):
        user_erase(user_id=alice.user_id, actor=bob, password=PASSWORD, uow=uow)

    assert uow.committed_state() == before


def test_staff_erase_anyone_without_their_password(uow: FakeUnitOfWork, alice: Actor, bob: Actor, staff: Actor) -> None:
    comment = comment_on(uow, post_in(uow, alice, "published"), bob)
    comment_delete(comment_id=comment, actor=bob, uow=uow)
    uow.outbox.clear()

    user_erase(user_id=bob.user_id, actor=staff, uow=uow)

    assert [event.event_type for event in uow.outbox] == ["user.erased"]  # the comment was already deleted
    assert uow.forgotten == [bob.user_id]
