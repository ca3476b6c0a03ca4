"""Every command is all or nothing: a failure, or a stale expected version, leaves no row and no event behind."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from command_service.domain.actors import Actor
from command_service.domain.errors import StaleVersion
from command_service.services import comments, posts, users
from command_service.services.comments import comment_add, comment_delete, comment_edit
from command_service.services.posts import (
    post_archive,
    post_create,
    post_delete,
    post_edit,
    post_publish,
    post_restore,
    post_tags_set,
    post_unpublish,
)
from command_service.services.unit_of_work import Written
from command_service.services.users import (
    user_deactivate,
    user_erase,
    user_profile_change,
    user_reactivate,
    user_register,
)
from tests.unit.command_service.fakes import FakeUnitOfWork
from tests.unit.command_service.scenario import PASSWORD, comment_on, post_in, register


@dataclass(frozen=True)
class World:
    """Alice's draft, published and hidden post, Bob's comment on the published one, a moderator, a deactivated
    user."""

    alice: Actor
    bob: Actor
    draft_id: int
    post_id: int
    comment_id: int
    staff: Actor
    hidden_id: int
    inactive_id: int


@pytest.fixture
def world(uow: FakeUnitOfWork, alice: Actor, bob: Actor, staff: Actor) -> World:
    post_id = post_in(uow, alice, "published")
    hidden_id = post_in(uow, alice, "published")
    post_unpublish(post_id=hidden_id, actor=staff, uow=uow)
    inactive_id = register(uow, "dora").user_id
    user_deactivate(user_id=inactive_id, actor=staff, uow=uow)
    uow.outbox.clear()
    draft_id = post_in(uow, alice, "draft")
    return World(alice, bob, draft_id, post_id, comment_on(uow, post_id, bob), staff, hidden_id, inactive_id)


Command = Callable[..., Written]
COMMANDS: dict[str, Command] = {
    "user_register": lambda w, **kw: user_register(username="carol", password=PASSWORD, display_name="Carol", **kw),
    "user_profile_change": lambda w, **kw: user_profile_change(user_id=w.bob.user_id, actor=w.bob, bio="Hi", **kw),
    "post_create": lambda w, **kw: post_create(actor=w.alice, title="New", content="Words.", tags=["a"], **kw),
    "post_edit": lambda w, **kw: post_edit(post_id=w.post_id, actor=w.alice, title="T", content="C", **kw),
    "post_tags_set": lambda w, **kw: post_tags_set(post_id=w.post_id, actor=w.alice, tags=["b"], **kw),
    "post_publish": lambda w, **kw: post_publish(post_id=w.draft_id, actor=w.alice, **kw),
    "post_unpublish": lambda w, **kw: post_unpublish(post_id=w.post_id, actor=w.alice, **kw),
    "post_archive": lambda w, **kw: post_archive(post_id=w.post_id, actor=w.alice, **kw),
    "post_delete": lambda w, **kw: post_delete(post_id=w.post_id, actor=w.alice, **kw),
    "post_restore": lambda w, **kw: post_restore(post_id=w.hidden_id, actor=w.staff, **kw),
    "user_deactivate": lambda w, **kw: user_deactivate(user_id=w.bob.user_id, actor=w.staff, **kw),
    "user_reactivate": lambda w, **kw: user_reactivate(user_id=w.inactive_id, actor=w.staff, **kw),
    "comment_add": lambda w, **kw: comment_add(post_id=w.post_id, actor=w.bob, body="Me too.", **kw),
    "comment_edit": lambda w, **kw: comment_edit(comment_id=w.comment_id, actor=w.bob, body="Edited.", **kw),
    "comment_delete": lambda w, **kw: comment_delete(comment_id=w.comment_id, actor=w.bob, **kw),
    "user_erase": lambda w, **kw: user_erase(user_id=w.inactive_id, actor=w.staff, **kw),
}
# The version each changing command finds in `world`.
CURRENT_VERSIONS = {
    "user_profile_change": 1,
    "post_edit": 2,
    "post_tags_set": 2,
    "post_publish": 1,
    "post_unpublish": 2,
    "post_archive": 2,
    "post_delete": 2,
    "post_restore": 3,
    "user_deactivate": 1,
    "user_reactivate": 2,
    "comment_edit": 1,
    "comment_delete": 1,
    "user_erase": 2,
}


def test_every_service_function_is_exercised_here() -> None:
    public = {
        name: function
        for module in (users, posts, comments)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }
    assert set(public) == set(COMMANDS)
    versioned = {
        name for name, function in public.items() if "expected_version" in inspect.signature(function).parameters
    }
    assert versioned == set(CURRENT_VERSIONS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_commits_one_event(uow: FakeUnitOfWork, world: World, name: str) -> None:
    written = COMMANDS[name](world, uow=uow)

    assert [(event.aggregate_id, event.aggregate_version) for event in uow.outbox] == [
        (str(written.aggregate_id), written.version)
    ]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_failure_after_the_change_leaves_nothing(uow: FakeUnitOfWork, world: World, name: str) -> None:
    before = uow.committed_state()
    uow.fail_outbox_with = RuntimeError("the outbox is unavailable")

    with pytest.raises(RuntimeError, match="outbox is unavailable"):
        COMMANDS[name](world, uow=uow)

    assert uow.committed_state() == before
    uow.fail_outbox_with = None
    assert COMMANDS[name](world, uow=uow).version == CURRENT_VERSIONS.get(name, 0) + 1  # nothing was half-written


@pytest.mark.parametrize("name", CURRENT_VERSIONS)
@pytest.mark.parametrize("offset", [-1, 1])
def test_a_stale_expected_version_writes_nothing(uow: FakeUnitOfWork, world: World, name: str, offset: int) -> None:
    before = uow.committed_state()
    stale = CURRENT_VERSIONS[name] + offset

    with pytest.raises(StaleVersion) as caught:
        COMMANDS[name](world, expected_version=stale, uow=uow)

    assert (caught.value.expected, caught.value.current) == (stale, CURRENT_VERSIONS[name])
    assert uow.committed_state() == before


@pytest.mark.parametrize("name", CURRENT_VERSIONS)
def test_the_current_expected_version_is_accepted(uow: FakeUnitOfWork, world: World, name: str) -> None:
    written = COMMANDS[name](world, expected_version=CURRENT_VERSIONS[name], uow=uow)

    assert written.version == CURRENT_VERSIONS[name] + 1
