"""Staff moderation through the services: restoring a hidden post, deactivating and reactivating an account."""

from __future__ import annotations

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import InvalidTransition, NotFound, PermissionDenied
from command_service.services.posts import post_restore, post_unpublish
from command_service.services.users import user_deactivate, user_profile_change, user_reactivate
from events.types import PostPublished, UserDeactivated, UserReactivated
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import only_event, post_in


def test_restore_republishes_a_hidden_post_with_its_first_publication_time(
    uow: FakeUnitOfWork, alice: Actor, staff: Actor
) -> None:
    post_id = post_in(uow, alice, "published")
    first_published = uow.posts.get(post_id).published_at
    post_unpublish(post_id=post_id, actor=staff, uow=uow)
    uow.outbox.clear()
    uow.advance(hours=1)

    written = post_restore(post_id=post_id, actor=staff, uow=uow)

    assert written.version == 4
    assert only_event(uow).payload == PostPublished(post_id=str(post_id), published_at=first_published)
    assert uow.posts.get(post_id).status == "published"


@pytest.mark.parametrize("status", ["draft", "published", "archived"])
def test_only_a_hidden_post_can_be_restored(uow: FakeUnitOfWork, alice: Actor, staff: Actor, status: str) -> None:
    post_id = post_in(uow, alice, status)

    with pytest.raises(InvalidTransition, match="only a hidden post"):
        post_restore(post_id=post_id, actor=staff, uow=uow)
    assert uow.outbox == []


def test_restore_is_for_staff_or_the_author(uow: FakeUnitOfWork, alice: Actor, bob: Actor, staff: Actor) -> None:
    post_id = post_in(uow, alice, "published")
    post_unpublish(post_id=post_id, actor=staff, uow=uow)

    with pytest.raises(NotFound):  # a draft of someone else's: bob may not know it exists
        post_restore(post_id=post_id, actor=bob, uow=uow)


def test_deactivate_then_reactivate_bumps_the_version_with_an_event_each(
    uow: FakeUnitOfWork, bob: Actor, staff: Actor
) -> None:
    assert user_deactivate(user_id=bob.user_id, actor=staff, uow=uow).version == 2
    assert only_event(uow).payload == UserDeactivated(user_id=str(bob.user_id))
    with pytest.raises(NotFound):  # a deactivated account is no longer found by the other commands
        user_profile_change(user_id=bob.user_id, actor=bob, bio="Hi", uow=uow)
    uow.outbox.clear()

    assert user_reactivate(user_id=bob.user_id, actor=staff, uow=uow).version == 3
    assert only_event(uow).payload == UserReactivated(user_id=str(bob.user_id))
    assert uow.users.get(bob.user_id).is_active


def test_deactivation_is_for_staff_only_and_never_of_oneself(
    uow: FakeUnitOfWork, alice: Actor, bob: Actor, staff: Actor
) -> None:
    with pytest.raises(PermissionDenied, match="only staff"):
        user_deactivate(user_id=bob.user_id, actor=alice, uow=uow)
    with pytest.raises(PermissionDenied, match="their own account"):
        user_deactivate(user_id=staff.user_id, actor=staff, uow=uow)
    assert uow.outbox == []


def test_deactivating_twice_or_reactivating_an_active_account_is_refused(
    uow: FakeUnitOfWork, bob: Actor, staff: Actor
) -> None:
    with pytest.raises(InvalidTransition, match="is active"):
        user_reactivate(user_id=bob.user_id, actor=staff, uow=uow)
    user_deactivate(user_id=bob.user_id, actor=staff, uow=uow)
    uow.outbox.clear()

    with pytest.raises(InvalidTransition, match="already deactivated"):
        user_deactivate(user_id=bob.user_id, actor=staff, uow=uow)
    assert uow.outbox == []
